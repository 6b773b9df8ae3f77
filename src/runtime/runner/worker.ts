/**
 * `spri worker`: a process that works the unfinished items of the runs in a shared store, with each
 * run's recorded settings (task, models, prompts, sampling) and the API keys of its own environment.
 * It leases items like `spri run` does (see work-loop.ts), so any number of workers on any number of
 * machines, and the `spri run` that enqueued the run, share it exactly once. It never writes output
 * files: the process holding the run's output role does (output-tail.ts).
 */
import { randomUUID } from "node:crypto";
import type { CallRecord } from "../../io/records.ts";
import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import type { CacheMode } from "../store/call-cache.ts";
import type { RunMeta, RunStore } from "../store/run-store.ts";
import { itemKey, thisWorker } from "../store/work-queue.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import { Wake } from "../../base/util/wake.ts";
import { Completer } from "./completer.ts";
import { type Budget, countCall, emptySpend, type PriceTable, requirePrices, type Spend } from "./cost.ts";
import { startLeaseHeartbeat } from "./heartbeat.ts";
import { itemRunner } from "./item-runner.ts";
import { reapDeadLocalWorkers } from "./reap.ts";
import type { RetryOptions } from "./retry.ts";
import { DEFAULT_LEASE_MS, itemsInFlight, type StopKind, wrapModels } from "./run-job.ts";
import { RunSpend } from "./run-spend.ts";
import type { RateLimits } from "./shared-rate.ts";
import { followPolls, WorkLoop } from "./work-loop.ts";

/** What a worker needs to run a run's items, rebuilt from the run's recorded command. */
export interface WorkerRun {
  prepared: PreparedTask;
  /** The run's models as configured (the worker puts cache, limits and retries around them). */
  models: SpriModels;
  idField: string;
  timeoutMs?: number;
  cacheMode: CacheMode;
  retry?: RetryOptions;
  prices: PriceTable;
  budget: Budget;
  rateLimits?: RateLimits;
  close(): Promise<void>;
}

interface OpenedRun extends WorkerRun {
  spend: RunSpend;
}

export interface WorkerOptions {
  store: RunStore;
  /** Only this run; otherwise every running run of the store, one after another. */
  runId?: string;
  concurrency: number;
  /** Exit once nothing is left; otherwise wait for more work. */
  drain: boolean;
  leaseMs?: number;
  /** How often to look at the store while others hold a running run's items (default 100 ms); at least 500 ms while no run is running. */
  pollMs?: number;
  signal?: AbortSignal;
  /** Builds a run's algorithm and models from its recorded command; throws when it cannot. */
  openRun(run: RunMeta): Promise<WorkerRun>;
  log?: (line: string) => void;
  onCall?: (call: CallRecord, costUsd: number | undefined) => void;
  /** Once this worker is registered in the store (its runs count it as working them from then on). */
  onStarted?: () => void;
}

export interface WorkerResult {
  workerId: string;
  done: number;
  failed: number;
  /** Results refused because the item's lease had been lost. */
  refused: number;
  /** Items abandoned mid-way because the heartbeat found their lease lost. */
  lost: number;
  runs: string[];
  spend: Spend;
  stopReason?: string;
  stopKind?: StopKind;
}

/**
 * How often a worker looks at the store while a run is running whose pending items other workers
 * hold: one of their leases may lapse (a lost worker), and a draining worker ends once the run is
 * done, so the last process of a shared run exits within this of its last item (at 500 ms a
 * draining worker outlived the run by a quarter second on average); in its first second of following
 * it looks every `END_POLL_MS` (work-loop.ts).
 */
const FOLLOW_POLL_MS = 100;
/** How often an idle worker looks for work while no run is running. */
const IDLE_POLL_MS = 500;

