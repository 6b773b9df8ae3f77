import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../errors/errors.ts";
import { budgetExceeded, countCall, emptySpend, PriceTable } from "./cost.ts";

const OPENAI = "openai-compatible:https://api.openai.com/v1#gpt-4o-mini";

test("prices: exact, then longest prefix on hosted endpoints; local endpoints are free", () => {
  const table = new PriceTable();
  assert.equal(table.cost("gpt-4o-mini", OPENAI, { inputTokens: 1_000_000, outputTokens: 1_000_000 }), 0.75);
  assert.deepEqual(table.priceOf("gpt-4o-mini-2024-07-18", OPENAI), { input: 0.15, output: 0.6 });
  assert.deepEqual(table.priceOf("gpt-4o-mini", "openai-compatible:http://127.0.0.1:8000/v1#gpt-4o-mini"), { input: 0, output: 0 });
  assert.equal(table.priceOf("some-new-model", OPENAI), undefined);
});

test("a price file overrides and extends the defaults; bad entries name the model", () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-prices-"));
  writeFileSync(join(dir, "p.json"), JSON.stringify({ "gpt-4o-mini": { input: 1, output: 2 }, "my-model": { input: 3, output: 4 } }));
  const table = PriceTable.fromFile(join(dir, "p.json"));
  assert.deepEqual(table.priceOf("gpt-4o-mini", OPENAI), { input: 1, output: 2 });
  writeFileSync(join(dir, "bad.json"), JSON.stringify({ "my-model": { input: "cheap" } }));
  assert.throws(() => PriceTable.fromFile(join(dir, "bad.json")), (e: unknown) => e instanceof ConfigError && e.field === "my-model");
});

test("budgets", () => {
  const spend = { ...emptySpend(), inputTokens: 900, outputTokens: 100, costUsd: 0.5 };
  assert.equal(budgetExceeded({}, spend), undefined);
  assert.match(budgetExceeded({ maxTokens: 1000 }, spend) ?? "", /token budget of 1000/);
  assert.match(budgetExceeded({ maxCostUsd: 0.5 }, spend) ?? "", /cost budget/);
  assert.equal(budgetExceeded({ maxCostUsd: 1, maxTokens: 5000 }, spend), undefined);
});

test("countCall: calls sent, cache hits and calls cancelled before they went out are told apart", () => {
  const spend = emptySpend();
  const call = { model: "some-new-model", endpoint: OPENAI, usage: { inputTokens: 10, outputTokens: 5 } };
  countCall(spend, { ...call, cacheHit: false }, new PriceTable());
  countCall(spend, { ...call, cacheHit: true }, new PriceTable());
  assert.equal(countCall(spend, { ...call, cacheHit: false, unsent: true, usage: { inputTokens: 0, outputTokens: 0 } }, new PriceTable()), 0);
  assert.deepEqual(spend, { calls: 3, sent: 1, cacheHits: 1, inputTokens: 10, outputTokens: 5, costUsd: 0, unpricedCalls: 1 });
});
