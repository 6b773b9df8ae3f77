/**
 * `spri run` at scale. The run store is the run's whole state: the input is enqueued into it, items
 * are leased from it (by this process and by any `spri worker` on the same store), and each finished
 * item is committed to it fenced by its lease, so every item is done exactly once however many
 * processes work the run and whichever of them is killed. The output file is derived from the store
 * by the process holding the run's output role (see output-tail.ts): re-running the same command
 * resumes, and cached calls cost nothing, so a run killed at any moment resumes without paying twice.
 * Items that fail go to the rejects file with a reason and are tried again on the next run. A hard
 * error (quota, key, unknown model) or a spent budget stops the run cleanly: no new items start,
 * the ones in flight finish.
 *
 * With `batch` set, the calls go through a provider's Batch API instead, one round per algorithm
 * step (see batch-lane.ts): each pass leases every unfinished item and takes it as far as the cache
 * answers it, and the round's misses go out as one batch.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { ConfigError, InputError, ModelError, SpriError } from "../errors/errors.ts";
import type { CallRecord } from "../io/records.ts";
import type { LanguageModel } from "../models/language-model.ts";
import type { BatchApi, BatchFormat } from "../models/batch-provider.ts";
import type { SpriModels } from "../algorithm/item-algorithm.ts";
import { CachedModel, type CacheMode } from "../store/call-cache.ts";
import type { RunMeta, RunStore } from "../store/run-store.ts";
import { type Lease, thisWorker } from "../store/work-queue.ts";
import type { PreparedTask } from "../tasks/prepare.ts";
import type { TaskItem } from "../algorithm/task-item.ts";
import type { FieldMapping } from "../tasks/task-item.ts";
import { Wake } from "../util/wake.ts";
import { BatchLane, type FlushResult, isBatchable } from "./batch-lane.ts";
import { runKeyOf } from "./run-identity.ts";
import { BudgetedModel } from "./budgeted-model.ts";
import { runArtifactState } from "./batch-state.ts";
import { Completer } from "./completer.ts";
import { type Budget, countCall, emptySpend, type PriceTable, requirePrices, type Spend } from "./cost.ts";
import { enqueueInput } from "./enqueue.ts";
import { Heartbeat } from "./heartbeat.ts";
import { itemRunner } from "./item-runner.ts";
import { claimOutputFile } from "./output-owner.ts";
import { OutputTail, type RejectEntry } from "./output-tail.ts";
import { reapDeadLocalWorkers } from "./reap.ts";
import { INVOCATION_ARTIFACT, type Invocation, recordRunEnd } from "./run-state.ts";
import { sampledIdentity } from "./samples.ts";
import { type CritiqueCounts, UnscoredWatch } from "./unscored-watch.ts";
import { RunSpend } from "./run-spend.ts";
import { makeResilient, type MakeResilientOptions } from "./resilient-model.ts";
import { RetryWaits } from "./retry-waits.ts";
import { type RateLimits, RateLimitedModel, SharedRateGate } from "./shared-rate.ts";
import type { RetryOptions } from "./retry.ts";
import { type ProgressSink, snapshot } from "./run-progress.ts";
import { WorkLoop } from "./work-loop.ts";

export interface RunJobOptions {
  input: string;
  output: string;
  /** Default `<output>.rejects.jsonl`. */
  rejects?: string;
  prepared: PreparedTask;
  models: SpriModels;
  mapping: FieldMapping;
  /** Runs of the algorithm per item (`--samples`, see samples.ts); default 1. */
  samples?: number;
  concurrency: number;
  timeoutMs?: number;
  store: RunStore;
  cacheMode: CacheMode;
  /** What changes the outputs (redacted; see identitySettings in run-identity.ts): it identifies the run, so the same command resumes it. */
  runSettings: Record<string, unknown>;
  budget: Budget;
  prices: PriceTable;
  retry?: RetryOptions;
  progress?: ProgressSink;
  signal?: AbortSignal;
  /** Every call as it ends, after pricing. */
  onCall?: (call: CallRecord, costUsd: number | undefined) => void;
  /** Run the calls through a Batch API, one round per step (OpenAI-compatible models only). */
  batch?: BatchRunOptions;
  /** Work items in this process (default); false: only enqueue them and write the output as workers finish them. */
  work?: boolean;
  /** How long a lease on an item (and on the output role) lasts without a heartbeat; default 30 s. */
  leaseMs?: number;
  /** How often to look at the store for other workers' progress; default 250 ms. */
  pollMs?: number;
  /** Notes for the user (joining a run held by another process). */
  log?: (line: string) => void;
  /** Requests and tokens per minute per endpoint, shared by every worker of the store. */
  rateLimits?: RateLimits;
  /** What `spri worker` needs to rebuild this run elsewhere (stored as the run's `command` artifact). */
  command?: unknown;
  /**
   * Only the first `limit` rows of the input (`--limit`). Not part of the run's identity: a later
   * command with a larger limit, or none, goes on with the same run.
   */
  limit?: number;
  /** Bytes one item's row may hold (`--max-item-size`); larger items are rejected before any call. */
  maxItemBytes?: number;
  /** The command line and directory that resume this run (stored as its `invocation` artifact, for the viewer and `spri status`). */
  invocation?: Invocation;
  /**
   * The output may hold another run's records (other settings, task or input): replace them with
   * this run's instead of refusing (see output-owner.ts).
   */
  newRun?: boolean;
}

