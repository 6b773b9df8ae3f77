import assert from "node:assert/strict";
import { test } from "node:test";
import { emptySpend } from "../../runtime/runner/cost.ts";
import type { ProgressSnapshot } from "../../runtime/runner/run-progress.ts";
import { JsonProgressSink, runProgressLine, TerminalProgressSink } from "./progress.ts";

// 10 items were done by an earlier command, 40 by this one: 50 of 100.
const snap: ProgressSnapshot = {
  done: 40,
  failed: 2,
  skipped: 10,
  total: 100,
  spend: { ...emptySpend(), calls: 230, cacheHits: 30, inputTokens: 9000, outputTokens: 1000, costUsd: 0.0123 },
  elapsedSeconds: 20,
  itemsPerSecond: 2.1,
  etaSeconds: 23,
};

/** A stand-in for process.stderr: what was written, and the width the terminal reports now. */
function fakeTerminal(columns: number | undefined) {
  const writes: string[] = [];
  return { writes, stream: { isTTY: true, columns, write: (text: string) => writes.push(text) > 0 } };
}

test("the progress line fits the terminal: everything at 120 columns, the essentials at 40", () => {
  const wide = runProgressLine(snap, 120);
  assert.equal(wide, "spri: 50/100 done (50%) · 2 failed · 230 calls (30 cached) · 10000 tokens · $0.0123 · 2.10 items/s · ETA 23s");
  const normal = runProgressLine(snap, 80);
  assert.equal(normal, "spri: 50/100 (50%) · 2 failed · 230 calls · 10k tok · $0.0123 · 2.1/s · ETA 23s");
  const narrow = runProgressLine(snap, 40);
  assert.equal(narrow, "50/100 · 2 failed · $0.0123 · ETA 23s");
  // Never the last column: a terminal wraps a line that fills it, and the next update then leaves a line behind.
  for (const [line, width] of [
    [wide, 120],
    [normal, 80],
    [narrow, 40],
  ] as const)
    assert.ok(line.length < width, `${line.length} ≥ ${width}`);
  assert.ok(runProgressLine(snap, 12).length < 12);
});

test("the progress line before the total is known, at a slow rate, and with unpriced calls", () => {
  const early = runProgressLine(
    { ...snap, total: undefined, etaSeconds: undefined, itemsPerSecond: 0.05, spend: { ...snap.spend, costUsd: 0, unpricedCalls: 200 } },
    120,
  );
  assert.equal(early, "spri: 50 done · 2 failed · 230 calls (30 cached) · 10000 tokens · unpriced · 3.00 items/min");
});

test("on a terminal: one line rewritten in place, as wide as the terminal is now, a newline only at the end", () => {
  const { writes, stream } = fakeTerminal(80);
  let now = 0;
  const sink = new TerminalProgressSink(stream, { now: () => now });
  sink.update(() => snap);
  sink.update(() => ({ ...snap, done: 41 }));
  assert.equal(writes.length, 1, "updates closer than the redraw interval are skipped");
  stream.columns = 40;
  now = 1000;
  sink.update(() => snap);
  sink.finish({ ...snap, done: 90, etaSeconds: 0 });
  assert.equal(writes.length, 3);
  for (const text of writes.slice(0, 2)) {
    assert.ok(text.startsWith("\r\x1b[2K"), "each update clears the line it rewrites");
    assert.ok(!text.includes("\n"));
  }
  assert.equal(writes[1], "\r\x1b[2K50/100 · 2 failed · $0.0123 · ETA 23s");
  assert.ok(writes[2]!.endsWith("\n") && writes[2]!.startsWith("\r\x1b[2K100/100"));
  // A terminal that does not say its width is taken as 80 columns.
  const unknown = fakeTerminal(undefined);
  new TerminalProgressSink(unknown.stream).update(() => snap);
  assert.equal(unknown.writes[0], `\r\x1b[2K${runProgressLine(snap, 80)}`);
});

test("a sink builds the snapshot only for the updates it draws (the runner reports after every call)", () => {
  let now = 0;
  let reads = 0;
  const read = () => {
    reads++;
    return snap;
  };
  const json = new JsonProgressSink(
    () => {},
    10_000,
    () => now,
  );
  const terminal = new TerminalProgressSink(fakeTerminal(80).stream, { now: () => now });
  for (let i = 0; i < 100; i++) {
    json.update(read);
    terminal.update(read);
  }
  assert.equal(reads, 2, "one read each, for the first update");
  now = 10_000;
  json.update(read);
  terminal.update(read);
  assert.equal(reads, 4);
});

test("off a terminal: one JSON object per line, at most one per interval, with the total and the ETA", () => {
  const lines: string[] = [];
  let now = 0;
  const sink = new JsonProgressSink(
    (line) => lines.push(line),
    10_000,
    () => now,
  );
  sink.update(() => snap);
  sink.update(() => ({ ...snap, done: 41 }));
  now = 10_000;
  sink.update(() => ({ ...snap, done: 42 }));
  sink.finish({ ...snap, done: 88, etaSeconds: 0 });
  assert.equal(lines.length, 3);
  for (const line of lines) {
    assert.ok(line.endsWith("\n") && line.indexOf("\n") === line.length - 1, "one line each");
  }
  const [first, second, last] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(first!.event, "progress");
  assert.equal(first!.done, 40);
  assert.equal(first!.total, 100);
  assert.equal(first!.etaSeconds, 23);
  assert.equal(first!.calls, 230);
  assert.equal(first!.costUsd, 0.0123);
  assert.equal(second!.done, 42);
  assert.equal(last!.event, "finished");
  assert.equal(last!.done, 88);
  const unpriced: string[] = [];
  new JsonProgressSink((line) => unpriced.push(line)).finish({ ...snap, spend: { ...snap.spend, costUsd: 0, unpricedCalls: 200 } });
  assert.equal(JSON.parse(unpriced[0]!).costUsd, null, "unpriced is null, not 0");
});

test("calls waiting to retry show in the line while there is room, and in the JSON, with the longest wait left", () => {
  const waiting = { ...snap, retries: 3, retryingCalls: 2, retryWaitSeconds: 42 };
  assert.match(runProgressLine(waiting, 200), / · 2 waiting to retry \(42s\)$/);
  assert.match(runProgressLine(waiting, 80), /2 retrying$/);
  assert.doesNotMatch(runProgressLine({ ...snap, retries: 3, retryingCalls: 0, retryWaitSeconds: 0 }, 200), /retry/);
  const lines: string[] = [];
  new JsonProgressSink((line) => lines.push(line), 0).update(() => waiting);
  const line = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual([line.retries, line.retryingCalls, line.retryWaitSeconds], [3, 2, 42]);
});
