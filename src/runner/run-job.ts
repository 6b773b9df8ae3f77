/**
 * `spri run` at scale. Items stream from the input and run independently (no chunk barriers), up
 * to `concurrency` at once; calls go through the cache and the resilient wrapper (per-endpoint
 * limits, 429 backoff, retries). The output file is the record of what is done: re-running the
 * same command skips the items already in it, and cached calls cost nothing, so a run killed at
 * any moment resumes without paying twice. Items that fail go to the rejects file with a reason
 * and are tried again on the next run. A hard error (quota, key, unknown model) or a spent budget
 * stops the run cleanly: no new items start, the ones in flight finish.
 *
 * With `batch` set, the calls go through a provider's Batch API instead, one round per algorithm
 * step (see batch-lane.ts): the input is passed over once per round, each pass taking every
 * unfinished item as far as the cache answers it, and the round's misses go out as one batch.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, InputError, ModelError, SpriError } from "../errors/errors.ts";
import { readInputRows } from "../io/input-reader.ts";
import type { CallRecord, ItemRecord } from "../io/records.ts";
import { RecordOutput } from "../io/record-output.ts";
import type { LanguageModel } from "../models/language-model.ts";
import type { BatchApi } from "../models/openai-batch.ts";
import type { SpriModels } from "../algorithm/item-algorithm.ts";
import { CachedModel, type CacheMode } from "../store/call-cache.ts";
import { type RunStore, runKey, type StoredCall } from "../store/run-store.ts";
import type { PreparedTask } from "../tasks/prepare.ts";
import type { TaskItem } from "../algorithm/task-item.ts";
import { type FieldMapping, toTaskItem } from "../tasks/task-item.ts";
import { BatchLane, BatchPending, type FlushResult, isBatchable } from "./batch-lane.ts";
import { type Budget, budgetExceeded, emptySpend, type PriceTable, type Spend } from "./cost.ts";
import { makeResilient } from "./resilient-model.ts";
import { StoreWriter } from "./store-writer.ts";
import type { RetryOptions } from "./retry.ts";
import { type ProgressSink, snapshot } from "./run-progress.ts";

export interface RunJobOptions {
  input: string;
  output: string;
  /** Default `<output>.rejects.jsonl`. */
  rejects?: string;
  prepared: PreparedTask;
  models: SpriModels;
  mapping: FieldMapping;
  concurrency: number;
  timeoutMs?: number;
  store: RunStore;
  cacheMode: CacheMode;
  /** What changes the outputs (redacted): it identifies the run, so the same command resumes it. */
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
}

export interface BatchRunOptions {
  /** Write each round's file and stop (for `vllm run-batch`); never submit. */
  offline?: boolean;
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

export interface RunJobResult {
  runId: string;
  outcome: RunOutcome;
  /** Why the run stopped early, when it did. */
  stopReason?: string;
  done: number;
  failed: number;
  /** Items found in the output from earlier runs. */
  skipped: number;
  spend: Spend;
  output: string;
  rejects: string;
  /** The first few reject reasons, for the command's summary. */
  rejectSamples: string[];
  /** Batch mode only. */
  batch?: {
    dir: string;
    /** Rounds this command submitted (or wrote, offline). */
    rounds: number;
    /** Offline: the round written, whose results the next command imports. */
    awaiting?: Extract<FlushResult, { kind: "offline" }>;
  };
}

/** Errors that no other item can get past: the run stops instead of failing item after item. */
function isFatal(error: unknown): boolean {
  return error instanceof ModelError && (error.kind === "quota" || error.kind === "auth" || error.kind === "not-found");
}

export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  const { store, prepared } = options;
  // Batch mode's configuration errors come before anything is created or written.
  const lane = options.batch ? batchLane(options, options.batch) : undefined;
  const rejectsPath = options.rejects ?? `${options.output}.rejects.jsonl`;
  const idField = options.mapping.idField ?? "id";
  // `PreparedTask.itemKey`: the derived run key becomes the item's id (dedupe, resume, traces),
  // and the row keeps its own id field for the record, from which the key is recomputed to resume.
  const { itemKey } = prepared;
  const keyed = (item: TaskItem): TaskItem => (itemKey ? { ...item, id: itemKey(item.row, item.id), row: { [idField]: item.id, ...item.row } } : item);
  const key = runKey({ task: prepared.algorithm.name, settings: { ...options.runSettings, algorithm: prepared.identity ?? {} }, inputPath: options.input });
  const run =
    (await store.findRunByKey(key)) ??
    (await store.createRun({
      key,
      task: prepared.algorithm.name,
      settings: options.runSettings,
      inputPath: options.input,
      outputPath: options.output,
      baseModel: options.models.base.id,
      criticModel: options.models.critic.id,
    }));
  await store.updateRun(run.id, { status: "running", outputPath: options.output });