export async function runWorker(options: WorkerOptions): Promise<WorkerResult> {
  const { store } = options;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? FOLLOW_POLL_MS;
  const idlePollMs = Math.max(pollMs, IDLE_POLL_MS);
  const workerId = randomUUID();
  await reapDeadLocalWorkers(store, options.runId);
  await store.registerWorker(thisWorker(workerId, options.runId));
  options.onStarted?.();
  const result: WorkerResult = { workerId, done: 0, failed: 0, refused: 0, lost: 0, runs: [], spend: emptySpend() };
  const stop = new AbortController();
  const cancel = new AbortController();
  const cancelAll = (reason: string, kind: StopKind) => {
    if (result.stopReason === undefined) [result.stopReason, result.stopKind] = [reason, kind];
    stop.abort();
    cancel.abort();
  };
  // A spent budget stops the leasing; the calls in flight finish (they are paid for).
  const stopForBudget = (reason: string) => {
    if (result.stopReason === undefined) [result.stopReason, result.stopKind] = [reason, "budget"];
    stop.abort();
  };
  const onAbort = () => cancelAll("interrupted", "interrupted");
  options.signal?.addEventListener("abort", onAbort);
  const wake = new Wake();
  const opened = new Map<string, OpenedRun>();
  const completer = new Completer(store, workerId, {
    onCompletion: (completion, results) => {
      const accepted = new Set(completion.accepted.map((a) => itemKey(a.runId, a.itemId)));
      for (const r of results) {
        if (!accepted.has(itemKey(r.runId, r.itemId))) result.refused++;
        else if (r.status === "done") result.done++;
        else result.failed++;
      }
    },
  });
  let current: WorkLoop | undefined;
  const heartbeat = startLeaseHeartbeat({
    store,
    workerId,
    leaseMs,
    loop: () => current,
    onError: (error) => options.log?.(`heartbeat failed: ${(error as Error).message}`),
  });
  const refusedRuns = new Set<string>();
  const follow = followPolls(pollMs);
  /** Since when this worker has had nothing to lease while others still hold a running run's items. */
  let followingSince: number | undefined;
  try {
    while (!stop.signal.aborted) {
      // Every running run of the store, listed once per look (without --run).
      const running = options.runId === undefined ? await runningRuns(store) : [];
      const run = await nextRun(store, options.runId, running, refusedRuns);
      if (!run) {
        const following = !(await nothingLeft(store, options.runId, running));
        if (options.drain && !following) break;
        followingSince = following ? (followingSince ?? performance.now()) : undefined;
        await wake.wait(followingSince === undefined ? idlePollMs : follow(performance.now() - followingSince), stop.signal);
        continue;
      }
      followingSince = undefined;
      let context = opened.get(run.id);
      if (!context) {
        try {
          const opening = await options.openRun(run);
          try {
            requirePrices(opening.budget, opening.prices, [opening.models.base, opening.models.critic]);
          } catch (error) {
            await opening.close();
            throw error;
          }
          context = { ...opening, spend: new RunSpend(store, run.id, opening.budget) };
          await context.spend.start();
        } catch (error) {
          if (options.runId !== undefined) throw error;
          refusedRuns.add(run.id);
          options.log?.(`skipping run ${run.id}: ${(error as Error).message}`);
          continue;
        }
        opened.set(run.id, context);
        result.runs.push(run.id);
        options.log?.(`working run ${run.id} (${run.task})`);
      }
      current = workLoop(run, context);
      await current.run();
      await completer.flush();
      if (options.runId === undefined) continue;
      if (options.drain) break;
    }
    await completer.flush();
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    await heartbeat.stop();
    await completer.flush().catch(() => {});
    await store.stopWorker(workerId);
    for (const context of opened.values()) {
      await context.spend.release().catch(() => {});
      await context.close();
    }
  }
  return result;

  function workLoop(run: RunMeta, context: OpenedRun): WorkLoop {
    // The budget is the run's: what every process spent on it, this one's calls in this run included.
    const spend = emptySpend();
    // Calls are paid from the run's budget as they are made (see wrapModels).
    const price = (call: CallRecord): number | undefined => {
      countCall(result.spend, call, context.prices);
      const cost = countCall(spend, call, context.prices);
      const spent = context.spend.reason();
      if (spent) stopForBudget(spent);
      return cost;
    };
    const models = wrapModels({
      models: context.models,
      concurrency: options.concurrency,
      timeoutMs: context.timeoutMs,
      retry: context.retry,
      cacheMode: context.cacheMode,
      store,
      rateLimits: context.rateLimits,
      prices: context.prices,
      spend: context.spend,
    });
    const runItem = itemRunner({
      prepared: context.prepared,
      models,
      idField: context.idField,
      timeoutMs: context.timeoutMs,
      completer,
      cancel: cancel.signal,
      price,
      onCall: options.onCall,
      onFatal: (reason) => cancelAll(reason, "provider"),
      onBudgetSpent: stopForBudget,
      onLeaseLost: () => result.lost++,
    });
    return new WorkLoop({
      store,
      workerId,
      runId: run.id,
      slots: itemsInFlight(options.concurrency),
      leaseMs,
      pollMs: follow,
      stop: stop.signal,
      wake,
      runItem,
      idle: async () => {
        await completer.flush();
        // One run: stay with it (drain: until it is finished). Every run: move on to the next.
        if (options.runId === undefined) return true;
        return options.drain ? runFinished(store, run.id) : false;
      },
    });
  }
}

/** The store's running runs, oldest first. */
async function runningRuns(store: RunStore): Promise<RunMeta[]> {
  return (await store.listRuns({ limit: 1000 })).filter((run) => run.status === "running").reverse();
}

/**
 * The run to work next: the given one, or the oldest of `running` (not skipped) with an item that
 * no live lease holds.
 */
async function nextRun(
  store: RunStore,
  runId: string | undefined,
  running: readonly RunMeta[],
  skip: ReadonlySet<string>,
): Promise<RunMeta | undefined> {
  if (runId !== undefined) {
    const run = await store.getRun(runId);
    if (!run) throw new Error(`no run with id "${runId}" in the store`);
    return run;
  }
  for (const run of running) {
    if (!skip.has(run.id) && (await store.hasPending(run.id, { unleased: true }))) return run;
  }
  return undefined;
}

async function runFinished(store: RunStore, runId: string): Promise<boolean> {
  const run = await store.getRun(runId);
  return run === undefined || (await runDone(store, run));
}

/** Its whole input is queued (or it no longer runs) and no item is pending. */
async function runDone(store: RunStore, run: RunMeta): Promise<boolean> {
  return (run.inputComplete === true || run.status !== "running") && !(await store.hasPending(run.id));
}

/** The given run is finished, or (without one) every run of `running` is. */
async function nothingLeft(store: RunStore, runId: string | undefined, running: readonly RunMeta[]): Promise<boolean> {
  if (runId !== undefined) return runFinished(store, runId);
  for (const run of running) if (!(await runDone(store, run))) return false;
  return true;
}
