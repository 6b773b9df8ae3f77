import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import type { LanguageModel } from "../../models/language-model.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import { cacheMode, retryOptions, workerRun } from "./run-settings.ts";

test("retryOptions: tries, and the delays in milliseconds", () => {
  const { settings } = resolveSettings({ flags: { maxTries: 3, retryDelay: 0.5, maxRetryWait: 10 }, env: {}, cwd: "/nonexistent" });
  assert.deepEqual(retryOptions(settings), { maxAttempts: 3, baseDelayMs: 500, maxWaitMs: 10_000 });
  assert.throws(
    () => retryOptions({ ...settings, maxRetryWait: -1 }),
    (e: unknown) => e instanceof ConfigError && e.field === "maxRetryWait",
  );
});

test("cacheMode: use, refresh or off; anything else names --cache", () => {
  for (const mode of ["use", "refresh", "off"]) assert.equal(cacheMode(mode), mode);
  assert.throws(
    () => cacheMode("sometimes"),
    (e: unknown) => e instanceof ConfigError && /unknown --cache "sometimes"/.test(e.message),
  );
});

test("workerRun: the runner settings of a run (timeout, cache, retries, prices, budget, rate limits) beside its task and models", async () => {
  const { settings } = resolveSettings({
    flags: { timeout: 7, cache: "refresh", maxTries: 2, maxCost: 1.5, maxTokens: 900, rpm: 60, tpm: 1000 },
    env: {},
    cwd: "/nonexistent",
  });
  const closed: string[] = [];
  const base = { modelId: "m", close: async () => void closed.push("m") } as unknown as LanguageModel;
  const prepared = { task: "sft" } as unknown as PreparedTask;
  const run = workerRun(settings, prepared, { base, critic: base }, "key");
  assert.equal(run.prepared, prepared);
  assert.equal(run.idField, "key");
  assert.equal(run.timeoutMs, 7000);
  assert.equal(run.cacheMode, "refresh");
  assert.deepEqual(run.retry, retryOptions(settings));
  assert.deepEqual(run.budget, { maxCostUsd: 1.5, maxTokens: 900 });
  assert.deepEqual(run.rateLimits, { requestsPerMinute: 60, tokensPerMinute: 1000 });
  await run.close();
  assert.deepEqual(closed, ["m"]);
});
