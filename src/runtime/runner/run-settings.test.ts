import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import { cacheMode, retryOptions } from "./run-settings.ts";

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
