/**
 * Progress of a run as the runner sees it: items done and failed, calls, tokens, cost, rate and ETA,
 * handed to a sink on every change. How it is shown (a line on a terminal, JSON lines in a log) is
 * the command's business: see cli/progress.ts.
 */
import type { Spend } from "./cost.ts";
import type { RetryWaitView } from "./retry-waits.ts";

export interface ProgressSnapshot {
  /** Finished by this command. */
  done: number;
  failed: number;
  /** Done by earlier commands of the run (counted in `total`, not in `done`). */
  skipped: number;
  /** Items of the run (the whole input, rejected rows included), once the input is all queued. */
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
  /**
   * A new state of the run. The runner reports after every call, the sinks draw at most once per
   * interval: `read` builds the snapshot, and is called only when the sink draws.
   */
  update(read: () => ProgressSnapshot): void;
  finish(snapshot: ProgressSnapshot): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/**
 * Rate and ETA from counts so far, with the run's retries and waits when given (`startedAt` and
 * `now` on the `performance.now()` clock).
 */
export function snapshot(
  counts: { done: number; failed: number; skipped: number; total?: number },
  spend: Spend,
  startedAt: number,
  waits?: RetryWaitView,
  now = performance.now(),
): ProgressSnapshot {
  const elapsedSeconds = (now - startedAt) / 1000;
  const finished = counts.done + counts.failed;
  const itemsPerSecond = elapsedSeconds > 0 ? finished / elapsedSeconds : 0;
  const remaining = counts.total === undefined ? undefined : Math.max(0, counts.total - counts.skipped - finished);
  const etaSeconds = remaining !== undefined && itemsPerSecond > 0 ? remaining / itemsPerSecond : undefined;
  return { ...counts, spend: { ...spend }, elapsedSeconds, itemsPerSecond, etaSeconds, ...waits };
}
