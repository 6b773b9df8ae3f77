import assert from "node:assert/strict";
import { test } from "node:test";
import type { StoredCall } from "./run-store.ts";
import { ADD_TO_USAGE, USAGE_COLUMNS, usageOf } from "./store-rows.ts";

const call = (fields: Partial<StoredCall>): StoredCall =>
  ({ runId: "r", cacheHit: false, usage: { inputTokens: 10, outputTokens: 4 }, ...fields }) as StoredCall;

test("USAGE_COLUMNS names usageOf's values in order, as both backends write them into run_usage", () => {
  const [values] = [...usageOf([call({ costUsd: 0.5 }), call({ cacheHit: true }), call({ error: "boom" })]).values()];
  assert.deepEqual(Object.fromEntries(USAGE_COLUMNS.map((column, i) => [column, values![i]])), {
    calls: 3,
    cache_hits: 1,
    errors: 1,
    input_tokens: 20,
    output_tokens: 8,
    cost_usd: 0.5,
    priced_calls: 1,
    unpriced_calls: 1,
  });
});

test("ADD_TO_USAGE adds every usage column to the run's row", () => {
  for (const column of USAGE_COLUMNS) assert.ok(ADD_TO_USAGE.includes(`${column} = run_usage.${column} + excluded.${column}`), column);
  assert.match(ADD_TO_USAGE, /^ON CONFLICT \(run_id\) DO UPDATE SET/);
});
