import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { InputError } from "../base/errors/errors.ts";
import { SPRI_CITATION } from "./dataset-card.ts";
import { EXPORT_FORMATS, type ExportFormat, exportRecords, toTrainingExample, writeExampleFile } from "./exports.ts";

/** The OpenAI chat fine-tuning rules for one JSONL line; returns the problems found. */
function openAiFineTuningProblems(line: string): string[] {
  const problems: string[] = [];
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return ["not JSON"];
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return ["not an object"];
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== "messages") problems.push(`keys other than messages: ${keys.join(",")}`);
  const messages = (value as { messages?: unknown }).messages;
  if (!Array.isArray(messages) || messages.length === 0) return [...problems, "messages is not a non-empty array"];
  messages.forEach((message: unknown, i) => {
    if (typeof message !== "object" || message === null) return problems.push(`message ${i} is not an object`);
    const m = message as Record<string, unknown>;
    for (const key of Object.keys(m)) if (key !== "role" && key !== "content") problems.push(`message ${i} has key ${key}`);
    if (!["system", "user", "assistant"].includes(m.role as string)) problems.push(`message ${i} has role ${String(m.role)}`);
    if (typeof m.content !== "string") problems.push(`message ${i} content is not a string`);
    if (m.role === "system" && i !== 0) problems.push("system message not first");
  });
  if ((messages.at(-1) as { role?: unknown }).role !== "assistant") problems.push("does not end with an assistant message");
  if (!messages.some((m: { role?: unknown }) => m.role === "user")) problems.push("no user message");
  return problems;
}

const RECORDS: Record<string, unknown>[] = [
  {
    id: "1",
    user_input: "How do I decline a wedding invite?",
    principle_final: "Be kind.",
    init_response: "Just say no.",
    response_final: "Thank them warmly, then explain.",
    iteration_response: 2,
  },
  { id: "2", prompt: "What is 2+2?", init_response: "4", response_final: "4", iteration_response: 1 },
  { id: "3", user_input: "No response here", principle_final: "…", init_response: "draft" },
  {
    id: "4",
    user_input: 'Unicode ✓ «quotes» "and" \\ backslashes\nnew line',
    init_response: "draft four",
    response_final: "Final ✓\n\nwith paragraphs",
  },
  { id: "5", "Reddit Post": "I failed my exam and feel worthless.", response_final: "That sounds painful; one exam does not define you." },
  { id: "6", question: "", response_final: "orphan response" },
];

let dir: string;
let records: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "spri-export-"));
  records = join(dir, "out.jsonl");
  writeFileSync(records, `${RECORDS.map((r) => JSON.stringify(r)).join("\n")}\n\n`);
});

