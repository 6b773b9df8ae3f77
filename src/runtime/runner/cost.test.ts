import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import type { GenerateRequest } from "../../models/language-model.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { budgetExceeded, countCall, emptySpend, formatCost, PriceTable, requirePrices, worstCaseCost } from "./cost.ts";

const OPENAI = "openai-compatible:https://api.openai.com/v1#gpt-4o-mini";

const LOCAL = "openai-compatible:http://127.0.0.1:8000/v1#my-model";

test("prices: exact, then longest prefix on hosted endpoints; a model nobody priced is unpriced, not free", () => {
  const table = new PriceTable();
  assert.equal(table.cost("gpt-4o-mini", OPENAI, { inputTokens: 1_000_000, outputTokens: 1_000_000 }), 0.75);
  assert.deepEqual(table.priceOf("gpt-4o-mini-2024-07-18", OPENAI), { input: 0.15, output: 0.6 });
  assert.equal(table.priceOf("some-new-model", OPENAI), undefined);
  // A self-hosted server is not priced from the list prices of a model of the same name, nor free.
  assert.equal(table.priceOf("gpt-4o-mini", LOCAL), undefined);
  assert.equal(table.priceOf("my-model", LOCAL), undefined);
  assert.equal(table.cost("my-model", LOCAL, { inputTokens: 10, outputTokens: 5 }), undefined);
  assert.equal(table.priceOf("model.gguf", "llama-cpp:/models/model.gguf"), undefined);
  const given = new PriceTable({ "my-model": { input: 0, output: 0 } });
  assert.deepEqual(given.priceOf("my-model", LOCAL), { input: 0, output: 0 });
});

test("--prices takes the table as JSON text as well as a file", () => {
  const table = PriceTable.fromSetting('{"my-model": {"input": 0.2, "output": 0.6}}');
  assert.deepEqual(table.priceOf("my-model", LOCAL), { input: 0.2, output: 0.6 });
  assert.throws(
    () => PriceTable.fromSetting('{"my-model": 3}'),
    (e: unknown) => e instanceof ConfigError && e.field === "my-model",
  );
  assert.throws(
    () => PriceTable.fromSetting("{not json"),
    (e: unknown) => e instanceof ConfigError && /--prices/.test(e.message),
  );
  assert.deepEqual(PriceTable.fromSetting(undefined).priceOf("gpt-4o", OPENAI), { input: 2.5, output: 10 });
});

test("a cost budget refuses to start on a model without a price, and says how to give one", () => {
  const unpriced = new ScriptedModel({ modelId: "my-model" });
  assert.doesNotThrow(() => requirePrices({ maxTokens: 100 }, new PriceTable(), [unpriced]), "a token budget needs no price");
  assert.doesNotThrow(() => requirePrices({}, new PriceTable(), [unpriced]));
  assert.throws(
    () => requirePrices({ maxCostUsd: 1 }, new PriceTable(), [unpriced, unpriced]),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.field === "maxCost" &&
      /--max-cost/.test(e.message) &&
      /"my-model"/.test(e.message) &&
      /--prices/.test(e.hint ?? ""),
  );
  assert.doesNotThrow(() => requirePrices({ maxCostUsd: 1 }, new PriceTable({ "my-model": { input: 1, output: 2 } }), [unpriced]));
});

test("the worst case of a call: every prompt byte a token, and every token it may write", () => {
  const request: GenerateRequest = {
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: "héllo" },
    ],
    sampling: { maxTokens: 100 },
  };
  // 8 + 6 bytes, 16 tokens of chat template per message, 100 tokens out.
  const worst = worstCaseCost(request, { input: 1_000_000, output: 2_000_000 });
  assert.equal(worst, 8 + 6 + 2 * 16 + 100 * 2);
});

test("cost as people read it: unpriced is not $0", () => {
  assert.equal(formatCost({ ...emptySpend(), calls: 3, costUsd: 0.0123 }), "$0.0123");
  assert.equal(formatCost({ ...emptySpend(), calls: 3, unpricedCalls: 3 }), "unpriced");
  assert.equal(formatCost({ ...emptySpend(), calls: 4, cacheHits: 1, unpricedCalls: 2, costUsd: 0.5 }), "≥ $0.5000");
});

test("a price file overrides and extends the defaults; bad entries name the model", () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-prices-"));
  writeFileSync(join(dir, "p.json"), JSON.stringify({ "gpt-4o-mini": { input: 1, output: 2 }, "my-model": { input: 3, output: 4 } }));
  const table = PriceTable.fromSetting(join(dir, "p.json"));
  assert.deepEqual(table.priceOf("gpt-4o-mini", OPENAI), { input: 1, output: 2 });
  writeFileSync(join(dir, "bad.json"), JSON.stringify({ "my-model": { input: "cheap" } }));
  assert.throws(
    () => PriceTable.fromSetting(join(dir, "bad.json")),
    (e: unknown) => e instanceof ConfigError && e.field === "my-model",
  );
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
  assert.equal(
    countCall(spend, { ...call, cacheHit: false, unsent: true, usage: { inputTokens: 0, outputTokens: 0 } }, new PriceTable()),
    0,
  );
  assert.deepEqual(spend, { calls: 3, sent: 1, cacheHits: 1, inputTokens: 10, outputTokens: 5, costUsd: 0, unpricedCalls: 1 });
});
