import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { InputError } from "../../base/errors/errors.ts";
import { DISCOVERY_PROMPTS } from "../../io/prompts/builtin-discovery.ts";
import { exportTrainingData } from "./training-export.ts";

const accepted = (id: string, z: string) => ({
  id,
  prompt: `question ${id}`,
  gold: "gold",
  y1: `first answer ${id}`,
  accepted: true,
  best: { k: 1, z, critique: "It misses the steps.", y2: `refined answer ${id}`, fY2: 0.5, gain: 0.2 },
  y2: `refined answer ${id}`,
});
const RECORDS = [
  accepted("a", "Be specific: name the steps."),
  { id: "b", prompt: "question b", y1: "x", accepted: false, best: null, decision: "no-gain" },
  accepted("c", "Cite sources: back claims with references."),
  { id: "d", prompt: "question d", y1: "x", accepted: true, best: { z: "z", y2: "" } },
];

function fixture(): { dir: string; input: string } {
  const dir = mkdtempSync(join(tmpdir(), "spri-discovery-export-"));
  const input = join(dir, "mined.jsonl");
  writeFileSync(input, RECORDS.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return { dir, input };
}

const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test("trl: prompt [user x, assistant y1, user trigger], completion [assistant target]; y1 is never in the completion", async () => {
  const { dir, input } = fixture();
  const output = join(dir, "sft.jsonl");
  const summary = await exportTrainingData({ input, output, format: "trl" });
  assert.equal(summary.read, 4);
  assert.equal(summary.exported, 2);
  assert.deepEqual(summary.skipped, { malformed: 0, "not-an-object": 0, "not-accepted": 1, "no-question": 0, incomplete: 1 });
  const rows = readJsonl(output);
  assert.deepEqual(rows[0], {
    prompt: [
      { role: "user", content: "question a" },
      { role: "assistant", content: "first answer a" },
      { role: "user", content: DISCOVERY_PROMPTS.selfCorrectTrigger },
    ],
    completion: [
      {
        role: "assistant",
        content: "[Principle] Be specific: name the steps.\n[Critique] It misses the steps.\n[Revised response]\nrefined answer a",
      },
    ],
  });
  for (const row of rows) assert.ok(!JSON.stringify(row.completion).includes("first answer"));
  assert.equal(summary.sha256, createHash("sha256").update(readFileSync(output)).digest("hex"));
  assert.match(readFileSync(`${output}.README.md`, "utf8"), /Latent Principle Discovery/);
});

test("openai: y1 carries weight 0 and the self-correction weight 1; Parquet is refused", async () => {
  const { dir, input } = fixture();
  const output = join(dir, "openai.jsonl");
  await exportTrainingData({ input, output, format: "openai", includeCritique: false, card: false });
  const rows = readJsonl(output);
  const messages = rows[1]!.messages as Record<string, unknown>[];
  assert.deepEqual(
    messages.map((m) => [m.role, m.weight]),
    [
      ["user", undefined],
      ["assistant", 0],
      ["user", undefined],
      ["assistant", 1],
    ],
  );
  assert.equal(messages[3]!.content, "[Principle] Cite sources: back claims with references.\n[Revised response]\nrefined answer c");
  assert.equal(existsSync(`${output}.README.md`), false);
  await assert.rejects(exportTrainingData({ input, output: join(dir, "openai.parquet"), format: "openai" }), InputError);
});

test("star: the refinement alone, as a Parquet prompt-completion file", async () => {
  const { dir, input } = fixture();
  const output = join(dir, "star.parquet");
  const summary = await exportTrainingData({ input, output, format: "star", card: false });
  assert.equal(summary.fileType, "parquet");
  const buffer = await asyncBufferFromFile(output);
  const rows = await parquetReadObjects({ file: buffer, metadata: await parquetMetadataAsync(buffer) });
  assert.deepEqual(rows[0], {
    prompt: [{ role: "user", content: "question a" }],
    completion: [{ role: "assistant", content: "refined answer a" }],
  });
  assert.equal(rows.length, 2);
});

test("label replacement: a member maps to its representative, an unknown principle to the nearest one", async () => {
  const constitution = {
    principles: [
      { id: "p1", text: "Be concrete: give exact steps and numbers.", size: 2, members: ["Be specific: name the steps.", "Give numbers."] },
      { id: "p2", text: "Support claims with cited references.", size: 1, members: [{ text: "Cite papers." }] },
    ],
  };
  const { dir, input } = fixture();
  const output = join(dir, "relabelled.jsonl");
  const summary = await exportTrainingData({
    input,
    output,
    format: "trl",
    constitution,
    constitutionFile: join(dir, "constitution.json"),
    card: false,
  });
  assert.deepEqual(summary.relabelled, { canonical: 0, member: 1, nearest: 1 });
  const completion = (readJsonl(output)[0]!.completion as { content: string }[])[0]!.content;
  assert.ok(completion.startsWith("[Principle] Be concrete: give exact steps and numbers.\n"));

  // A labelled copy (zCanonical from `spri discover cluster`) wins over the constitution lookup.
  const labelledInput = join(dir, "labelled.jsonl");
  writeFileSync(
    labelledInput,
    `${JSON.stringify({ ...accepted("e", "Be specific: name the steps."), zCanonical: "Medoid text.", clusterId: "c3" })}\n`,
  );
  const out2 = join(dir, "from-labelled.jsonl");
  const s2 = await exportTrainingData({ input: labelledInput, output: out2, format: "trl", constitution, card: false });
  assert.deepEqual(s2.relabelled, { canonical: 1, member: 0, nearest: 0 });
  assert.ok((readJsonl(out2)[0]!.completion as { content: string }[])[0]!.content.startsWith("[Principle] Medoid text.\n"));
  const s3 = await exportTrainingData({ input: labelledInput, output: out2, format: "trl", useCanonical: false, card: false });
  assert.deepEqual(s3.relabelled, { canonical: 0, member: 0, nearest: 0 });
});

test("training request: data file with sha256 and count, base model, suggested settings, TRL config beside it", async () => {
  const { dir, input } = fixture();
  const output = join(dir, "iter-1", "sft.jsonl");
  const requestFile = join(dir, "iter-1", "mstep.request.json");
  const summary = await exportTrainingData({
    input,
    output,
    format: "trl",
    request: { file: requestFile, baseModel: "meta-llama/Llama-3.1-8B-Instruct", iter: 1, seed: 7 },
  });
  const request = JSON.parse(readFileSync(requestFile, "utf8")) as Record<string, any>;
  assert.equal(request.schema, "spri.discovery.mstep.v1");
  assert.equal(request.iter, 1);
  assert.deepEqual(request.initFrom, { model: "meta-llama/Llama-3.1-8B-Instruct" });
  assert.deepEqual(request.train, [{ file: "sft.jsonl", format: "trl.conversational.prompt_completion", n: 2, sha256: summary.sha256 }]);
  assert.equal(request.lossOn, "completion");
  assert.equal(request.suggestedHparams.learningRate, 1e-5);
  assert.equal(request.seed, 7);
  assert.equal(request.exampleCommand, "trl sft --config mstep.request.json.trl.yaml");
  const yaml = readFileSync(`${requestFile}.trl.yaml`, "utf8");
  assert.match(yaml, /^model_name_or_path: "meta-llama\/Llama-3.1-8B-Instruct"$/m);
  assert.match(yaml, /^ {4}data_files: "sft.jsonl"$/m);
  assert.match(yaml, /^completion_only_loss: true$/m);
  assert.match(yaml, /^output_dir: "out\/mstep-iter1"$/m);
});

test("alpaca: a base model's prompt-completion text with the Alpaca template, y1 in the prompt and the target as completion", async () => {
  const { dir, input } = fixture();
  const output = join(dir, "alpaca.jsonl");
  await exportTrainingData({ input, output, format: "alpaca", card: false });
  const row = readJsonl(output)[0]!;
  assert.equal(typeof row.prompt, "string");
  assert.match(
    String(row.prompt),
    /^Below is an instruction that describes a task\. .*\n\n### Instruction:\nquestion a\n\n### Response:\nfirst answer a\n\n### Instruction:\n/s,
  );
  assert.match(String(row.prompt), /### Response:\n$/);
  assert.equal(
    row.completion,
    "[Principle] Be specific: name the steps.\n[Critique] It misses the steps.\n[Revised response]\nrefined answer a",
  );
});

test("validation split: held-out examples go to <output>.valid.jsonl, never also to the training file; the same seed splits the same", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-discovery-valid-"));
  const input = join(dir, "mined.jsonl");
  writeFileSync(input, Array.from({ length: 40 }, (_, i) => JSON.stringify(accepted(`r${i}`, `Principle ${i}.`))).join("\n") + "\n");
  const output = join(dir, "sft.jsonl");
  const summary = await exportTrainingData({ input, output, format: "openai", validation: 0.25, card: false });
  const train = readJsonl(output).map((r) => JSON.stringify(r));
  const valid = readJsonl(join(dir, "sft.valid.jsonl")).map((r) => JSON.stringify(r));
  assert.equal(summary.validation?.file, join(dir, "sft.valid.jsonl"));
  assert.equal(summary.validation?.n, valid.length);
  assert.equal(summary.exported, train.length);
  assert.equal(train.length + valid.length, 40);
  assert.ok(valid.length > 0 && valid.length < 20, `held out ${valid.length}`);
  assert.equal(train.filter((t) => valid.includes(t)).length, 0);
  const again = await exportTrainingData({ input, output: join(dir, "again.jsonl"), format: "openai", validation: 0.25, card: false });
  assert.equal(again.validation?.sha256, summary.validation?.sha256);
});

test("training request of a Parquet export with --restart-from-base: every iteration's file, each loaded by its own type", async () => {
  const { dir, input } = fixture();
  const first = await exportTrainingData({ input, output: join(dir, "iter-1", "sft.jsonl"), format: "trl", card: false });
  const requestFile = join(dir, "iter-2", "mstep.request.json");
  await exportTrainingData({
    input,
    output: join(dir, "iter-2", "sft.parquet"),
    format: "trl",
    card: false,
    request: { file: requestFile, baseModel: "M0", iter: 2, restartFromBase: true, previousFiles: [first.output] },
  });
  const request = JSON.parse(readFileSync(requestFile, "utf8")) as Record<string, any>;
  assert.deepEqual(
    request.train.map((t: { file: string; n: number; sha256: string }) => [t.file, t.n, t.sha256 === first.sha256]),
    [
      ["../iter-1/sft.jsonl", 2, true],
      ["sft.parquet", 2, false],
    ],
  );
  const yaml = readFileSync(`${requestFile}.trl.yaml`, "utf8");
  assert.match(yaml, /- path: json\n {4}data_files: "..\/iter-1\/sft.jsonl"\n {2}- path: parquet\n {4}data_files: "sft.parquet"/);
});
