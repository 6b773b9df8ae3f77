import assert from "node:assert/strict";
import { test } from "node:test";
import { RetryWaits } from "./retry-waits.ts";

test("counts retries, and the waits still running with the longest time left", () => {
  let now = 1_000;
  const waits = new RetryWaits(() => now);
  assert.deepEqual(waits.view(), { retries: 0, retryingCalls: 0, retryWaitSeconds: 0 });
  waits.add(60_000);
  waits.add(2_500);
  waits.add(0);
  assert.deepEqual(waits.view(), { retries: 3, retryingCalls: 2, retryWaitSeconds: 60 });
  now += 3_000;
  assert.deepEqual(waits.view(), { retries: 3, retryingCalls: 1, retryWaitSeconds: 57 });
  now += 57_000;
  assert.deepEqual(waits.view(), { retries: 3, retryingCalls: 0, retryWaitSeconds: 0 });
});
