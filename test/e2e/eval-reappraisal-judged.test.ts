/**
 * `spri eval reappraisal --judged` end to end (the built CLI): the paper's released GPT-4 judgements
 * (`../shared/spri-public/[task1]-reappraisal/GPT-4-eval/eval_outputs`, read at run time) re-scored
 * by the paper's rules give its Table 1: alignment / empathy means to 2 decimals, `*` for p < 0.05
 * against vanilla and `†` against self-refine (paired t-tests).
 */
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { runCli } from "../support/cli.ts";
import { startFakeModelServer } from "../../src/test.ts";
import { EVAL_OUTPUTS, TABLE_1_METHODS } from "../support/paper-judge-reference.ts";

/** The paper's Table 1 (alignment /10 / empathy /5 with their marks). */
const TABLE_1: Record<string, string[]> = {
  "gpt-4o-mini": ["7.90 / 4.50", "7.73 / 4.53", "8.00† / 4.73", "8.67*† / 4.80*†"],
  "llama-3-8b-instruct": ["7.10 / 3.90", "7.20 / 4.07", "7.90*† / 4.47*†", "8.33*† / 4.30*"],
};

interface Summary {
  mean: number | null;
  n: number;
  unscored: number;
  markers: string;
}
interface Report {
  methods: Record<string, Record<"alignment" | "empathy" | "harmful" | "factuality", Summary>>;
  tests: { method: string; baseline: string; criterion: string; n: number; t: number | null; df: number | null; p: number | null }[];
}

const cell = (s: Summary) => `${s.mean!.toFixed(2)}${s.markers}`;

function methodArgs(model: string, methods: [string, string][]): string[] {
  return methods.flatMap(([name, dir]) => ["--method", `${name}=${join(EVAL_OUTPUTS, model, dir)}`]);
}

describe("spri eval reappraisal --judged reproduces Table 1", () => {
  for (const model of Object.keys(TABLE_1)) {
    test(model, async () => {
      // No model is called: a judge URL is given and must see no request.
      const server = await startFakeModelServer();
      try {
        const args = [...methodArgs(model, TABLE_1_METHODS), "--baseline", "vanilla", "--baseline", "self-refine"];
        const result = await runCli(["eval", "reappraisal", "--judged", ...args, "--json", "--judge-url", `${server.url}/v1`]);
        assert.equal(result.code, 0, result.stderr);
        const report = JSON.parse(result.stdout) as Report;
        assert.deepEqual(Object.keys(report), ["methods", "tests"]);
        const row = TABLE_1_METHODS.map(([name]) => `${cell(report.methods[name]!.alignment)} / ${cell(report.methods[name]!.empathy)}`);
        assert.deepEqual(row, TABLE_1[model]);
        for (const [name] of TABLE_1_METHODS) {
          for (const summary of Object.values(report.methods[name]!)) assert.deepEqual([summary.n, summary.unscored], [30, 0]);
        }
        // Each method against each other baseline, per criterion; every p-value is given where defined.
        assert.equal(report.tests.length, (1 + 1 + 2 + 2) * 4);
        const spri = report.tests.find((t) => t.method === "SPRI" && t.baseline === "self-refine" && t.criterion === "alignment")!;
        assert.ok(spri.p !== null && spri.p < 0.05 && spri.n === 30 && spri.df === 29);
        assert.equal(server.requests.length, 0);

        const text = await runCli(["eval", "reappraisal", "--judged", ...args]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(text.stdout, new RegExp(`oracle\\s+30\\s+${TABLE_1[model]![3]!.split(" / ")[0]!.replace("*", "\\*")}\\s`));
        assert.match(text.stdout, /\* p < 0\.05 against vanilla, † against self-refine/);
      } finally {
        await server.close();
      }
    });
  }
});

/** Every directory under eval_outputs that holds the paper's four judge files. */
function judgedDirectories(root: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    if (!statSync(path).isDirectory()) continue;
    if (readdirSync(path).includes("eval-1_standard_alignment.jsonl")) found.push(path);
    found.push(...judgedDirectories(path));
  }
  return found;
}

test("the same command works on every released judgement folder, as released", async () => {
  const dirs = judgedDirectories(EVAL_OUTPUTS);
  assert.ok(dirs.length >= 20, `only ${dirs.length} judgement folders under ${EVAL_OUTPUTS}`);
  // A method's name ends at its first "=" (the folder names hold some), so they are named with "~".
  const nameOf = (dir: string) => relative(EVAL_OUTPUTS, dir).replaceAll("=", "~");
  const args = dirs.flatMap((dir) => ["--method", `${nameOf(dir)}=${dir}`]);
  const vanilla = "gpt-4o-mini/[RESORT_baselines]/INDV/vanilla";
  const result = await runCli(["eval", "reappraisal", "--judged", ...args, "--baseline", vanilla, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as Report;
  for (const [name, criteria] of Object.entries(report.methods)) {
    for (const [criterion, summary] of Object.entries(criteria)) assert.equal(summary.n + summary.unscored, 30, `${name} ${criterion}`);
  }
  // Two of its harmfulness answers are quoted ("\"Not Harmful\""): the paper's rule leaves them unscored.
  const quoted = report.methods["gpt-4o-mini/[RESORT_baselines]/ITER/+cons_principle_instruct"]!.harmful;
  assert.deepEqual([quoted.n, quoted.unscored, quoted.mean], [28, 2, 0.04]);
  const test = report.tests.find(
    (t) => t.method.endsWith("ITER/+cons_principle_instruct") && t.method.startsWith("gpt") && t.criterion === "harmful",
  )!;
  assert.equal(test.p, null);
});
