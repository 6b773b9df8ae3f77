/** The runner's options that come from resolved settings, shared by `spri run`, `spri worker` and the viewer's playground. */
import type { ResolvedSettings } from "../../config/config.ts";
import { closeModels } from "../../config/models.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import type { CacheMode } from "../store/call-cache.ts";
import { PriceTable } from "./cost.ts";
import type { RetryOptions } from "./retry.ts";
import type { WorkerRun } from "./worker.ts";

/** How a run retries its calls, from `--max-tries`, `--retry-delay` and `--max-retry-wait`. */
export function retryOptions(settings: ResolvedSettings): RetryOptions {
  if (!(settings.maxRetryWait >= 0))
    throw new ConfigError(`--max-retry-wait must be a number of seconds ≥ 0, got ${settings.maxRetryWait}`, { field: "maxRetryWait" });
  return { maxAttempts: settings.maxTries, baseDelayMs: settings.retryDelay * 1000, maxWaitMs: settings.maxRetryWait * 1000 };
}

export function cacheMode(value: string): CacheMode {
  if (value === "use" || value === "refresh" || value === "off") return value;
  throw new ConfigError(`unknown --cache "${value}"`, { field: "cache", hint: "use use, refresh or off" });
}

/**
 * A run's algorithm and models with the runner settings of `settings` (timeout, cache, retries,
 * prices, budget, rate limits): what the runner needs to work its items, as `spri run` would.
 */
export function workerRun(settings: ResolvedSettings, prepared: PreparedTask, models: SpriModels, idField: string): WorkerRun {
  return {
    prepared,
    models,
    idField,
    timeoutMs: settings.timeout * 1000,
    cacheMode: cacheMode(settings.cache),
    retry: retryOptions(settings),
    prices: PriceTable.fromSetting(settings.prices),
    budget: { maxCostUsd: settings.maxCost, maxTokens: settings.maxTokens },
    rateLimits: { requestsPerMinute: settings.rpm, tokensPerMinute: settings.tpm },
    close: () => closeModels(models),
  };
}