  const { output, done } = await RecordOutput.open(options.output, itemKey ? { field: idField, key: itemKey } : idField);
  mkdirSync(dirname(rejectsPath), { recursive: true });
  writeFileSync(rejectsPath, "");
  const rejectSamples: string[] = [];
  const reject = (entry: { id?: string; line?: number; reason: string; kind?: string }) => {
    appendFileSync(rejectsPath, `${JSON.stringify(entry)}\n`);
    if (rejectSamples.length < 5) rejectSamples.push(entry.reason);
  };

  const cachedModels = lane ? wrapBatchModels(options, lane) : undefined;
  const models = cachedModels ?? wrapModels(options);
  const priceFactor = options.batch ? (options.batch.priceFactor ?? (options.batch.offline ? 1 : BATCH_PRICE_FACTOR)) : 1;
  const spend = emptySpend();
  const counts = { done: 0, failed: 0, skipped: 0 };
  const startedAt = performance.now();
  const stop = new AbortController();
  let stopReason: string | undefined;
  const requestStop = (reason: string) => {
    stopReason ??= reason;
    stop.abort();
  };
  // A hard error or an interrupt also cancels the calls in flight (they cannot succeed, or the user
  // wants out); a spent budget lets them finish. Cancelled items stay pending for the next run.
  const cancel = new AbortController();
  const cancelRun = (reason: string) => {
    requestStop(reason);
    cancel.abort();
  };
  const onOuterAbort = () => cancelRun("interrupted");
  options.signal?.addEventListener("abort", onOuterAbort);
  const report = () => options.progress?.update(snapshot(counts, spend, startedAt));

  const priced = (call: CallRecord): number | undefined => {
    spend.calls++;
    if (call.cacheHit) {
      spend.cacheHits++;
      return 0;
    }
    spend.inputTokens += call.usage.inputTokens;
    spend.outputTokens += call.usage.outputTokens;
    const listed = options.prices.cost(call.model, call.endpoint, call.usage);
    const cost = listed === undefined || priceFactor === 1 ? listed : listed * priceFactor;
    if (cost === undefined) spend.unpricedCalls++;
    else spend.costUsd += cost;
    const spent = budgetExceeded(options.budget, spend);
    if (spent) requestStop(spent);
    return cost;
  };

  const writer = new StoreWriter(store, run.id);

  /** Batch mode: ids done or failed by this command, which later rounds skip. */
  const finished = new Set<string>();

  const runItem = async (item: TaskItem): Promise<void> => {
    const calls: StoredCall[] = [];
    const account = (call: CallRecord) => {
      const costUsd = priced(call);
      calls.push({ ...call, runId: run.id, costUsd });
      options.onCall?.(call, costUsd);
    };
    // Batch mode: a pass may end waiting for a round, and then none of its calls count; the calls
    // of the pass that finishes the item are accounted for when it does.
    const deferred: CallRecord[] | undefined = lane ? [] : undefined;
    const scope = lane && cachedModels ? lane.itemModels(cachedModels) : undefined;
    try {
      const outcome = await prepared.algorithm.run(item, scope ? scope.models : models, {
        itemId: item.id,
        runId: run.id,
        timeoutMs: options.timeoutMs,
        signal: cancel.signal,
        onCall: (call) => {
          if (deferred) {
            deferred.push(call);
            return;
          }
          account(call);
          report();
        },
      });
      scope?.settle(true);
      deferred?.forEach(account);
      const record: ItemRecord = { [idField]: item.id, ...item.row, ...outcome.fields, spri_usage: itemUsage(calls) };
      output.append(record);
      counts.done++;
      if (lane) finished.add(item.id);
      await writer.add({ itemId: item.id, status: "done", record }, calls);
    } catch (error) {
      if (error instanceof BatchPending) {
        scope?.settle(false);
        return;
      }
      scope?.settle(true);
      deferred?.forEach(account);
      if (cancel.signal.aborted && !isFatal(error)) {
        writer.addCalls(calls);
        return;
      }
      counts.failed++;
      if (lane) finished.add(item.id);
      const reason = error instanceof SpriError ? error.describe() : error instanceof Error ? error.message : String(error);
      reject({ id: item.id, reason, kind: error instanceof ModelError ? error.kind : undefined });
      await writer.add({ itemId: item.id, status: "failed", reason }, calls);
      if (isFatal(error)) cancelRun(reason);
    } finally {
      report();
    }
  };

