import assert from "node:assert/strict";
import { test } from "node:test";
import { emptySpend } from "./cost.ts";
import { formatDuration, JsonLogProgressSink, progressLine } from "./run-progress.ts";

const snap = { done: 40, failed: 2, skipped: 10, total: 100, spend: { ...emptySpend(), calls: 230, cacheHits: 30, inputTokens: 9000, outputTokens: 1000, costUsd: 0.0123 }, elapsedSeconds: 20, itemsPerSecond: 2.1, etaSeconds: 23 };

test("the terminal line shows items, failures, calls, tokens, cost, rate and ETA", () => {
  assert.equal(progressLine(snap), "spri: 40/100 done, 2 failed, 10 already done | 230 calls (30 cached), 10000 tokens, $0.0123 | 2.10 items/s, ETA 23s");
  assert.equal(formatDuration(3725), "1h02m");
  assert.equal(formatDuration(125), "2m05s");
});

test("off a terminal: one JSON line per interval, and a final one", () => {
  const lines: string[] = [];
  const sink = new JsonLogProgressSink((l) => lines.push(l), 60_000);
  sink.update(snap);
  sink.update(snap);
  sink.finish(snap);
  assert.equal(lines.length, 2);
  const first = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.equal(first.event, "progress");
  assert.equal(first.done, 40);
  assert.equal(first.calls, 230);
  assert.equal(JSON.parse(lines[1]!).event, "finished");
});

test("calls waiting to retry show in the line and in the JSON, with the longest wait left", () => {
  const waiting = { ...snap, retries: 3, retryingCalls: 2, retryWaitSeconds: 42 };
  assert.match(progressLine(waiting), / \| 2 calls waiting to retry \(42s\)$/);
  assert.doesNotMatch(progressLine({ ...snap, retries: 3, retryingCalls: 0, retryWaitSeconds: 0 }), /retry/);
  const lines: string[] = [];
  new JsonLogProgressSink((l) => lines.push(l), 0).update(waiting);
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual([line.retries, line.retryingCalls, line.retryWaitSeconds], [3, 2, 42]);
});
