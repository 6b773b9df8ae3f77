/** Flags shared by the `spri discover` subcommands, and their schema pieces (option-schema.ts). */
import type { SettingName } from "../../../config/config.ts";
import type { SamplingOptions } from "../../../models/language-model.ts";
import { integer, number } from "../option-schema.ts";
import { MODEL_SETTINGS } from "../options.ts";

/** The settings flags of the commands that call models through the runner. */
export const DISCOVERY_MODEL_SETTINGS: SettingName[] = [
  ...MODEL_SETTINGS,
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

/** A positive whole-number flag (counts, token limits, iterations). */
export const positiveInteger = integer("a positive integer", (n) => n > 0);
/** A temperature flag. */
export const temperature = number("a number ≥ 0", (n) => n >= 0);

/** The sampling settings every step shares; read here because each step's sampling is built from them. */
export const SHARED_SAMPLING_FLAGS = {
  topP: number("a number").optional(),
  topK: positiveInteger.optional(),
  seed: integer("an integer").optional(),
};

/** Sampling shared by every step: --top-p, --top-k and --seed when given. */
export function sharedSampling(flags: { topP?: number; topK?: number; seed?: number }): SamplingOptions {
  return {
    ...(flags.topP === undefined ? {} : { topP: flags.topP }),
    ...(flags.topK === undefined ? {} : { topK: flags.topK }),
    ...(flags.seed === undefined ? {} : { seed: flags.seed }),
  };
}
