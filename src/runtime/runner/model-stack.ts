import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import type { LanguageModel } from "../../models/language-model.ts";
import { CachedModel } from "../store/call-cache.ts";
import { BudgetedModel } from "./budgeted-model.ts";
import { makeResilient, type MakeResilientOptions } from "./resilient-model.ts";
import type { RunJobOptions } from "./run-job-options.ts";
import type { RunSpend } from "./run-spend.ts";
import { RateLimitedModel, SharedRateGate } from "./shared-rate.ts";

/**
 * Cache outermost (a hit costs nothing, takes no budget and no rate-limit slot), then the run's
 * budget, then shared rate limits, then limits and retries. A server's Retry-After pauses an
 * endpoint's new calls no longer than a retry may wait (`retry.maxWaitMs`).
 */
export function wrapModels(
  options: Pick<
    RunJobOptions,
    "models" | "concurrency" | "timeoutMs" | "retry" | "cacheMode" | "store" | "rateLimits" | "prices" | "work"
  > & {
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
  // A worker's first calls came before its key filter's first load, and each of their lookups was a
  // query (bench (g): its first requests went out ~60 ms later). A process that makes no calls
  // (`--no-work`) need not load it.
  if (options.cacheMode === "use" && options.work !== false) void options.store.cache.warm?.();
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
