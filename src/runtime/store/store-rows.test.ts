import assert from "node:assert/strict";
import { test } from "node:test";
import type { StoredCall } from "./run-store.ts";
import { ADD_TO_USAGE, callGroupRows, callValues, USAGE_COLUMNS, usageOf } from "./store-rows.ts";

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

test("callGroupRows writes each call as callValues' columns, its request's tail made once per sampling object and schema", () => {
  const sampling = { temperature: 0.7, maxTokens: 64, stop: ["###"] };
  const messages = [{ role: "user" as const, content: 'say "hi"' }];
  const calls = [
    call({ itemId: "a", step: "s1", request: { messages, sampling } }),
    call({ itemId: "a", step: "s2", request: { messages, sampling, schema: "score" }, parsed: { score: 3 } }),
    call({ itemId: "a", step: "s3", request: { messages, sampling } }),
    call({ itemId: "a", step: "s4", request: { messages } as StoredCall["request"] }),
  ].map(
    (c, i) =>
      ({ ...c, iteration: i, role: "base", model: "m", endpoint: "e", latencyMs: 5, startedAt: "t", response: `r${i}` }) as StoredCall,
  );
  const [[runId, itemId, json]] = callGroupRows(calls) as [[string, string, string]];
  assert.deepEqual([runId, itemId], ["r", "a"]);
  const expected = calls.map((c) => {
    const [, , step, iteration, attempt, role, model, endpoint, request, response, parsed, inputTokens, outputTokens, latencyMs] =
      callValues(c);
    return {
      step,
      iteration,
      attempt,
      role,
      model,
      endpoint,
      response,
      input_tokens: inputTokens,
      output_tokens: outputTokens,
      latency_ms: latencyMs,
      finish_reason: null,
      cache_hit: false,
      error: null,
      cost_usd: null,
      started_at: "t",
      request: JSON.parse(request as string),
      parsed: parsed === null ? null : JSON.parse(parsed as string),
    };
  });
  assert.deepEqual(JSON.parse(json), expected);
  assert.deepEqual(
    expected.map((e) => e.request),
    [
      { messages, sampling },
      { messages, sampling, schema: "score" },
      { messages, sampling },
      { messages, sampling: {} },
    ],
  );
  assert.throws(() => callGroupRows([{ ...calls[0]!, startedAt: undefined } as unknown as StoredCall]), /has no valid startedAt/);
});