export interface BatchRunOptions {
  /** Write each round's file and stop (for `vllm run-batch`); never submit. */
  offline?: boolean;
  /** The provider's batch file format (the caller chooses the adapter, e.g. openai-batch's OPENAI_BATCH_FORMAT). */
  format: BatchFormat;
  /** The Batch API of each model, by `LanguageModel.id`; needed unless offline. */
  apis?: ReadonlyMap<string, BatchApi>;
  /** Seconds before the first poll of a batch (backing off from there). Default 30. */
  pollSeconds?: number;
  /** Results files (OpenAI batch output JSONL) to import before the first round. */
  resultsFiles?: readonly string[];
  /** Default `<output>.batch`. */
  dir?: string;
  /** Progress lines of the lane (submitted, status changes, imports). */
  log?: (line: string) => void;
  /** Price factor of batch calls (OpenAI bills batches at half price). Default 0.5 online, 1 offline. */
  priceFactor?: number;
  /** For tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** `awaiting-batch`: offline batch mode wrote a round's files; run them and re-run with their results. */
export type RunOutcome = "completed" | "completed-with-failures" | "stopped" | "awaiting-batch";

/**
 * Why a run (or a worker) stopped early: a budget was spent, a provider refused for good (key,
 * quota, unknown model, a Batch API failure), the user interrupted, or an input was wrong (a batch
 * results file). The CLI turns each into its exit code.
 */
export type StopKind = "budget" | "provider" | "interrupted" | "input";

export interface RunJobResult {
  runId: string;
  outcome: RunOutcome;
  /** Why the run stopped early, when it did. */
  stopReason?: string;
  stopKind?: StopKind;
  done: number;
  failed: number;
  /** Items found in the output from earlier runs. */
  skipped: number;
  spend: Spend;
  output: string;
  rejects: string;
  /** The first few reject reasons, for the command's summary. */
  rejectSamples: string[];
  /** Critiques this process saw (every answer that must carry a score), and how many had none readable. */
  critiques: CritiqueCounts;
  /** The end-of-run line about unscored critiques (see unscored-watch.ts), when there were any. */
  unscored?: string;
  /** Batch mode only. */
  batch?: {
    dir: string;
    /** Rounds this command submitted (or wrote, offline). */
    rounds: number;
    /** Offline: the round written, whose results the next command imports. */
    awaiting?: Extract<FlushResult, { kind: "offline" }>;
  };
}

export const DEFAULT_LEASE_MS = 30_000;
const POLL_MS = 250;

export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  const { store, prepared } = options;
  // Configuration errors (an unpriced model under a cost budget, batch mode's) come before anything is created or written.
  requirePrices(options.budget, options.prices, [options.models.base, options.models.critic]);
  const lane = options.batch ? batchLane(options, options.batch) : undefined;
  const rejectsPath = options.rejects ?? `${options.output}.rejects.jsonl`;
  const idField = options.mapping.idField ?? "id";
  // `PreparedTask.itemKey`: the derived run key becomes the item's id (dedupe, resume, traces),
  // and the row keeps its own id field for the record, from which the key is recomputed to resume.
  const { itemKey } = prepared;
  const keyed = (item: TaskItem): TaskItem =>
    itemKey ? { ...item, id: itemKey(item.row, item.id), row: { [idField]: item.id, ...item.row } } : item;
  const run = await findOrCreateRun(options);
  // The lane's state (its rounds' batches) is an artifact of the run, read by `lane.start`.
  lane?.useStateStore(runArtifactState(store, run.id));
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? POLL_MS;
  // The worker first: a running run without a live worker is shown as interrupted.
  const workerId = randomUUID();
  await store.registerWorker(thisWorker(workerId, run.id));
  await reapDeadLocalWorkers(store, run.id);
  if (options.command !== undefined) await store.putArtifact(run.id, "command", options.command);
  if (options.invocation !== undefined) await store.putArtifact(run.id, INVOCATION_ARTIFACT, options.invocation);