function readJsonl(file: string): Record<string, unknown>[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function readParquet(file: string) {
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const rows = await parquetReadObjects({ file: buffer, metadata });
  return { metadata, rows };
}

describe("exportRecords: JSONL", () => {
  test("messages: every line passes the OpenAI chat fine-tuning format rules", async () => {
    const output = join(dir, "messages.jsonl");
    const summary = await exportRecords({ input: records, output, format: "messages" });
    assert.equal(summary.exported, 4);
    assert.equal(summary.read, 6);
    assert.equal(summary.skipped["no-response"], 1);
    assert.equal(summary.skipped["no-question"], 1);
    assert.equal(summary.skippedTotal, 2);
    const lines = readFileSync(output, "utf8").split("\n");
    assert.equal(lines.pop(), "");
    assert.equal(lines.length, 4);
    for (const line of lines) assert.deepEqual(openAiFineTuningProblems(line), [], line);
    assert.deepEqual(JSON.parse(lines[0]!), {
      messages: [
        { role: "user", content: "How do I decline a wedding invite?" },
        { role: "assistant", content: "Thank them warmly, then explain." },
      ],
    });
    // Reappraisal records: the question is the Reddit post.
    assert.equal(
      (JSON.parse(lines[3]!) as { messages: { content: string }[] }).messages[0]!.content,
      "I failed my exam and feel worthless.",
    );
    assert.ok(!existsSync(`${output}.partial`));
  });

  test("messages with a system prompt: system first, still valid", async () => {
    const output = join(dir, "messages-system.jsonl");
    await exportRecords({ input: records, output, format: "messages", systemPrompt: "You are a careful assistant.", card: false });
    const lines = readFileSync(output, "utf8").trim().split("\n");
    for (const line of lines) assert.deepEqual(openAiFineTuningProblems(line), [], line);
    assert.deepEqual((JSON.parse(lines[0]!) as { messages: unknown[] }).messages[0], {
      role: "system",
      content: "You are a careful assistant.",
    });
  });

  test("prompt-completion, sharegpt, alpaca shapes", async () => {
    const pc = join(dir, "pc.jsonl");
    await exportRecords({ input: records, output: pc, format: "prompt-completion", card: false });
    assert.deepEqual(readJsonl(pc)[0], { prompt: "How do I decline a wedding invite?", completion: "Thank them warmly, then explain." });

    const sg = join(dir, "sg.jsonl");
    await exportRecords({ input: records, output: sg, format: "sharegpt", systemPrompt: "Be brief.", card: false });
    assert.deepEqual(readJsonl(sg)[1], {
      conversations: [
        { from: "system", value: "Be brief." },
        { from: "human", value: "What is 2+2?" },
        { from: "gpt", value: "4" },
      ],
    });

    const al = join(dir, "al.jsonl");
    await exportRecords({ input: records, output: al, format: "alpaca", card: false });
    assert.deepEqual(readJsonl(al)[2], { instruction: RECORDS[3]!.user_input, input: "", output: RECORDS[3]!.response_final });
  });

  test("preference: chosen response_final, rejected init_response; equal or missing drafts skipped and counted", async () => {
    const output = join(dir, "dpo.jsonl");
    const summary = await exportRecords({ input: records, output, format: "preference" });
    assert.deepEqual(readJsonl(output), [
      { prompt: "How do I decline a wedding invite?", chosen: "Thank them warmly, then explain.", rejected: "Just say no." },
      { prompt: RECORDS[3]!.user_input, chosen: RECORDS[3]!.response_final, rejected: "draft four" },
    ]);
    assert.equal(summary.exported, 2);
    assert.equal(summary.skipped.identical, 1);
    assert.equal(summary.skipped["no-rejected"], 1);
    assert.equal(summary.skipped["no-response"], 1);
    assert.equal(summary.skipped["no-question"], 1);
    const card = readFileSync(`${output}.README.md`, "utf8");
    assert.match(card, /\| skipped: init_response equals response_final \| 1 \|/);
    assert.match(card, /\| skipped: no init_response to reject \| 1 \|/);
  });

  test("--question-field names the question", async () => {
    const input = join(dir, "custom.jsonl");
    writeFileSync(input, `${JSON.stringify({ text: "Custom question?", prompt: "not this", response_final: "Answer." })}\n`);
    const output = join(dir, "custom-out.jsonl");
    const summary = await exportRecords({ input, output, format: "prompt-completion", questionField: "text", card: false });
    assert.equal(summary.exported, 1);
    assert.deepEqual(readJsonl(output), [{ prompt: "Custom question?", completion: "Answer." }]);
    const missing = await exportRecords({ input, output, format: "prompt-completion", questionField: "nope", card: false });
    assert.equal(missing.skipped["no-question"], 1);
  });

  test("malformed lines: an InputError with the line by default; skipped and counted with skipMalformed", async () => {
    const input = join(dir, "damaged.jsonl");
    writeFileSync(input, `${JSON.stringify(RECORDS[0])}\n{"user_input": "trunc\n${JSON.stringify(RECORDS[1])}\n`);
    const output = join(dir, "damaged-out.jsonl");
    await assert.rejects(
      exportRecords({ input, output, format: "messages" }),
      (error: unknown) => error instanceof InputError && error.line === 2,
    );
    assert.ok(!existsSync(output) && !existsSync(`${output}.partial`));
    const summary = await exportRecords({ input, output, format: "messages", skipMalformed: true });
    assert.equal(summary.exported, 2);
    assert.equal(summary.skipped.malformed, 1);
  });

  test("bad requests are InputErrors", async () => {
    await assert.rejects(exportRecords({ input: records, output: records, format: "messages" }), /--output must differ/);
    await assert.rejects(
      exportRecords({ input: records, output: join(dir, "x.jsonl"), format: "alpaca", systemPrompt: "S" }),
      /does not fit the alpaca format/,
    );
    await assert.rejects(
      exportRecords({ input: records, output: join(dir, "x.jsonl"), format: "nope" as ExportFormat }),
      (e: unknown) => e instanceof InputError,
    );
    await assert.rejects(
      exportRecords({ input: join(dir, "missing.jsonl"), output: join(dir, "x.jsonl"), format: "messages" }),
      /does not exist/,
    );
  });

  test("toTrainingExample on its own", () => {
    assert.deepEqual(toTrainingExample("text", "messages"), { skip: "not-an-object" });
    assert.deepEqual(toTrainingExample({ input: "q", response_final: "  " }, "messages"), { skip: "no-response" });
    assert.deepEqual(toTrainingExample({ input: "q", response_final: "r", init_response: " r " }, "preference"), { skip: "identical" });
  });
});

describe("exportRecords: Parquet", () => {
  const STRING_COLUMNS: Record<string, string[]> = {
    "prompt-completion": ["prompt", "completion"],
    preference: ["prompt", "chosen", "rejected"],
    alpaca: ["instruction", "input", "output"],
  };

  for (const format of ["prompt-completion", "preference", "alpaca"] as const) {
    test(`${format}: string columns, right row count, same rows as JSONL`, async () => {
      const output = join(dir, `${format}.parquet`);
      const summary = await exportRecords({ input: records, output, format });
      assert.equal(summary.fileType, "parquet");
      const { metadata, rows } = await readParquet(output);
      const leaves = metadata.schema.slice(1);
      assert.deepEqual(
        leaves.map((e) => e.name),
        STRING_COLUMNS[format],
      );
      for (const element of leaves) {
        assert.equal(element.type, "BYTE_ARRAY");
        assert.equal(element.converted_type, "UTF8");
        assert.equal(element.repetition_type, "REQUIRED");
      }
      assert.equal(Number(metadata.num_rows), summary.exported);
      const jsonl = join(dir, `${format}-same.jsonl`);
      await exportRecords({ input: records, output: jsonl, format, card: false });
      assert.deepEqual(rows, readJsonl(jsonl));
      assert.ok(metadata.key_value_metadata?.some((kv) => kv.key === "spri.export.format" && kv.value === format));
    });
  }

  for (const format of ["messages", "sharegpt"] as const) {
    test(`${format}: a native LIST<STRUCT<string, string>> column that reads back as the JSONL`, async () => {
      const output = join(dir, `${format}.parquet`);
      const summary = await exportRecords({ input: records, output, format, systemPrompt: "Sys.", rowGroupSize: 2 });
      const { metadata, rows } = await readParquet(output);
      const [column, list, element, a, b] = metadata.schema.slice(1);
      assert.equal(column?.name, format === "messages" ? "messages" : "conversations");
      assert.equal(column?.converted_type, "LIST");
      assert.equal(list?.repetition_type, "REPEATED");
      assert.equal(element?.num_children, 2);
      assert.deepEqual([a?.name, b?.name], format === "messages" ? ["role", "content"] : ["from", "value"]);
      for (const leaf of [a, b]) assert.equal(leaf?.converted_type, "UTF8");
      assert.equal(metadata.row_groups.length, 2);
      assert.equal(Number(metadata.num_rows), summary.exported);
      const jsonl = join(dir, `${format}-same.jsonl`);
      await exportRecords({ input: records, output: jsonl, format, systemPrompt: "Sys.", card: false });
      assert.deepEqual(rows, readJsonl(jsonl));
    });
  }

  test("no exportable record: a valid empty file", async () => {
    const input = join(dir, "none.jsonl");
    writeFileSync(input, `${JSON.stringify({ prompt: "q" })}\n`);
    const output = join(dir, "none.parquet");
    const summary = await exportRecords({ input, output, format: "messages" });
    assert.equal(summary.exported, 0);
    const { metadata, rows } = await readParquet(output);
    assert.equal(rows.length, 0);
    assert.equal(metadata.schema[1]?.name, "messages");
  });

  test("fileType overrides the extension; 30,000 records stream into 10,000-row groups", async () => {
    const input = join(dir, "many.jsonl");
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++)
      lines.push(JSON.stringify({ id: i, prompt: `q${i}`, init_response: `d${i}`, response_final: `r${i}` }));
    writeFileSync(input, `${lines.join("\n")}\n`);
    const output = join(dir, "many.data");
    const summary = await exportRecords({ input, output, format: "preference", fileType: "parquet", card: false });
    assert.equal(summary.exported, 30_000);
    const { metadata, rows } = await readParquet(output);
    assert.deepEqual(
      metadata.row_groups.map((g) => Number(g.num_rows)),
      [10_000, 10_000, 10_000],
    );
    assert.deepEqual(rows[29_999], { prompt: "q29999", chosen: "r29999", rejected: "d29999" });
  });
});

