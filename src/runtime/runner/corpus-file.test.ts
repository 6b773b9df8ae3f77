import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { InputError } from "../../base/errors/errors.ts";
import { writeParquetRows } from "../../io/parquet.ts";
import { startFakeHubServer } from "../../models/fake-server/fake-hub-api.ts";
import { writeCorpus } from "./corpus-file.ts";

const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const jsonl = (rows: unknown[]) => rows.map((row) => JSON.stringify(row)).join("\n") + "\n";
const dialogue = (question: string, answer: string) => ({
  chosen: `\n\nHuman: ${question}\n\nAssistant: ${answer}`,
  rejected: `\n\nHuman: ${question}\n\nAssistant: No.`,
});

async function* each<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows;
}

/** ultrafeedback_binarized rows in its published Parquet layout (chosen: list of {content, role}). */
async function ultrafeedbackParquet(file: string): Promise<void> {
  const rows = [
    {
      prompt: "Say hi.",
      prompt_id: "p1",
      chosen: [
        { content: "Say hi.", role: "user" },
        { content: "Hi there!", role: "assistant" },
      ],
    },
    {
      prompt: "Count to 3.",
      prompt_id: "p2",
      chosen: [
        { content: "Count to 3.", role: "user" },
        { content: "1, 2, 3.", role: "assistant" },
      ],
    },
  ];
  const columns = [
    { name: "prompt", kind: "string" },
    { name: "prompt_id", kind: "string" },
    { name: "chosen", kind: "struct-list", fields: ["content", "role"] },
  ] as const;
  await writeParquetRows(file, columns, each(rows));
}

describe("writeCorpus: a corpus in its published layout → the rows discover mine reads", () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-corpus-"));

  test("a local JSONL file of HH-RLHF dialogues", async () => {
    const input = join(dir, "train.jsonl");
    writeFileSync(input, jsonl([dialogue("Hi?", "Hello."), dialogue("Why is the sky blue?", "Rayleigh scattering.")]));
    const output = join(dir, "hh.jsonl");
    const summary = await writeCorpus({ corpus: "hh-rlhf", from: input, output });
    assert.deepEqual(summary, { rows: 2, skipped: 0, files: [input] });
    assert.deepEqual(
      readJsonl(output).map(({ id, prompt, gold, source }) => ({ id, prompt, gold, source })),
      [
        { id: "hh-rlhf-train-1", prompt: "Hi?", gold: "Hello.", source: "hh-rlhf" },
        { id: "hh-rlhf-train-2", prompt: "Why is the sky blue?", gold: "Rayleigh scattering.", source: "hh-rlhf" },
      ],
    );
  });

  test("a local Parquet file of ultrafeedback_binarized", async () => {
    const input = join(dir, "train_prefs-00000-of-00001.parquet");
    await ultrafeedbackParquet(input);
    const output = join(dir, "uf.jsonl");
    await writeCorpus({ corpus: "ultrafeedback", from: input, output, limit: 1 });
    assert.deepEqual(readJsonl(output), [{ id: "p1", source: "ultrafeedback", prompt: "Say hi.", gold: "Hi there!" }]);
  });

  test("a bad row is an InputError with file, line and field, and no output is left; --skip-invalid counts it instead", async () => {
    const input = join(dir, "bad.jsonl");
    writeFileSync(input, jsonl([dialogue("Hi?", "Hello."), { chosen: "\n\nHuman: Anyone there?" }, dialogue("Bye?", "Bye.")]));
    const output = join(dir, "bad-out.jsonl");
    await assert.rejects(writeCorpus({ corpus: "hh-rlhf", from: input, output }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.describe().split(" — ")[0], `${input}:2: field "chosen": the dialogue has no Assistant turn`);
      return true;
    });
    assert.equal(existsSync(output), false);
    assert.equal(existsSync(`${output}.partial`), false);
    const summary = await writeCorpus({ corpus: "hh-rlhf", from: input, output, skipInvalid: true });
    assert.equal(summary.rows, 2);
    assert.equal(summary.skipped, 1);
    assert.match(summary.firstSkipped ?? "", /bad\.jsonl:2: field "chosen"/);
  });

  test("the same id twice is refused", async () => {
    const input = join(dir, "twice.jsonl");
    writeFileSync(
      input,
      jsonl([
        { id: "q1", question: "A?", answer: "a" },
        { id: "q1", question: "B?", answer: "b" },
      ]),
    );
    await assert.rejects(
      writeCorpus({ corpus: "hotpotqa", from: input, output: join(dir, "twice-out.jsonl") }),
      (error: unknown) => error instanceof InputError && error.line === 2 && error.field === "id",
    );
  });

  test("hf:ID:split: the split's files through the Hub's API, downloaded into the cache, in path order", async () => {
    const hub = await startFakeHubServer({
      datasets: {
        "Anthropic/hh-rlhf": {
          main: {
            "harmless-base/train.jsonl.gz": gzipSync(jsonl([dialogue("Is it safe?", "Yes, with care.")])),
            "helpful-base/train.jsonl.gz": gzipSync(jsonl([dialogue("Hi?", "Hello.")])),
            "helpful-base/test.jsonl.gz": gzipSync(jsonl([dialogue("Test?", "Test.")])),
          },
        },
      },
    });
    try {
      const output = join(dir, "hub.jsonl");
      const cacheDir = join(dir, "cache");
      const summary = await writeCorpus({
        corpus: "hh-rlhf",
        from: "hf:Anthropic/hh-rlhf:train",
        output,
        cacheDir,
        access: { endpoint: hub.url },
      });
      assert.deepEqual(summary.files, [
        "hf:Anthropic/hh-rlhf@main/harmless-base/train.jsonl.gz",
        "hf:Anthropic/hh-rlhf@main/helpful-base/train.jsonl.gz",
      ]);
      assert.deepEqual(
        readJsonl(output).map((row) => [row.id, row.gold]),
        [
          ["hh-rlhf-harmless-base-train-1", "Yes, with care."],
          ["hh-rlhf-helpful-base-train-1", "Hello."],
        ],
      );
    } finally {
      await hub.close();
    }
  });
});
