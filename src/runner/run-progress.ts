/**
 * Progress of a run: items done and failed, calls, tokens, cost, rate and ETA. On a terminal it is
 * one status line rewritten in place; elsewhere a JSON line every `intervalMs`, for log collectors.
 */
import type { Spend } from "./cost.ts";
import type { RetryWaitView } from "./retry-waits.ts";

export interface ProgressSnapshot {
  done: number;
  failed: number;
  skipped: number;
  /** Items in the input, when known (after a count or at the end of the stream). */
  total?: number;
  spend: Spend;
  elapsedSeconds: number;
  itemsPerSecond: number;
  etaSeconds?: number;
  /** Calls tried again so far (429, 5xx, resets, timeouts). */
  retries?: number;
  /** Calls waiting now before their next try (a backoff or a server's Retry-After). */
  retryingCalls?: number;
  /** The longest of those waits still to go, in seconds. */
  retryWaitSeconds?: number;
}

export interface ProgressSink {
  update(snapshot: ProgressSnapshot): void;
  finish(snapshot: ProgressSnapshot): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

export function progressLine(p: ProgressSnapshot): string {
  const of = p.total === undefined ? "" : `/${p.total}`;
  const tokens = p.spend.inputTokens + p.spend.outputTokens;
  const cost = p.spend.unpricedCalls > 0 && p.spend.costUsd === 0 ? "cost ?" : `$${p.spend.costUsd.toFixed(4)}`;
  const eta = p.etaSeconds === undefined ? "" : `, ETA ${formatDuration(p.etaSeconds)}`;
  const skipped = p.skipped > 0 ? `, ${p.skipped} already done` : "";
  const waiting = p.retryingCalls ? ` | ${p.retryingCalls} ${p.retryingCalls === 1 ? "call" : "calls"} waiting to retry (${formatDuration(p.retryWaitSeconds ?? 0)})` : "";
  return `spri: ${p.done}${of} done, ${p.failed} failed${skipped} | ${p.spend.calls} calls (${p.spend.cacheHits} cached), ${tokens} tokens, ${cost} | ${p.itemsPerSecond.toFixed(2)} items/s${eta}${waiting}`;
}

export class TerminalProgressSink implements ProgressSink {
  private readonly stream: NodeJS.WriteStream;
  private last = 0;

  constructor(stream: NodeJS.WriteStream) {
    this.stream = stream;
  }

  update(snapshot: ProgressSnapshot): void {
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.stream.write(`\r\x1b[2K${progressLine(snapshot)}`);
  }

  finish(snapshot: ProgressSnapshot): void {
    this.stream.write(`\r\x1b[2K${progressLine(snapshot)}\n`);
  }
}

export class JsonLogProgressSink implements ProgressSink {
  private readonly write: (line: string) => void;
  private readonly intervalMs: number;
  private last = 0;

  constructor(write: (line: string) => void, intervalMs = 10_000) {
    this.write = write;
    this.intervalMs = intervalMs;
  }

  update(snapshot: ProgressSnapshot): void {
    const now = Date.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.write(`${JSON.stringify({ event: "progress", ...flatten(snapshot) })}\n`);
  }

  finish(snapshot: ProgressSnapshot): void {
    this.write(`${JSON.stringify({ event: "finished", ...flatten(snapshot) })}\n`);
  }
}

function flatten(p: ProgressSnapshot): Record<string, unknown> {
  const { spend, ...rest } = p;
  return { ...rest, ...spend, costUsd: Math.round(spend.costUsd * 1e6) / 1e6, at: new Date().toISOString() };
}

/** Rate and ETA from counts so far, with the run's retries and waits when given. */
export function snapshot(counts: { done: number; failed: number; skipped: number; total?: number }, spend: Spend, startedAt: number, waits?: RetryWaitView): ProgressSnapshot {
  const elapsedSeconds = (performance.now() - startedAt) / 1000;
  const finished = counts.done + counts.failed;
  const itemsPerSecond = elapsedSeconds > 0 ? finished / elapsedSeconds : 0;
  const remaining = counts.total === undefined ? undefined : counts.total - counts.skipped - finished;
  const etaSeconds = remaining !== undefined && itemsPerSecond > 0 ? remaining / itemsPerSecond : undefined;
  return { ...counts, spend: { ...spend }, elapsedSeconds, itemsPerSecond, etaSeconds, ...waits };
}