  const counts = { done: 0, failed: 0, skipped: 0, refused: 0 };
  /** Items of the run, rejected input rows included: known once the whole input is queued. */
  let total: number | undefined;
  let rejectedRows = 0;
  const progressCounts = () => ({ done: counts.done, failed: counts.failed, skipped: counts.skipped, total });
  // The output role: one process writes the run's output file. Another `spri run` of the same run
  // joins as a worker, and takes the role over if its holder goes away.
  let tail: OutputTail | undefined;
  const inputRejects: RejectEntry[] = [];
  const becomeHolder = async (first: boolean): Promise<boolean> => {
    const holder = await store.claimOutput(run.id, workerId, leaseMs);
    if (holder?.id !== workerId) return false;
    const opened = await OutputTail.open({
      store,
      runId: run.id,
      output: options.output,
      rejects: rejectsPath,
      identity: sampledIdentity(itemKey ? { field: idField, key: itemKey } : idField, options.samples ?? 1),
      // A process that does no items itself reports the workers' progress as it writes it out.
      onAppend: options.work === false ? (status) => (status === "done" ? counts.done++ : counts.failed++, report()) : undefined,
    });
    for (const entry of inputRejects) opened.reject(entry);
    tail = opened;
    if (first) await store.retryFailed(run.id);
    await store.updateRun(run.id, { status: "running", outputPath: resolve(options.output) });
    return true;
  };
  if (!(await becomeHolder(true))) {
    const holder = (await store.listWorkers(run.id)).find((w) => w.status === "active" && w.id !== workerId);
    options.log?.(
      `run ${run.id} is held by ${holder ? `${holder.host} pid ${holder.pid}` : "another process"}, which writes ${options.output}; joining it as a worker`,
    );
  }
  counts.skipped = (await store.itemCounts(run.id)).done;

