import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SPRI_CITATION, datasetCardPath, renderDatasetCard, safeSettings } from "./dataset-card.ts";

describe("safeSettings", () => {
  test("drops fields named like credentials, at any depth", () => {
    assert.deepEqual(
      safeSettings({
        apiKey: "abc",
        baseApiKey: "(set)",
        OPENAI_API_KEY: "x",
        accessToken: "t",
        token: 5,
        password: "p",
        clientSecret: "s",
        Authorization: "a",
        model: "gpt-4o-mini",
        nested: { criticApiKey: "k", temperature: 0.7, list: [{ secret: 1, keep: true }] },
      }),
      { model: "gpt-4o-mini", nested: { temperature: 0.7, list: [{ keep: true }] } },
    );
  });

  test("keeps numeric token counts (maxTokens) but not string ones", () => {
    assert.deepEqual(safeSettings({ maxTokens: 2048, inputTokens: 10, maxTokens2: 1, outputTokens: "sk-abcdefghijklmnopqrstu" }), {
      maxTokens: 2048,
      inputTokens: 10,
    });
  });

  test("drops secret-looking values whatever the field's name", () => {
    const out = safeSettings({
      a: "sk-abcdefghijklmnop1234",
      b: "sk-ant-api03-xyz",
      c: "ghp_abcdefghijklmnopqrstuvwx",
      d: "Bearer abc.def",
      e: "https://user:pass@example.com/v1",
      f: "https://example.com/v1?api_key=123",
      g: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
      h: "AKIAABCDEFGHIJKLMNOP",
      i: "hf_abcdefghijklmnopqrstuvwxyz",
      list: ["fine", "sk-abcdefghijklmnop1234"],
      url: "http://127.0.0.1:8000/v1",
      model: "Qwen/Qwen2.5-7B-Instruct",
      big: 12n,
    });
    assert.deepEqual(out, { list: ["fine"], url: "http://127.0.0.1:8000/v1", model: "Qwen/Qwen2.5-7B-Instruct", big: "12" });
  });
});

describe("renderDatasetCard", () => {
  const base = {
    output: "/data/train.parquet",
    source: "runs/out.jsonl",
    format: "preference",
    formatDescription: "DPO pairs.",
    fileType: "parquet" as const,
    schema: ["`prompt` (string)"],
    read: 10,
    exported: 7,
    skipped: [
      { reason: "no response_final", count: 2 },
      { reason: "identical", count: 1 },
      { reason: "never", count: 0 },
    ],
    createdAt: new Date("2025-07-01T00:00:00Z"),
  };

  test("names the file, counts every reason that happened, cites the paper", () => {
    const card = renderDatasetCard(base);
    assert.match(card, /^---\npretty_name: "SPRI preference export: train.parquet"\ntags:\n  - spri\n  - synthetic\n  - dpo\n---\n/);
    assert.match(card, /# train\.parquet/);
    assert.match(card, /File: `train\.parquet` \(Parquet\)/);
    assert.match(card, /Source records: `runs\/out\.jsonl`/);
    assert.match(card, /\| exported \| 7 \|\n\| skipped \| 3 \|\n\| skipped: no response_final \| 2 \|\n\| skipped: identical \| 1 \|\n/);
    assert.doesNotMatch(card, /never/);
    assert.match(card, /Created: 2025-07-01T00:00:00.000Z/);
    assert.ok(card.includes(SPRI_CITATION));
    assert.doesNotMatch(card, /## Run settings/);
    assert.match(card, /Question field: auto-detected/);
  });

  test("a named question field and a system prompt with backticks stay readable", () => {
    const card = renderDatasetCard({ ...base, questionField: "my`field", systemPrompt: "Use ```code``` fences." });
    assert.match(card, /Question field: `` my`field ``/);
    assert.match(card, /````text\nUse ```code``` fences\.\n````/);
  });

  test("the card goes beside the export", () => {
    assert.equal(datasetCardPath("out/train.jsonl"), "out/train.jsonl.README.md");
  });
});