describe("exportRecords: dataset card", () => {
  test("beside the output, with format, counts, source, settings without secrets, and the citation", async () => {
    const output = join(dir, "card", "train.jsonl");
    const summary = await exportRecords({
      input: records,
      output,
      format: "messages",
      settings: {
        baseModel: "gpt-4o-mini",
        baseApiKey: "sk-live-abcdefghijklmnopqrstuvwxyz",
        maxTokens: 2048,
        threshold: 4,
        criticUrl: "https://user:hunter2@llm.example.com/v1",
        hfToken: "hf_abcdefghijklmnopqrstuvwxyz",
        nested: { authorization: "Bearer abc", note: "Bearer abcdefghi", keep: "yes" },
        extraHeader: "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
      },
    });
    assert.equal(summary.card, `${output}.README.md`);
    const card = readFileSync(summary.card!, "utf8");
    assert.match(card, /^---\n/);
    assert.match(card, /Format: `messages`/);
    assert.match(card, /\| records read \| 6 \|/);
    assert.match(card, /\| exported \| 4 \|/);
    assert.match(card, /\| skipped \| 2 \|/);
    assert.match(card, /\| skipped: no response_final \| 1 \|/);
    assert.ok(card.includes(`\`${records}\``));
    assert.ok(card.includes(SPRI_CITATION));
    assert.match(card, /"baseModel": "gpt-4o-mini"/);
    assert.match(card, /"maxTokens": 2048/);
    assert.match(card, /"keep": "yes"/);
    for (const secret of ["sk-live", "hunter2", "hf_abc", "Bearer", "sk-proj", "baseApiKey", "hfToken", "authorization"]) {
      assert.ok(!card.includes(secret), `card leaks ${secret}`);
    }
  });

  test("card: false writes none", async () => {
    const output = join(dir, "nocard.jsonl");
    const summary = await exportRecords({ input: records, output, format: "alpaca", card: false });
    assert.equal(summary.card, undefined);
    assert.ok(!existsSync(`${output}.README.md`));
  });

  test("every format is covered", () => {
    assert.deepEqual([...EXPORT_FORMATS].sort(), ["alpaca", "messages", "preference", "prompt-completion", "sharegpt"]);
  });
});