  const spend = emptySpend();
  const runSpend = new RunSpend(store, run.id, options.budget);
  if (options.work !== false) await runSpend.start();
  const cachedModels = lane ? wrapBatchModels(options, lane) : undefined;
  const waits = new RetryWaits();
  const onRetry = (event: { delayMs: number }) => {
    waits.add(event.delayMs);
    report();
  };
  const models = cachedModels ?? wrapModels({ ...options, spend: runSpend, onRetry });
  const priceFactor = options.batch ? (options.batch.priceFactor ?? (options.batch.offline ? 1 : BATCH_PRICE_FACTOR)) : 1;
  const startedAt = performance.now();
  const stop = new AbortController();
  let stopReason: string | undefined;
  let stopKind: StopKind | undefined;
  const requestStop = (reason: string, kind: StopKind) => {
    if (stopReason === undefined) [stopReason, stopKind] = [reason, kind];
    stop.abort();
  };
  // A hard error or an interrupt also cancels the calls in flight (they cannot succeed, or the user
  // wants out); a spent budget lets them finish. Cancelled items stay pending for the next run.
  const cancel = new AbortController();
  const cancelRun = (reason: string, kind: StopKind) => {
    requestStop(reason, kind);
    cancel.abort();
  };
  const onOuterAbort = () => cancelRun("interrupted", "interrupted");
  options.signal?.addEventListener("abort", onOuterAbort);
  const report = () => options.progress?.update(snapshot(progressCounts(), spend, startedAt, waits.view()));

  // Calls are paid from the run's budget as they are made (BudgetedModel); a batch round's calls,
  // made together, as their answers come.
  const price = (call: CallRecord): number | undefined => {
    const cost = countCall(spend, call, options.prices, priceFactor);
    const spent = !lane || call.cacheHit ? runSpend.reason() : runSpend.charge(cost ?? 0, call.usage.inputTokens + call.usage.outputTokens);
    if (spent) requestStop(spent, "budget");
    report();
    return cost;
  };

  const wake = new Wake();
  const completer = new Completer(store, workerId, {
    onCompletion: (completion, results) => {
      const accepted = new Set(completion.accepted.map((a) => a.itemId));
      for (const result of results) {
        if (!accepted.has(result.itemId)) counts.refused++;
        else if (result.status === "done") counts.done++;
        else counts.failed++;
      }
      report();
      void tail?.catchUp().catch(() => {});
    },
  });
  const failureKinds = new Map<string, string>();
  const unscored = new UnscoredWatch({ warn: (line) => options.log?.(line) });
  const batchPending: Lease[] = [];
  const runItem = itemRunner({
    prepared,
    models: lane && cachedModels ? () => lane.itemModels(cachedModels) : models,
    idField,
    timeoutMs: options.timeoutMs,
    completer,
    cancel: cancel.signal,
    price,
    onCall: (call, costUsd) => {
      unscored.observe(call);
      options.onCall?.(call, costUsd);
    },
    onFatal: (reason) => cancelRun(reason, "provider"),
    onBudgetSpent: (reason) => requestStop(reason, "budget"),
    onFailure: (itemId, kind) => {
      if (kind) (tail?.kinds ?? failureKinds).set(itemId, kind);
    },
    onBatchPending: (lease) => batchPending.push(lease),
  });

  let enqueueDone = false;
  const onReject = (entry: RejectEntry) => {
    counts.failed++;
    rejectedRows++;
    if (tail) tail.reject(entry);
    else inputRejects.push(entry);
    report();
  };
  await store.updateRun(run.id, { inputComplete: false });
  const enqueuing = enqueueInput({
    store,
    runId: run.id,
    input: options.input,
    prepared,
    mapping: options.mapping,
    keyed,
    samples: options.samples,
    onReject,
    onBatch: () => wake.notify(),
    signal: stop.signal,
    limit: options.limit,
    maxItemBytes: options.maxItemBytes,
  }).then(async () => {
    enqueueDone = !stop.signal.aborted;
    if (enqueueDone) {
      await store.updateRun(run.id, { inputComplete: true });
      total = (await store.itemCounts(run.id)).total + rejectedRows;
      report();
    }
    wake.notify();
  });

  const loop = (idle: () => Promise<boolean>) =>
    new WorkLoop({
      store,
      workerId,
      runId: run.id,
      slots: options.work === false ? 0 : itemsInFlight(options.concurrency),
      leaseMs,
      pollMs,
      stop: stop.signal,
      wake,
      runItem,
      idle,
    });
  /** The run is over when the whole input is queued and nothing is pending. */
  const runFinished = async () => enqueueDone && (await store.itemCounts(run.id)).pending === 0;
  let current: WorkLoop | undefined;
  const heartbeat = new Heartbeat({
    store,
    workerId,
    leaseMs,
    onBeat: async (held, askedAt) => {
      current?.dropLost(held, askedAt);
      if (tail) await store.claimOutput(run.id, workerId, leaseMs);
      else await becomeHolder(false);
      await tail?.catchUp();
    },
  });
  heartbeat.start();

