/**
 * A shared run as seen from outside, for `spri status` and the viewer's workers panel: items done,
 * failed, leased and waiting, the recent rate and an ETA, and the run's workers with their per-run
 * counts. Read-only and composed of existing `RunStore` methods only (no query of its own), so every
 * store implementation serves it as it is.
 *
 * The rate is the number of items finished (done or failed) in the recent window divided by the
 * window, taken from the finished items' `updatedAt` (the time their result was committed). The
 * window is the last five minutes, shortened to when the run's current workers started (a run
 * resumed a minute ago is not averaged over four idle minutes) and, when more items than the sample
 * finished in it, to the span of the most recent sample.
 */
import type { ItemCounts, RunMeta, RunStore } from "../store/run-store.ts";
import type { WorkerInfo } from "../store/work-queue.ts";
import { type RunState, runState, type ShownStatus, withLocalLiveness, worksRun } from "./run-state.ts";

/** Every item of a run is in exactly one of these: `done + failed + leased + pending = total`. */
export interface WatchCounts {
  total: number;
  done: number;
  failed: number;
  /** Pending items a worker holds a live lease on now. */
  leased: number;
  /** Pending items no worker holds: waiting in the queue. */
  pending: number;
}

export interface WatchedWorker extends WorkerInfo {
  /** Seconds from the worker's last heartbeat to the snapshot (`at`). */
  heartbeatAgeSeconds: number;
}

/**
 * One run, live: what `spri status --run` and `GET /api/runs/:id/workers` show. `status` is the
 * shown one (`interrupted` when no process works a running run); `reason`, `resume` and `output` as
 * in `RunState`.
 */
export interface RunWatch extends Omit<RunState, "status"> {
  runId: string;
  task: string;
  status: ShownStatus;
  inputPath: string;
  outputPath?: string;
  /** When the snapshot was taken (ISO 8601, UTC). */
  at: string;
  items: WatchCounts;
  /** Items finished per minute over the last `rateWindowSeconds`; 0 when none finished in it. */
  ratePerMinute: number;
  rateWindowSeconds: number;
  /** Seconds until every item is finished at the current rate; null when the run is not running or the rate is 0. */
  etaSeconds: number | null;
  /** Workers registered for this run, those that worked on it, and live workers of every run (see below). */
  workers: WatchedWorker[];
  /** Active workers working this run: registered for it, or of every run while it is running. */
  activeWorkers: number;
}

/** One row of the runs overview (`spri status` without `--run`). */
export interface RunRow {
  id: string;
  task: string;
  status: ShownStatus;
  /** Why it failed, stopped or was interrupted, when known. */
  reason?: string;
  inputPath: string;
  outputPath?: string;
  createdAt: string;
  updatedAt: string;
  items: WatchCounts;
  activeWorkers: number;
}

export const RATE_WINDOW_MS = 5 * 60_000;
/** The most recent finished items of each status read for the rate (only their times are used). */
export const RATE_SAMPLE = 100;

export interface WatchOptions {
  /** The snapshot's time (ms since the epoch); default now. */
  now?: number;
  windowMs?: number;
  /** The rate of an earlier snapshot to reuse (the live stream recomputes it only when items finish). */
  rate?: { ratePerMinute: number; rateWindowSeconds: number };
}

export async function watchRun(store: RunStore, run: RunMeta, options: WatchOptions = {}): Promise<RunWatch> {
  const now = options.now ?? Date.now();
  const [counts, leased, listed] = await Promise.all([store.itemCounts(run.id), store.leasedCount(run.id), store.listWorkers(run.id)]);
  const live = withLocalLiveness(listed);
  const state = await runState(store, run, { workers: live, counts });
  const workers = live.filter((w) => belongsTo(w, run)).map((w) => ({ ...w, heartbeatAgeSeconds: ageSeconds(w.heartbeatAt, now) }));
  const rate = options.rate ?? (await recentRate(store, run, workers, now, options.windowMs ?? RATE_WINDOW_MS));
  const items = watchCounts(counts, leased);
  const left = items.pending + items.leased;
  return {
    runId: run.id,
    task: run.task,
    ...state,
    inputPath: run.inputPath,
    ...(run.outputPath === undefined ? {} : { outputPath: run.outputPath }),
    at: new Date(now).toISOString(),
    items,
    ...rate,
    etaSeconds: state.status === "running" && rate.ratePerMinute > 0 ? Math.round((left / rate.ratePerMinute) * 60) : null,
    workers,
    activeWorkers: workers.filter((w) => worksRun(w, run)).length,
  };
}

