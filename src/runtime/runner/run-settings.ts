/** The runner's options that come from resolved settings, shared by `spri run`, `spri worker`, `spri discover loop` and the viewer's playground. */
import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import { type Resolved, type ResolvedSettings, redacted } from "../../config/config.ts";
import { closeModels } from "../../config/models.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import type { FieldMapping } from "../../presets/tasks/task-item.ts";
import type { CacheMode } from "../store/call-cache.ts";
import { PriceTable } from "./cost.ts";
import type { RetryOptions } from "./retry.ts";
import { identitySettings } from "./run-identity.ts";
import type { RunJobOptions } from "./run-job-options.ts";
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

/** How a run's calls are made and paid for: timeout, cache, retries, prices, budget and rate limits. */
function callSettings(settings: ResolvedSettings) {
  return {
    timeoutMs: settings.timeout * 1000,
    cacheMode: cacheMode(settings.cache),
    retry: retryOptions(settings),
    prices: PriceTable.fromSetting(settings.prices),
    budget: { maxCostUsd: settings.maxCost, maxTokens: settings.maxTokens },
    rateLimits: { requestsPerMinute: settings.rpm, tokensPerMinute: settings.tpm },
  };
}

/** What the settings decide of a file's run: its identity (the redacted settings and the field mapping), speed, budget and retries. */
export type SettingsRunOptions = Pick<
  RunJobOptions,
  "rejects" | "concurrency" | "timeoutMs" | "cacheMode" | "runSettings" | "budget" | "prices" | "retry" | "rateLimits"
>;

export function settingsRunOptions(resolved: Resolved, mapping: FieldMapping): SettingsRunOptions {
  const { settings } = resolved;
  return {
    rejects: settings.rejects,
    concurrency: settings.concurrency,
    runSettings: identitySettings(redacted(resolved), mapping),
    ...callSettings(settings),
  };
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
    ...callSettings(settings),
    close: () => closeModels(models),
  };
}