  let awaiting: Extract<FlushResult, { kind: "offline" }> | undefined;
  try {
    if (!lane) {
      current = loop(async () => {
        await completer.flush();
        await tail?.catchUp();
        // The budget is the run's: workers elsewhere may spend it while this process waits.
        const spent = options.work === false ? await runSpend.probe() : runSpend.reason();
        if (spent) requestStop(spent, "budget");
        return stop.signal.aborted || (await runFinished());
      });
      await current.run();
    } else {
      await enqueuing;
      const pass = async () => {
        current = loop(async () => true);
        await current.run();
        await completer.flush();
        await store.releaseItems(workerId, batchPending.splice(0));
      };
      await batchRounds(lane, pass, stop.signal, requestStop, (result) => (awaiting = result));
    }
    stop.abort();
    await enqueuing;
    await completer.flush();
  } catch (error) {
    stop.abort();
    await enqueuing.catch(() => {});
    await completer.flush().catch(() => {});
    await finish(false);
    if (tail) await recordRunEnd(store, run.id, "failed", error instanceof SpriError ? error.describe() : String(error)).catch(() => {});
    await store.stopWorker(workerId).catch(() => {});
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
  }

  async function finish(completed: boolean): Promise<void> {
    await runSpend.release().catch(() => {});
    await heartbeat.stop();
    if (tail) {
      if (completed) await tail.commit();
      else await tail.close();
    }
  }

  // The whole input was seen and every item finished: the output gets its real name. A stopped run stays partial.
  const finished = !stopReason && !awaiting && (await runFinished());
  if (finished && !tail) await awaitHolder();
  await finish(finished);

  /** The run's status and, unless it completed, why: the viewer and `spri status` show it. */
  async function recordEnd(ended: RunOutcome): Promise<void> {
    if (ended === "completed") return recordRunEnd(store, run.id, "completed");
    if (ended === "stopped") return recordRunEnd(store, run.id, "stopped", stopReason ?? "stopped");
    if (ended === "awaiting-batch")
      return recordRunEnd(
        store,
        run.id,
        "stopped",
        "an offline batch round waits to be run: run it, then this command again with --batch-results",
      );
    const { failed, total } = await store.itemCounts(run.id);
    const reason = `${failed} of ${total} items failed; their reasons are in ${resolve(rejectsPath)}; running the command again retries them`;
    return recordRunEnd(store, run.id, "failed", reason);
  }

  /** A joiner whose work is over waits for the holder to write the output, or takes over from a lost one. */
  async function awaitHolder(): Promise<void> {
    while (!tail && !options.signal?.aborted) {
      if ((await store.getRun(run.id))?.status !== "running") return;
      await reapDeadLocalWorkers(store, run.id);
      if (await becomeHolder(false)) return;
      await wake.wait(pollMs, options.signal);
    }
  }

  const outcome: RunOutcome = stopReason
    ? "stopped"
    : awaiting
      ? "awaiting-batch"
      : counts.failed > 0
        ? "completed-with-failures"
        : "completed";
  // The holder says how the run ended, then lets go of the role (joiners wait for the one or the other).
  if (tail) await recordEnd(outcome);
  await store.stopWorker(workerId);
  options.progress?.finish(snapshot(progressCounts(), spend, startedAt, waits.view()));
  const { refused: _refused, ...reported } = counts;
  const result: RunJobResult = {
    runId: run.id,
    outcome,
    stopReason,
    ...(stopKind ? { stopKind } : {}),
    ...reported,
    spend,
    output: options.output,
    rejects: rejectsPath,
    rejectSamples: tail?.samples ?? inputRejects.slice(0, 5).map((r) => r.reason),
    critiques: unscored.counts,
    ...(unscored.summary() === undefined ? {} : { unscored: unscored.summary() }),
  };
  if (lane) result.batch = { dir: lane.dir, rounds: lane.roundsRun, ...(awaiting ? { awaiting } : {}) };
  return result;
}

