/**
 * `spri run` at scale. Items stream from the input and run independently (no chunk barriers), up
 * to `concurrency` at once; calls go through the cache and the resilient wrapper (per-endpoint
 * limits, 429 backoff, retries). The output file is the record of what is done: re-running the
 * same command skips the items already in it, and cached calls cost nothing, so a run killed at
 * any moment resumes without paying twice. Items that fail go to the rejects file with a reason
 * and are tried again on the next run. A hard error (quota, key, unknown model) or a spent budget
 * stops the run cleanly: no new items start, the ones in flight finish.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { InputError, ModelError, SpriError } from "../errors/errors.ts";
import { readInputRows } from "../io/input-reader.ts";
import type { CallRecord, ItemRecord } from "../io/records.ts";
import { RecordOutput } from "../io/record-output.ts";
import type { LanguageModel } from "../models/language-model.ts";
import type { SpriModels } from "../spri/spri.ts";
import { CachedModel, type CacheMode } from "../store/call-cache.ts";
import { type RunStore, runKey, type StoredCall } from "../store/run-store.ts";
import type { PreparedTask } from "../tasks/prepare.ts";
import { type FieldMapping, type TaskItem, toTaskItem } from "../tasks/task-item.ts";
import { type Budget, budgetExceeded, emptySpend, type PriceTable, type Spend } from "./cost.ts";
import { makeResilient } from "./resilient-model.ts";
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
}

export type RunOutcome = "completed" | "completed-with-failures" | "stopped";

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
}

/** Errors that no other item can get past: the run stops instead of failing item after item. */
function isFatal(error: unknown): boolean {
  return error instanceof ModelError && (error.kind === "quota" || error.kind === "auth" || error.kind === "not-found");
}

export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  const { store, prepared } = options;
  const rejectsPath = options.rejects ?? `${options.output}.rejects.jsonl`;
  const idField = options.mapping.idField ?? "id";
  const key = runKey({ task: prepared.algorithm.name, settings: options.runSettings, inputPath: options.input });
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

  const { output, done } = await RecordOutput.open(options.output, idField);
  mkdirSync(dirname(rejectsPath), { recursive: true });
  writeFileSync(rejectsPath, "");
  const rejectSamples: string[] = [];
  const reject = (entry: { id?: string; line?: number; reason: string; kind?: string }) => {
    appendFileSync(rejectsPath, `${JSON.stringify(entry)}\n`);
    if (rejectSamples.length < 5) rejectSamples.push(entry.reason);
  };

  const models = wrapModels(options);
  const spend = emptySpend();
  const counts = { done: 0, failed: 0, skipped: 0 };
  const startedAt = performance.now();
  const stop = new AbortController();
  let stopReason: string | undefined;
  const requestStop = (reason: string) => {
    stopReason ??= reason;
    stop.abort();
  };
  const onOuterAbort = () => requestStop("interrupted");
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
    const cost = options.prices.cost(call.model, call.endpoint, call.usage);
    if (cost === undefined) spend.unpricedCalls++;
    else spend.costUsd += cost;
    const spent = budgetExceeded(options.budget, spend);
    if (spent) requestStop(spent);
    return cost;
  };

  const runItem = async (item: TaskItem): Promise<void> => {
    const calls: StoredCall[] = [];
    try {
      const outcome = await prepared.algorithm.run(item, models, {
        itemId: item.id,
        runId: run.id,
        timeoutMs: options.timeoutMs,
        onCall: (call) => {
          const costUsd = priced(call);
          calls.push({ ...call, runId: run.id, costUsd });
          options.onCall?.(call, costUsd);
          report();
        },
      });
      const record: ItemRecord = { [idField]: item.id, ...item.row, ...outcome.fields, spri_usage: itemUsage(calls) };
      output.append(record);
      counts.done++;
      await store.setItemStatus(run.id, item.id, "done");
    } catch (error) {
      counts.failed++;
      const reason = error instanceof SpriError ? error.describe() : error instanceof Error ? error.message : String(error);
      reject({ id: item.id, reason, kind: error instanceof ModelError ? error.kind : undefined });
      await store.setItemStatus(run.id, item.id, "failed", { reason });
      if (isFatal(error)) requestStop(reason);
    } finally {
      if (calls.length > 0) await store.recordCalls(calls);
      report();
    }
  };

  const inFlight = new Set<Promise<void>>();
  const seen = new Set<string>();
  try {
    for await (const row of readInputRows(options.input, { onMalformed: "yield" })) {
      if (stop.signal.aborted) break;
      if ("error" in row && row.error) {
        counts.failed++;
        reject({ line: row.line, reason: row.error.describe() });
        continue;
      }
      let item: TaskItem;
      try {
        item = toTaskItem(prepared.task, row.value, options.mapping, { file: options.input, line: row.line });
      } catch (error) {
        if (!(error instanceof InputError)) throw error;
        counts.failed++;
        reject({ line: row.line, reason: error.describe() });
        continue;
      }
      if (done.has(item.id)) {
        counts.skipped++;
        continue;
      }
      if (seen.has(item.id)) {
        counts.failed++;
        reject({ id: item.id, line: row.line, reason: `duplicate item id "${item.id}": ids must be unique to resume (use --id-field, or leave it out to use line numbers)` });
        continue;
      }
      seen.add(item.id);
      const task = runItem(item).finally(() => inFlight.delete(task));
      inFlight.add(task);
      while (inFlight.size >= Math.max(1, options.concurrency)) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } catch (error) {
    await Promise.allSettled(inFlight);
    output.close();
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
  }
  // The whole input was seen: the output gets its real name. A stopped run stays partial.
  if (stopReason) output.close();
  else output.commit();

  const outcome: RunOutcome = stopReason ? "stopped" : counts.failed > 0 ? "completed-with-failures" : "completed";
  await store.updateRun(run.id, { status: outcome === "stopped" ? "stopped" : outcome === "completed" ? "completed" : "failed" });
  options.progress?.finish(snapshot(counts, spend, startedAt));
  return { runId: run.id, outcome, stopReason, ...counts, spend, output: options.output, rejects: rejectsPath, rejectSamples };
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