/** The newest `limit` runs with their counts and active workers. */
export async function runRows(store: RunStore, limit: number): Promise<RunRow[]> {
  const runs = await store.listRuns({ limit });
  return Promise.all(
    runs.map(async (run) => {
      const [counts, leased, listed] = await Promise.all([store.itemCounts(run.id), store.leasedCount(run.id), store.listWorkers(run.id)]);
      const workers = withLocalLiveness(listed);
      const { status, reason } = await runState(store, run, { workers, counts });
      return {
        id: run.id,
        task: run.task,
        status,
        ...(reason === undefined ? {} : { reason }),
        inputPath: run.inputPath,
        ...(run.outputPath === undefined ? {} : { outputPath: run.outputPath }),
        createdAt: run.createdAt,
        updatedAt: run.updatedAt,
        items: watchCounts(counts, leased),
        activeWorkers: workers.filter((w) => worksRun(w, run)).length,
      };
    }),
  );
}

export function watchCounts(counts: ItemCounts, leased: number): WatchCounts {
  const held = Math.min(leased, counts.pending);
  return { total: counts.total, done: counts.done, failed: counts.failed, leased: held, pending: counts.pending - held };
}

/**
 * Items per minute from finish times (ms): those in `[max(now - windowMs, since), now]`, over that
 * span; when at least `sample` of them are, the newest `sample` over their own span (the caller may
 * hold only the newest few of a busy window). Spans are at least a second, so a burst of cache hits
 * gives a finite rate.
 */
export function estimateRate(
  finishedAt: readonly number[],
  options: { now: number; windowMs: number; since?: number; sample?: number },
): { ratePerMinute: number; rateWindowSeconds: number } {
  const { now } = options;
  const start = Math.max(now - options.windowMs, options.since ?? -Infinity);
  const sample = options.sample ?? RATE_SAMPLE;
  const recent = finishedAt
    .filter((t) => t >= start && t <= now)
    .sort((a, b) => b - a)
    .slice(0, sample);
  const from = recent.length >= sample ? recent[recent.length - 1]! : start;
  const spanMs = Math.max(1000, now - from);
  return { ratePerMinute: round1((recent.length / spanMs) * 60_000), rateWindowSeconds: Math.round(spanMs / 1000) };
}

async function recentRate(store: RunStore, run: RunMeta, workers: readonly WorkerInfo[], now: number, windowMs: number) {
  const [done, failed] = await Promise.all(
    (["done", "failed"] as const).map((status) => store.listItems(run.id, { status, sort: "-updated", limit: RATE_SAMPLE })),
  );
  // The newest RATE_SAMPLE of both pages together are the run's newest RATE_SAMPLE finished items.
  const times = [...done!, ...failed!].map((item) => Date.parse(item.updatedAt)).filter(Number.isFinite);
  const live = workers
    .filter((w) => w.status !== "stopped")
    .map((w) => Date.parse(w.startedAt))
    .filter(Number.isFinite);
  const since = live.length > 0 ? Math.min(...live) : Date.parse(run.createdAt);
  return estimateRate(times, { now, windowMs, since, sample: RATE_SAMPLE });
}

/**
 * `listWorkers(runId)` also lists every live worker of all runs; for a run that is not running they
 * have nothing to do with it unless they worked on it, so they are left out there.
 */
function belongsTo(worker: WorkerInfo, run: RunMeta): boolean {
  if (worker.runId !== undefined || run.status === "running") return true;
  return worker.itemsDone + worker.itemsFailed + worker.leased > 0;
}

function ageSeconds(iso: string, now: number): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, Math.round((now - t) / 1000)) : 0;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
