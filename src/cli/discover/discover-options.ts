/** Flag parsing shared by the `spri discover` subcommands. */
import type { SettingName } from "../../config/config.ts";
import { ConfigError, InputError } from "../../errors/errors.ts";
import type { SamplingOptions } from "../../models/language-model.ts";

/** The settings flags of the commands that call models through the runner. */
export const DISCOVERY_MODEL_SETTINGS: SettingName[] = [
  "baseModel",
  "baseUrl",
  "baseProvider",
  "criticModel",
  "criticUrl",
  "criticProvider",
  "topP",
  "topK",
  "seed",
  "timeout",
  "concurrency",
  "maxTokens",
  "maxCost",
  "prices",
  "cache",
  "store",
  "rejects",
  "maxTries",
  "retryDelay",
  "maxRetryWait",
  "maxResponseMib",
  "progressInterval",
  "structuredOutput",
  "httpClient",
  "model",
];

/** A number flag checked by `check`; a ConfigError quoting `flag` (the flag and what it must be) otherwise. */
export function numberOption(
  options: Record<string, unknown>,
  name: string,
  flag: string,
  check: (n: number) => boolean = Number.isFinite,
): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!check(n)) throw new ConfigError(`${flag} got ${JSON.stringify(value)}`, { field: name });
  return n;
}

export const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;
export const nonNegative = (n: number) => Number.isFinite(n) && n >= 0;

/** A number flag with an integer and minimum rule; an InputError that says what it must be otherwise. */
export function optionalNumber(value: unknown, flag: string, rules: { integer?: boolean; min?: number }): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (
    String(value).trim() === "" ||
    !Number.isFinite(number) ||
    (rules.integer && !Number.isInteger(number)) ||
    (rules.min !== undefined && number < rules.min)
  ) {
    const kind = rules.integer ? "an integer" : "a number";
    throw new InputError(`--${flag} must be ${kind}${rules.min !== undefined ? ` ≥ ${rules.min}` : ""} (got "${String(value)}")`, {
      field: flag,
    });
  }
  return number;
}

/** Sampling shared by every step: --top-p, --top-k and --seed when given. */
export function sharedSampling(options: Record<string, unknown>): SamplingOptions {
  return {
    ...(options.topP === undefined ? {} : { topP: numberOption(options, "topP", "--top-p") }),
    ...(options.topK === undefined ? {} : { topK: numberOption(options, "topK", "--top-k", positiveInteger) }),
    ...(options.seed === undefined ? {} : { seed: numberOption(options, "seed", "--seed", Number.isInteger) }),
  };
}