/**
 * The run this command resumes (same task, settings, input and output), or a new one; never one whose
 * output file holds another run's records (output-owner.ts). Commands that
 * start together must find one run, not make two: the first run of a key gets an id derived from the
 * key, so a second creator fails to create it and finds it instead.
 */
async function findOrCreateRun(options: RunJobOptions): Promise<RunMeta> {
  const { store, prepared } = options;
  const key = runKeyOf({
    task: prepared.algorithm.name,
    settings: options.runSettings,
    samples: options.samples,
    algorithm: prepared.identity,
    input: options.input,
    output: options.output,
  });
  const found = await store.findRunByKey(key);
  await claimOutputFile({
    store,
    output: options.output,
    runId: found?.id,
    task: prepared.algorithm.name,
    input: options.input,
    settings: options.runSettings,
    newRun: options.newRun,
  });
  if (found) return found;
  try {
    return await store.createRun({
      id: idOfKey(key),
      key,
      task: prepared.algorithm.name,
      settings: options.runSettings,
      inputPath: resolve(options.input),
      outputPath: resolve(options.output),
      baseModel: options.models.base.id,
      criticModel: options.models.critic.id,
    });
  } catch (error) {
    const raced = await store.findRunByKey(key);
    if (raced) return raced;
    throw error;
  }
}

