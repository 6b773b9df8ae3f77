/** `spri run --batch`: the rounds of a run whose calls go through a Batch API (batch-lane.ts). */
import { ConfigError, InputError, ModelError } from "../../base/errors/errors.ts";
import type { LanguageModel } from "../../models/language-model.ts";
import { CachedModel } from "../store/call-cache.ts";
import { BatchLane, type FlushResult, isBatchable } from "./batch-lane.ts";
import type { BatchRunOptions, RunJobOptions, StopKind } from "./run-job-options.ts";

/** OpenAI and most providers bill batch calls at half the list price. */
export const BATCH_PRICE_FACTOR = 0.5;

/**
 * The batch rounds: resume what earlier commands left (batches submitted, results to import), then
 * pass over the input, flush what the pass collected, and again, until a pass collects nothing.
 */
export async function batchRounds(
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

export function batchLane(options: RunJobOptions, batch: BatchRunOptions): BatchLane {
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
export function wrapBatchModels(options: RunJobOptions, lane: BatchLane): { base: CachedModel; critic: CachedModel } {
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
