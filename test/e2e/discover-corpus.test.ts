/**
 * `spri discover corpus` end to end: a dataset on a local server that speaks the Hugging Face Hub's
 * file API (tree listing, resolve), with a token, written as mining rows that `spri discover mine`
 * then reads; and a bad local file refused with its file, line and field.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { writeParquetRows } from "../../src/io/parquet.ts";
import { type FakeHubServer, startFakeHubServer } from "../../src/models/fake-server/fake-hub-api.ts";
import { type FakeModelServer, type RecordedRequest, startFakeModelServer, textReply } from "../../src/test.ts";
import { runCli } from "../support/cli.ts";

const TOKEN = "hf_e2e_secret";
const PAIRS = [
  { prompt: "Name a warm colour.", gold: "Orange is a warm colour." },
  { prompt: "What is 2 + 2?", gold: "2 + 2 is 4." },
];

async function* each<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows;
}

/** ultrafeedback_binarized's train_prefs split in its published Parquet layout. */
async function ultrafeedbackParquet(dir: string): Promise<Buffer> {
  const file = join(dir, "train_prefs.parquet");
  const rows = PAIRS.map((pair, i) => ({
    prompt: pair.prompt,
    prompt_id: `p${i}`,
    chosen: [
      { content: pair.prompt, role: "user" },
      { content: pair.gold, role: "assistant" },
    ],
    rejected: [
      { content: pair.prompt, role: "user" },
      { content: "No idea.", role: "assistant" },
    ],
  }));
  const columns = [
    { name: "prompt", kind: "string" },
    { name: "prompt_id", kind: "string" },
    { name: "chosen", kind: "struct-list", fields: ["content", "role"] },
    { name: "rejected", kind: "struct-list", fields: ["content", "role"] },
  ] as const;
  await writeParquetRows(file, columns, each(rows));
  return readFileSync(file);
}

const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, any>);

describe("spri discover corpus", () => {
  let dir: string;
  let hub: FakeHubServer;
  let model: FakeModelServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-corpus-e2e-"));
    hub = await startFakeHubServer({
      token: TOKEN,
      redirect: true,
      datasets: {
        "HuggingFaceH4/ultrafeedback_binarized": {
          main: {
            "README.md": "# card",
            "data/train_prefs-00000-of-00001.parquet": await ultrafeedbackParquet(dir),
            "data/test_prefs-00000-of-00001.parquet": "not read",
          },
        },
      },
    });
    model = await startFakeModelServer(textReply("I am not sure."));
  });
  after(async () => {
    await hub.close();
    await model.close();
  });

  test("hf:ID:split from the Hub (HF_ENDPOINT, HF_TOKEN) → rows that discover mine reads as prompt and gold", {
    timeout: 120_000,
  }, async () => {
    const output = join(dir, "corpus.jsonl");
    const cache = join(dir, "cache");
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN };
    const args = ["discover", "corpus", "--corpus", "ultrafeedback", "--from", "hf:HuggingFaceH4/ultrafeedback_binarized:train_prefs"];
    let result = await runCli([...args, "--output", output, "--cache-dir", cache], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /wrote 2 rows/);
    assert.deepEqual(readJsonl(output), [
      { id: "p0", source: "ultrafeedback", prompt: PAIRS[0]!.prompt, gold: PAIRS[0]!.gold },
      { id: "p1", source: "ultrafeedback", prompt: PAIRS[1]!.prompt, gold: PAIRS[1]!.gold },
    ]);
    assert.ok(!hub.log.some((line) => line.includes("test_prefs")), "only the split's file was fetched");
    // The token went to the Hub, and nowhere else.
    for (const cached of readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
      assert.ok(!readFileSync(join(cached.parentPath, cached.name)).includes(TOKEN));
    }
    assert.ok(!`${result.stdout}${result.stderr}${readFileSync(output, "utf8")}`.includes(TOKEN));

    // Again: the cached copy, no download.
    const downloads = hub.log.filter((line) => line.includes("/resolve/")).length;
    result = await runCli([...args, "--output", output, "--cache-dir", cache, "--json"], { cwd: dir, env });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).rows, 2);
    assert.equal(hub.log.filter((line) => line.includes("/resolve/")).length, downloads);

    const mined = join(dir, "mined.jsonl");
    result = await runCli(
      [
        "discover",
        "mine",
        "--input",
        output,
        "--output",
        mined,
        "--candidates",
        "1",
        "--base-url",
        `${model.url}/v1`,
        "--base-model",
        "policy",
      ],
      { cwd: dir, env: { OPENAI_API_KEY: "sk-test" } },
    );
    assert.equal(result.code, 0, result.stderr);
    // The output is in the order items finish, which two calls at once may swap.
    const records = readJsonl(mined).sort((a, b) => String(a.id).localeCompare(String(b.id)));
    assert.deepEqual(
      records.map((r) => [r.id, r.gold]),
      [
        ["p0", PAIRS[0]!.gold],
        ["p1", PAIRS[1]!.gold],
      ],
    );
    const asked = model.requests.map((r: RecordedRequest) => (r.body as { messages: { content: string }[] }).messages[0]!.content);
    assert.ok(asked.includes(PAIRS[0]!.prompt), "y1 was asked for the corpus's prompt");
  });

  test("a refused token says to set HF_TOKEN; a bad local row names its file, line and field", async () => {
    let result = await runCli(
      [
        "discover",
        "corpus",
        "--corpus",
        "ultrafeedback",
        "--from",
        "hf:HuggingFaceH4/ultrafeedback_binarized:train_prefs",
        "--output",
        join(dir, "x.jsonl"),
      ],
      { cwd: dir, env: { HF_ENDPOINT: hub.url, SPRI_DATASETS_DIR: join(dir, "cache2") } },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /refused access/);
    assert.match(result.stderr, /HF_TOKEN/);

    const input = join(dir, "hh.jsonl");
    writeFileSync(input, `${JSON.stringify({ chosen: "\n\nHuman: Hi?\n\nAssistant: Hello." })}\n${JSON.stringify({ rejected: "x" })}\n`);
    result = await runCli(["discover", "corpus", "--corpus", "hh-rlhf", "--from", input, "--output", join(dir, "hh-out.jsonl")], {
      cwd: dir,
    });
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(`${input}:2: field "chosen": the field is missing`), result.stderr);
  });

  test("--help names the corpora, the hf: form and the Hub's environment", async () => {
    const result = await runCli(["discover", "corpus", "--help"]);
    assert.equal(result.code, 0);
    for (const word of [
      "hh-rlhf",
      "ultrafeedback",
      "tldr",
      "hotpotqa",
      "hf:ID[@revision][:split]",
      "HF_TOKEN",
      "HF_ENDPOINT",
      "--hub-url",
    ]) {
      assert.ok(result.stdout.includes(word), word);
    }
  });
});
