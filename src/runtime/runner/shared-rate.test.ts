import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SqliteStore } from "../store/sqlite-store.ts";
import type { RateLedger } from "../store/work-queue.ts";
import { estimateTokens, SharedRateGate } from "./shared-rate.ts";

/** A ledger that records every grant by the window it fell in. */
function recording(ledger: RateLedger, windowMs: number) {
  const grants = new Map<number, { requests: number; tokens: number }>();
  const wrapped: RateLedger = {
    async takeRate(key, want, limits, ms) {
      const before = Date.now();
      const got = await ledger.takeRate(key, want, limits, ms);
      // The window ends at a multiple of windowMs within [before, after] + resetInMs.
      const window = Math.ceil((before + got.resetInMs) / windowMs) - 1;
      const sum = grants.get(window) ?? { requests: 0, tokens: 0 };
      grants.set(window, { requests: sum.requests + got.requests, tokens: sum.tokens + got.tokens });
      return got;
    },
  };
  return { wrapped, grants };
}

test("two workers on one store share a requests-per-window limit: no window grants more than the limit", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "spri-rate-")), "spri.db");
  const stores = [new SqliteStore(path), new SqliteStore(path)];
  const windowMs = 300;
  try {
    const ledgers = stores.map((store) => recording(store, windowMs));
    const gates = ledgers.map(
      ({ wrapped }) => new SharedRateGate(wrapped, "openai-compatible:http://x/v1#m", { requestsPerMinute: 4 }, windowMs),
    );
    const calls = 14;
    await Promise.all(Array.from({ length: calls }, (_, i) => gates[i % 2]!.acquire(0)));
    const perWindow = new Map<number, number>();
    for (const { grants } of ledgers)
      for (const [window, got] of grants) perWindow.set(window, (perWindow.get(window) ?? 0) + got.requests);
    for (const [window, requests] of perWindow) assert.ok(requests <= 4, `window ${window} granted ${requests}`);
    const granted = [...perWindow.values()].reduce((a, b) => a + b, 0);
    assert.ok(granted >= calls, `granted ${granted} for ${calls} calls`);
    assert.ok(perWindow.size >= Math.ceil(calls / 4), "the calls were spread over windows");
  } finally {
    for (const store of stores) await store.close();
  }
});

test("a tokens limit counts the prompt estimate plus the output cap", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "spri-rate-")), "spri.db");
  const store = new SqliteStore(path);
  try {
    const request = { messages: [{ role: "user" as const, content: "x".repeat(400) }], sampling: { maxTokens: 100 } };
    assert.equal(estimateTokens(request), 200);
    const { wrapped, grants } = recording(store, 300);
    const gate = new SharedRateGate(wrapped, "k", { tokensPerMinute: 500 }, 300);
    for (let i = 0; i < 5; i++) await gate.acquire(estimateTokens(request));
    for (const [window, got] of grants) assert.ok(got.tokens <= 500, `window ${window} granted ${got.tokens} tokens`);
    assert.ok(grants.size >= 2, "five calls of 200 tokens need at least two windows of 500");
  } finally {
    await store.close();
  }
});
