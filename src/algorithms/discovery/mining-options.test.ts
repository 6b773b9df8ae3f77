import assert from "node:assert/strict";
import { test } from "node:test";
import { miningOptions } from "./mining-options.ts";

test("miningOptions merges sampling per step and drops undefined overrides", () => {
  const options = miningOptions({
    candidates: undefined,
    sampling: { principle: { temperature: 0.5, maxTokens: undefined } },
    guard: { leakNgram: 6 },
  });
  assert.equal(options.candidates, 8);
  assert.deepEqual(options.sampling.principle, { temperature: 0.5, topP: 0.95 });
  assert.equal(options.sampling.answer.temperature, 0.7);
  assert.deepEqual(options.guard, { maxWords: 60, leakNgram: 6, leakPrecision: 0.5 });
});
