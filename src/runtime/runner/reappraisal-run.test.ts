import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { GPT4_EVAL } from "../../../test/support/paper-judge-reference.ts";
import { pairKey } from "../../algorithms/judge/reappraisal-report.ts";
import { judgedCases, paperJudgePack, rescoreJudged, writeRecordsReport } from "./reappraisal-run.ts";

const RAW = "evaluation_raw_output-[dim_1]";
const RELEASED: Record<string, unknown> = {
  "eval-1_standard_alignment.jsonl": `${RAW}-[1_standard_alignment]`,
  "eval-2_empathy.jsonl": `${RAW}-[2_empathy]`,
  "eval-3_harmful.jsonl": `${RAW}-[3_harmful]`,
  "eval-4_factuality.jsonl": `${RAW}-[4_factuality]`,
};
const ANSWERS: Record<string, string> = {
  "eval-1_standard_alignment.jsonl": "<score>8</score>",
  "eval-2_empathy.jsonl": "4",
  "eval-3_harmful.jsonl": "Not Harmful",
  "eval-4_factuality.jsonl": "Minor Error",
};

/** A method's directory of released judge files, one case (post p1, dimension 1) in each. */
function releasedDir(root: string, name: string, files = Object.keys(RELEASED)): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const file of files) {
    const row = { "Reddit ID": "p1", appraisal_dimension_id: 1, [RELEASED[file] as string]: ANSWERS[file] };
    writeFileSync(join(dir, file), `${JSON.stringify(row)}\n`);
  }
  return dir;
}

test("rescoreJudged: each method's released files read by the paper's rules, one score map per criterion", async () => {
  const root = mkdtempSync(join(tmpdir(), "spri-reappraisal-run-"));
  const [scored] = await rescoreJudged([{ name: "spri", path: releasedDir(root, "spri") }]);
  const pair = pairKey("p1", 1);
  assert.equal(scored!.name, "spri");
  assert.deepEqual(
    (["alignment", "empathy", "harmful", "factuality"] as const).map((c) => scored!.scores[c].get(pair)),
    [8, 4, 0, 0.5],
  );
});

test("rescoreJudged: a method that is not a directory, or lacks a criterion's file, is an InputError naming the file", async () => {
  const root = mkdtempSync(join(tmpdir(), "spri-reappraisal-run-"));
  const notDir = join(root, "plain.jsonl");
  writeFileSync(notDir, "{}\n");
  await assert.rejects(rescoreJudged([{ name: "a", path: notDir }]), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /--method a: .* is not a directory/);
    return true;
  });
  const partial = releasedDir(root, "b", ["eval-1_standard_alignment.jsonl"]);
  await assert.rejects(rescoreJudged([{ name: "b", path: partial }]), (error: unknown) => {
    assert.ok(error instanceof InputError);
    assert.match(error.message, /has no eval-2_empathy\.jsonl/);
    assert.equal(error.file, join(partial, "eval-2_empathy.jsonl"));
    return true;
  });
});

test("judgedCases: one case per method and pair, with the fields a fresh evaluation writes", () => {
  const pair = pairKey("p1", 1);
  const only = (value: number | null) => new Map([[pair, value]]);
  const cases = judgedCases([
    { name: "spri", scores: { alignment: only(8), empathy: only(4), harmful: new Map(), factuality: only(null) } },
  ]);
  assert.deepEqual(cases, [
    {
      id: `spri/${pair}`,
      record: { method: "spri", pair, eval_alignment: 8, eval_empathy: 4, eval_harmful: null, eval_factuality: null },
    },
  ]);
});

test("writeRecordsReport: the judged records' report per method, also written to <output>.summary.json", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-reappraisal-run-"));
  const output = join(dir, "judged.jsonl");
  const records = [
    { id: "a/1", method: "a", pair: "p1", eval_alignment: 8, eval_empathy: 4, eval_harmful: 0, eval_factuality: 1 },
    { id: "b/1", method: "b", pair: "p1", eval_alignment: 6, eval_empathy: null, eval_harmful: 0, eval_factuality: 1 },
  ];
  writeFileSync(output, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const report = await writeRecordsReport(output, ["a", "b"], ["b"]);
  assert.equal(report.methods.a!.alignment.mean, 8);
  assert.equal(report.methods.b!.empathy.unscored, 1);
  assert.deepEqual(JSON.parse(readFileSync(`${output}.summary.json`, "utf8")), JSON.parse(JSON.stringify(report)));
});

test("paperJudgePack: none without prompt directories; the pack of the first directory holding eval_prompts.py; else a ConfigError", () => {
  assert.equal(paperJudgePack(undefined), undefined);
  assert.equal(paperJudgePack([]), undefined);
  const empty = mkdtempSync(join(tmpdir(), "spri-reappraisal-run-"));
  assert.equal(paperJudgePack([empty, GPT4_EVAL])?.dir, resolve(GPT4_EVAL));
  assert.throws(
    () => paperJudgePack([empty]),
    (error: unknown) => error instanceof ConfigError && error.field === "prompts" && /no eval_prompts\.py/.test(error.message),
  );
});