describe("writeExampleFile", () => {
  const rows = [
    { prompt: "q1", completion: "a1" },
    { prompt: "q2", completion: "a2" },
  ];
  async function* stream() {
    yield* rows;
  }
  const parquet = {
    columns: [
      { name: "prompt", kind: "string" as const },
      { name: "completion", kind: "string" as const },
    ],
    metadata: { "spri.export.format": "prompt-completion" },
  };

  test("JSON Lines: one example a line", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "spri-example-file-")), "train.jsonl");
    await writeExampleFile(file, "jsonl", stream(), parquet);
    assert.deepEqual(
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
      rows,
    );
  });

  test("Parquet: the columns given, the format in the footer's metadata", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "spri-example-file-")), "train.parquet");
    await writeExampleFile(file, "parquet", stream(), parquet);
    const buffer = await asyncBufferFromFile(file);
    assert.deepEqual(await parquetReadObjects({ file: buffer }), rows);
    const metadata = await parquetMetadataAsync(buffer);
    assert.deepEqual(
      metadata.key_value_metadata?.find((kv) => kv.key === "spri.export.format"),
      { key: "spri.export.format", value: "prompt-completion" },
    );
  });

  test("Parquet without columns is an InputError saying to write JSON Lines", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "spri-example-file-")), "train.parquet");
    await assert.rejects(
      writeExampleFile(file, "parquet", stream(), { columns: undefined, metadata: {} }),
      (error: unknown) => error instanceof InputError && /JSON Lines/.test(error.hint ?? ""),
    );
  });
});