  /**
   * One pass over the input. Without batch there is exactly one. In batch mode the first pass
   * reports what is wrong with the input (bad rows, duplicate ids); later ones skip it silently.
   */
  const pass = async (first: boolean): Promise<void> => {
    const inFlight = new Set<Promise<void>>();
    const seen = new Set<string>();
    try {
      for await (const row of readInputRows(options.input, { onMalformed: "yield" })) {
        if (stop.signal.aborted) break;
        if ("error" in row && row.error) {
          if (!first) continue;
          counts.failed++;
          reject({ line: row.line, reason: row.error.describe() });
          continue;
        }
        let item: TaskItem;
        try {
          item = keyed(toTaskItem(prepared.task, row.value, options.mapping, { file: options.input, line: row.line }));
        } catch (error) {
          if (!(error instanceof InputError)) throw error;
          if (!first) continue;
          counts.failed++;
          reject({ line: row.line, reason: error.describe() });
          continue;
        }
        if (done.has(item.id)) {
          if (first) counts.skipped++;
          continue;
        }
        if (seen.has(item.id)) {
          if (!first) continue;
          counts.failed++;
          reject({ id: item.id, line: row.line, reason: `duplicate item id "${item.id}": ids must be unique to resume (use --id-field, or leave it out to use line numbers)` });
          continue;
        }
        seen.add(item.id);
        if (finished.has(item.id)) continue;
        const task = runItem(item).finally(() => inFlight.delete(task));
        inFlight.add(task);
        while (inFlight.size >= itemsInFlight(options.concurrency)) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    } catch (error) {
      await Promise.allSettled(inFlight);
      throw error;
    }
  };

  let awaiting: Extract<FlushResult, { kind: "offline" }> | undefined;
  try {
    if (!lane) {
      await pass(true);
    } else {
      await batchRounds(lane, pass, stop.signal, requestStop, (result) => (awaiting = result));
    }
  } catch (error) {
    output.close();
    await writer.flush();
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
  await writer.flush();
  // The whole input was seen: the output gets its real name. A stopped run stays partial.
  if (stopReason || awaiting) output.close();
  else output.commit();

  const outcome: RunOutcome = stopReason ? "stopped" : awaiting ? "awaiting-batch" : counts.failed > 0 ? "completed-with-failures" : "completed";
  await store.updateRun(run.id, { status: outcome === "stopped" || outcome === "awaiting-batch" ? "stopped" : outcome === "completed" ? "completed" : "failed" });
  options.progress?.finish(snapshot(counts, spend, startedAt));
  const result: RunJobResult = { runId: run.id, outcome, stopReason, ...counts, spend, output: options.output, rejects: rejectsPath, rejectSamples };
  if (lane) result.batch = { dir: lane.dir, rounds: lane.roundsRun, ...(awaiting ? { awaiting } : {}) };
  return result;
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
  requestStop: (reason: string) => void,
  onAwaiting: (result: Extract<FlushResult, { kind: "offline" }>) => void,
): Promise<void> {
  // A Batch API failure stops the run (re-running resumes); anything else is a bug or a broken store.
  const stopOn = (error: unknown): void => {
    if (!(error instanceof ModelError || error instanceof InputError)) throw error;
    requestStop(signal.aborted ? "interrupted" : error.describe());
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
    throw new ConfigError(`--batch needs the call cache (it carries the answers from round to round), but the cache is "${options.cacheMode}"`, {
      field: "cache",
      hint: "leave out --no-cache / --refresh (or --cache) with --batch",
    });
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

/** Cache outermost (a hit costs nothing and takes no rate-limit slot), then limits and retries. */
function wrapModels(options: RunJobOptions): SpriModels {
  const resilient = makeResilient(
    { base: options.models.base, critic: options.models.critic },
    { maxConcurrency: options.concurrency, timeoutMs: options.timeoutMs, retry: options.retry },
  );
  const cached = new Map<LanguageModel, LanguageModel>();
  const cache = (model: LanguageModel): LanguageModel => {
    let wrapped = cached.get(model);
    if (!wrapped) {
      wrapped = options.cacheMode === "off" ? model : new CachedModel(model, options.store.cache, { mode: options.cacheMode });
      cached.set(model, wrapped);
    }
    return wrapped;
  };
  return { base: cache(resilient.base), critic: cache(resilient.critic) };
}

/** What one item cost: every call, the cached ones free. */
function itemUsage(calls: readonly StoredCall[]): Record<string, number | null> {
  let inputTokens = 0;
  let outputTokens = 0;
  let cost: number | null = 0;
  let cached = 0;
  for (const call of calls) {
    if (call.cacheHit) {
      cached++;
      continue;
    }
    inputTokens += call.usage.inputTokens;
    outputTokens += call.usage.outputTokens;
    cost = cost === null || call.costUsd === undefined ? null : cost + call.costUsd;
  }
  return { calls: calls.length, cached_calls: cached, input_tokens: inputTokens, output_tokens: outputTokens, cost_usd: cost };
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