/** A UUID-shaped id from a run key (a sha256 in hex). */
function idOfKey(key: string): string {
  const hex = key.replace(/[^0-9a-f]/g, "").padEnd(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** OpenAI and most providers bill batch calls at half the list price. */
export const BATCH_PRICE_FACTOR = 0.5;

/**
 * The batch rounds: resume what earlier commands left (batches submitted, results to import), then
 * pass over the input, flush what the pass collected, and again, until a pass collects nothing.
 */
async function batchRounds(
  lane: BatchLane,
  pass: (first: boolean) => Promise<void>,
  signal: AbortSignal,
  requestStop: (reason: string, kind: StopKind) => void,
  onAwaiting: (result: Extract<FlushResult, { kind: "offline" }>) => void,
): Promise<void> {
  // A Batch API failure stops the run (re-running resumes); anything else is a bug or a broken store.
  const stopOn = (error: unknown): void => {
    if (!(error instanceof ModelError || error instanceof InputError)) throw error;
    if (signal.aborted) requestStop("interrupted", "interrupted");
    else requestStop(error.describe(), error instanceof ModelError ? "provider" : "input");
  };
  try {
    await lane.start(signal);
  } catch (error) {
    stopOn(error);
    return;
  }
  for (let first = true; !signal.aborted; first = false) {
    lane.beginRound();
    await pass(first);
    if (signal.aborted || lane.collectedCount === 0) break;
    let result: FlushResult;
    try {
      result = await lane.flushRound(signal);
    } catch (error) {
      stopOn(error);
      return;
    }
    if (result.kind === "offline") {
      onAwaiting(result);
      return;
    }
    if (result.kind === "interrupted") return;
  }
  lane.beginRound();
}

function batchLane(options: RunJobOptions, batch: BatchRunOptions): BatchLane {
  if (options.cacheMode !== "use") {
    throw new ConfigError(
      `--batch needs the call cache (it carries the answers from round to round), but the cache is "${options.cacheMode}"`,
      {
        field: "cache",
        hint: "leave out --no-cache / --refresh (or --cache) with --batch",
      },
    );
  }
  for (const [role, model] of Object.entries(options.models)) {
    if (!isBatchable(model)) {
      throw new ConfigError(`--batch works with OpenAI-compatible models only; the ${role} model is ${model.id}`, {
        hint: "use an OpenAI-compatible endpoint (OpenAI, vLLM via --batch-offline, ...) for both models, or run without --batch",
      });
    }
  }
  return new BatchLane({
    dir: batch.dir ?? `${options.output}.batch`,
    cache: options.store.cache,
    format: batch.format,
    offline: batch.offline,
    apis: batch.apis,
    pollSeconds: batch.pollSeconds,
    resultsFiles: batch.resultsFiles,
    log: batch.log,
    sleep: batch.sleep,
  });
}

/** Cache over the lane's collector: a hit answers, a miss becomes a line of the round's batch. */
function wrapBatchModels(options: RunJobOptions, lane: BatchLane): { base: CachedModel; critic: CachedModel } {
  const cached = new Map<LanguageModel, CachedModel>();
  const cache = (model: LanguageModel): CachedModel => {
    let wrapped = cached.get(model);
    if (!wrapped) {
      if (!isBatchable(model)) throw new Error("unreachable: checked in batchLane");
      const holder: { model?: CachedModel } = {};
      const collector = lane.collector(model, (request) => holder.model!.keyOf(request));
      wrapped = new CachedModel(collector, options.store.cache, { mode: "use" });
      holder.model = wrapped;
      cached.set(model, wrapped);
    }
    return wrapped;
  };
  return { base: cache(options.models.base), critic: cache(options.models.critic) };
}

/**
 * Cache outermost (a hit costs nothing, takes no budget and no rate-limit slot), then the run's
 * budget, then shared rate limits, then limits and retries. A server's Retry-After pauses an
 * endpoint's new calls no longer than a retry may wait (`retry.maxWaitMs`).
 */
export function wrapModels(
  options: Pick<RunJobOptions, "models" | "concurrency" | "timeoutMs" | "retry" | "cacheMode" | "store" | "rateLimits" | "prices"> & {
    spend?: RunSpend;
    onRetry?: MakeResilientOptions["onRetry"];
  },
): SpriModels {
  const resilient = makeResilient(
    { base: options.models.base, critic: options.models.critic },
    {
      maxConcurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      retry: options.retry,
      maxPauseMs: options.retry?.maxWaitMs,
      onRetry: options.onRetry,
    },
  );
  const limits = options.rateLimits;
  const shared = limits && (limits.requestsPerMinute !== undefined || limits.tokensPerMinute !== undefined) ? limits : undefined;
  const gates = new Map<string, SharedRateGate>();
  const gated = (model: LanguageModel): LanguageModel => {
    if (!shared) return model;
    let gate = gates.get(model.id);
    if (!gate) gates.set(model.id, (gate = new SharedRateGate(options.store, model.id, shared)));
    return new RateLimitedModel(model, gate);
  };
  const { spend } = options;
  const budgeted = (model: LanguageModel): LanguageModel =>
    spend?.active ? new BudgetedModel(model, spend, options.prices.priceOf(model.modelId, model.id)) : model;
  const cached = new Map<LanguageModel, LanguageModel>();
  const cache = (model: LanguageModel): LanguageModel => {
    let wrapped = cached.get(model);
    if (!wrapped) {
      const inner = budgeted(gated(model));
      wrapped = options.cacheMode === "off" ? inner : new CachedModel(inner, options.store.cache, { mode: options.cacheMode });
      cached.set(model, wrapped);
    }
    return wrapped;
  };
  return { base: cache(resilient.base), critic: cache(resilient.critic) };
}

/**
 * How many items may be in progress. `concurrency` bounds the calls in flight per endpoint (the
 * limiter enforces it); an item makes one call at a time and does bookkeeping between calls, so
 * twice as many items keep the endpoint busy while some of them are between calls. Concurrency 1
 * stays strictly one item at a time, in input order, as replays and debugging need.
 */
export function itemsInFlight(concurrency: number): number {
  return concurrency <= 1 ? 1 : 2 * concurrency;
}
