/** The runner's options that come from resolved settings, shared by `spri run` and `spri worker`. */
import type { ResolvedSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import type { CacheMode } from "../store/call-cache.ts";
import type { RetryOptions } from "./retry.ts";

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
