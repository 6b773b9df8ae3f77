/** `spri export` end to end: the built CLI (bin/spri.js over dist/) as a child process. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { runCli } from "../../../test/support/cli.ts";

const RECORDS = [
  {
    id: "1",
    user_input: "How do I say no to extra work?",
    principle_final: "1. Be honest.",
    init_response: "Say no.",
    response_final: "Explain your current load, then offer options.",
  },
  { id: "2", user_input: "Is the moon made of cheese?", principle_final: "1. Be truthful.", init_response: "No.", response_final: "No." },
  { id: "3", user_input: "Unfinished item", principle_final: "1. …" },
];

describe("spri export (CLI)", () => {
  let dir: string;
  let input: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-cli-export-"));
    input = join(dir, "out.jsonl");
    writeFileSync(input, `${RECORDS.map((r) => JSON.stringify(r)).join("\n")}\n`);
  });

  test("messages JSONL with a system prompt, and a dataset card beside it", async () => {
    const output = join(dir, "train.jsonl");
    const result = await runCli([
      "export",
      "--input",
      input,
      "--output",
      output,
      "--format",
      "messages",
      "--system-prompt",
      "You are helpful.",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /exported 2 of 3 records to .*train\.jsonl \(messages, jsonl\); skipped 1 no response_final/);
    const lines = readFileSync(output, "utf8").trim().split("\n");
    assert.equal(lines.length, 2);
    for (const line of lines) {
      const value = JSON.parse(line) as { messages: { role: string; content: string }[] };
      assert.deepEqual(Object.keys(value), ["messages"]);
      assert.deepEqual(
        value.messages.map((m) => m.role),
        ["system", "user", "assistant"],
      );
      for (const m of value.messages) assert.equal(typeof m.content, "string");
    }
    const card = readFileSync(`${output}.README.md`, "utf8");
    assert.match(card, /\| exported \| 2 \|/);
    assert.match(card, /Zhan, Hongli/);
  });

  test("Parquet by extension; preference pairs; --json summary; settings without keys", async () => {
    const output = join(dir, "dpo.parquet");
    const settings = join(dir, "settings.json");
    writeFileSync(settings, JSON.stringify({ baseModel: "local-model", baseApiKey: "sk-abcdefghijklmnopqrstuvwx", threshold: 4 }));
    const result = await runCli([
      "export",
      "--input",
      input,
      "--output",
      output,
      "--format",
      "preference",
      "--settings",
      settings,
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as { exported: number; fileType: string; skipped: Record<string, number>; card: string };
    assert.equal(summary.exported, 1);
    assert.equal(summary.fileType, "parquet");
    assert.equal(summary.skipped.identical, 1);
    assert.equal(summary.skipped["no-response"], 1);
    const file = await asyncBufferFromFile(output);
    const metadata = await parquetMetadataAsync(file);
    assert.deepEqual(
      metadata.schema.slice(1).map((e) => [e.name, e.type, e.converted_type]),
      [
        ["prompt", "BYTE_ARRAY", "UTF8"],
        ["chosen", "BYTE_ARRAY", "UTF8"],
        ["rejected", "BYTE_ARRAY", "UTF8"],
      ],
    );
    assert.deepEqual(await parquetReadObjects({ file, metadata }), [
      { prompt: RECORDS[0]!.user_input, chosen: RECORDS[0]!.response_final, rejected: RECORDS[0]!.init_response },
    ]);
    const card = readFileSync(summary.card, "utf8");
    assert.match(card, /"baseModel": "local-model"/);
    assert.doesNotMatch(card, /sk-abc|baseApiKey/);
  });

  test("--parquet forces Parquet; --no-card writes no card", async () => {
    const output = join(dir, "sharegpt.out");
    const result = await runCli(["export", "--input", input, "--output", output, "--format", "sharegpt", "--parquet", "--no-card"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readFileSync(output).subarray(0, 4).toString(), "PAR1");
    assert.ok(!existsSync(`${output}.README.md`));
    const file = await asyncBufferFromFile(output);
    const rows = await parquetReadObjects({ file });
    assert.deepEqual(rows[1], {
      conversations: [
        { from: "human", value: "Is the moon made of cheese?" },
        { from: "gpt", value: "No." },
      ],
    });
  });

  test("errors are one line with exit code 2", async () => {
    const bad = await runCli(["export", "--input", input, "--output", join(dir, "x.jsonl"), "--format", "chatml"]);
    assert.equal(bad.code, 2);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /^spri: field "format": unknown export format "chatml" — use one of messages/);

    const missing = await runCli(["export", "--input", join(dir, "nope.jsonl"), "--output", join(dir, "x.jsonl"), "--format", "messages"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^spri: .*nope\.jsonl: input file does not exist/);

    const damaged = join(dir, "damaged.jsonl");
    writeFileSync(damaged, `${JSON.stringify(RECORDS[0])}\n{"user_input":\n`);
    const malformed = await runCli(["export", "--input", damaged, "--output", join(dir, "y.jsonl"), "--format", "messages"]);
    assert.equal(malformed.code, 2);
    assert.match(malformed.stderr, /damaged\.jsonl:2: malformed JSON/);
    const skipped = await runCli([
      "export",
      "--input",
      damaged,
      "--output",
      join(dir, "y.jsonl"),
      "--format",
      "messages",
      "--skip-malformed",
    ]);
    assert.equal(skipped.code, 0, skipped.stderr);
    assert.match(skipped.stderr, /skipped 1 malformed JSON line/);

    const system = await runCli([
      "export",
      "--input",
      input,
      "--output",
      join(dir, "z.jsonl"),
      "--format",
      "alpaca",
      "--system-prompt",
      "S",
    ]);
    assert.equal(system.code, 2);
    assert.match(system.stderr, /does not fit the alpaca format/);
  });
});
