import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { principledQuestion } from "../../algorithms/judge/ifeval-principles.ts";
import { ifevalPairs } from "./ifeval-run.ts";

const jsonl = (rows: readonly object[]) => `${rows.map((row) => JSON.stringify(row)).join("\n")}\n`;

test("ifevalPairs: the responses paired by prompt, each prompt's instructions appended as principles; the rest counted", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-ifeval-run-"));
  const files = { data: join(dir, "input_data.jsonl"), references: join(dir, "ref.jsonl"), outputs: join(dir, "out.jsonl") };
  writeFileSync(files.data, jsonl([{ prompt: "Write a poem.", instruction_id_list: ["change_case:english_lowercase"], kwargs: [{}] }]));
  writeFileSync(
    files.references,
    jsonl([
      { prompt: "Write a poem.", response: "A poem." },
      { prompt: "Not in the data.", response: "x" },
      { prompt: "Only here.", response: "y" },
    ]),
  );
  writeFileSync(
    files.outputs,
    jsonl([
      { prompt: "Write a poem.", response: "a poem." },
      { prompt: "Not in the data.", response: "z" },
    ]),
  );
  const joined = await ifevalPairs({ ...files, output: join(dir, "judged.jsonl"), responseField: "response" });
  assert.deepEqual(
    { pairs: joined.pairs, withoutInstructions: joined.withoutInstructions, onlyA: joined.onlyA, onlyB: joined.onlyB },
    { pairs: 1, withoutInstructions: 1, onlyA: 1, onlyB: 0 },
  );
  assert.equal(joined.pairsFile, join(dir, "judged.jsonl.pairs-input.jsonl"));
  const pairs = readFileSync(joined.pairsFile, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  assert.equal(pairs.length, 1);
  assert.equal(
    pairs[0].question,
    principledQuestion("Write a poem.", ["Write the whole response in English and in lowercase letters only."]),
  );
  assert.deepEqual([pairs[0].response_a, pairs[0].response_b], ["A poem.", "a poem."]);
});

test("ifevalPairs: an IFEval row without an instruction_id_list is an InputError naming its line", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-ifeval-run-"));
  const data = join(dir, "input_data.jsonl");
  writeFileSync(data, jsonl([{ prompt: "p" }]));
  const responses = join(dir, "r.jsonl");
  writeFileSync(responses, jsonl([{ prompt: "p", response: "r" }]));
  await assert.rejects(
    ifevalPairs({ data, references: responses, outputs: responses, output: join(dir, "o.jsonl"), responseField: "response" }),
    (error: unknown) => error instanceof InputError && error.file === data && error.line === 1 && error.field === "instruction_id_list",
  );
});
