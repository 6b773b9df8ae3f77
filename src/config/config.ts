/**
 * Configuration, resolved once: flag > environment > config file > default. Each setting is declared
 * in one table with its flag, environment variable and default, so help texts and docs come from the
 * same place. API keys are read here and nowhere else, and `redacted()` is the only view of a
 * configuration that may be printed or stored.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError } from "../base/errors/errors.ts";
import { readJsonObjectFile } from "../io/json-file.ts";
import { redactUrl } from "../base/util/redact-url.ts";
import { COMPAT_PRESETS, type CompatPreset, isCompatPreset } from "../base/util/compat-preset.ts";

type Kind = "string" | "number" | "integer" | "boolean" | "list";

interface SettingSpec {
  kind: Kind;
  env?: string;
  default?: unknown;
  /** One line for --help and docs. */
  help: string;
  secret?: boolean;
}

export const SETTINGS = {
  task: {
    kind: "string",
    env: "SPRI_TASK",
    default: "sft",
    help: "task preset: sft, reappraisal, rubric, or an SFT baseline (baseline-direct, baseline-self-instruct, baseline-self-align, baseline-self-refine, baseline-seed-principles), or a task-1 baseline of the paper's RESORT pipeline (resort-vanilla, resort-appr, resort-cons, resort-appr-cons, resort-self-refine, resort-iter-appr, resort-iter-cons, resort-iter-appr-cons; needs --prompts <RESORT_pipeline>)",
  },
  baseModel: {
    kind: "string",
    env: "SPRI_BASE_MODEL",
    help: "base model id (writes principles and responses); a .gguf path or hf: URI runs in-process (needs the node-llama-cpp package installed)",
  },
  baseUrl: {
    kind: "string",
    env: "SPRI_BASE_URL",
    help: "OpenAI-compatible base URL of the base model (default OPENAI_BASE_URL, else OpenAI)",
  },
  baseProvider: { kind: "string", env: "SPRI_BASE_PROVIDER", help: "openai-compatible, anthropic or llama-cpp (inferred when omitted)" },
  baseApiKey: {
    kind: "string",
    env: "SPRI_BASE_API_KEY",
    help: "API key of the base model (default OPENAI_API_KEY / ANTHROPIC_API_KEY)",
    secret: true,
  },
  criticModel: {
    kind: "string",
    env: "SPRI_CRITIC_MODEL",
    help: "critic model id (scores principles and responses); defaults to the base model",
  },
  criticUrl: { kind: "string", env: "SPRI_CRITIC_URL", help: "OpenAI-compatible base URL of the critic (default: the base model's)" },
  criticProvider: { kind: "string", env: "SPRI_CRITIC_PROVIDER", help: "provider of the critic (inferred when omitted)" },
  criticApiKey: {
    kind: "string",
    env: "SPRI_CRITIC_API_KEY",
    help: "API key of the critic (default: as for the base model)",
    secret: true,
  },
  threshold: { kind: "number", env: "SPRI_THRESHOLD", default: 4, help: "τ: a critic score at or above it accepts the text (paper: 4)" },
  maxCritiques: { kind: "integer", env: "SPRI_MAX_CRITIQUES", default: 4, help: "n_max: most critiques per stage (paper: 4)" },
  temperature: {
    kind: "number",
    env: "SPRI_TEMPERATURE",
    default: 0.7,
    help: "sampling temperature (paper: 0.7); left out for Claude and OpenAI reasoning models, which refuse it when set here",
  },
  topP: { kind: "number", env: "SPRI_TOP_P", default: 0.95, help: "nucleus sampling top-p (paper: 0.95)" },
  topK: {
    kind: "integer",
    env: "SPRI_TOP_K",
    default: 50,
    help: "top-k (paper: 50); local GGUF models use it, an OpenAI-compatible server gets it only when set here (vLLM, SGLang, llama.cpp server, Ollama take it); refused for OpenAI and Claude",
  },
  maxNewTokens: { kind: "integer", env: "SPRI_MAX_NEW_TOKENS", default: 2048, help: "most new tokens per call (paper: 2048)" },
  seed: {
    kind: "integer",
    env: "SPRI_SEED",
    help: "sampling seed sent to backends that accept one (refused for Claude and OpenAI reasoning models); as given to each item's first sample, later samples get seeds derived from it",
  },
  samples: {
    kind: "integer",
    env: "SPRI_SAMPLES",
    default: 1,
    help: "independent runs of the algorithm per item, each its own draw; above 1, records carry spri_sample (0 to N-1)",
  },
  timeout: { kind: "number", env: "SPRI_TIMEOUT", default: 600, help: "per-call timeout in seconds" },
  maxResponseMib: {
    kind: "number",
    env: "SPRI_MAX_RESPONSE_MIB",
    default: 32,
    help: "largest answer a model server may send, in MiB; a larger one is not read further and fails the call",
  },
  compat: {
    kind: "string",
    env: "SPRI_COMPAT",
    default: "default",
    help: "default, or reference to reproduce the paper's code (see docs/compat.md)",
  },
  onUnscored: { kind: "string", env: "SPRI_ON_UNSCORED", help: "stop (paper) or retry when a critique has no readable score" },
  unscoredRetries: { kind: "integer", env: "SPRI_UNSCORED_RETRIES", default: 2, help: "re-asks of the critic under --on-unscored retry" },
  prompts: {
    kind: "list",
    env: "SPRI_PROMPTS",
    help: "prompt pack directory (repeatable; searched in order; env: separated by the path delimiter); resort-… tasks: the paper's RESORT_pipeline directory",
  },
  seeds: { kind: "string", env: "SPRI_SEEDS", help: "seed examples (JSONL) shown as few-shot when writing principles" },
  seedsPerDomain: {
    kind: "boolean",
    env: "SPRI_SEEDS_PER_DOMAIN",
    default: false,
    help: "only show seeds whose domain matches the item's",
  },
  concurrency: {
    kind: "integer",
    env: "SPRI_CONCURRENCY",
    default: 4,
    help: "model calls in flight per endpoint (up to twice as many items in progress; 1: one item at a time, in input order)",
  },
  rpm: {
    kind: "integer",
    env: "SPRI_RPM",
    help: "requests per minute allowed per model endpoint, shared by every worker of the store (the provider's limit)",
  },
  tpm: {
    kind: "integer",
    env: "SPRI_TPM",
    help: "tokens per minute allowed per model endpoint, shared by every worker of the store (prompt estimate + max tokens per call)",
  },
  maxTokens: {
    kind: "integer",
    env: "SPRI_MAX_TOKENS",
    help: "token budget of a run (input + output, cache hits free): stop cleanly when spent",
  },
  maxCost: {
    kind: "number",
    env: "SPRI_MAX_COST",
    help: "cost budget of a run in USD (all its commands and workers): no call starts that could take it past the budget; needs a price for every model (--prices)",
  },
  prices: {
    kind: "string",
    env: "SPRI_PRICES",
    help: 'prices in USD per million tokens, as JSON text or a JSON file: \'{"my-model": {"input": 0.5, "output": 1.5}}\', over the built-in list prices (which apply to the providers\' own APIs only; other models are unpriced)',
  },
  cache: {
    kind: "string",
    env: "SPRI_CACHE",
    default: "use",
    help: "call cache: use, refresh (call again and overwrite) or off (--no-cache, --refresh)",
  },
  store: {
    kind: "string",
    env: "SPRI_STORE",
    default: "spri.db",
    help: "run store and call cache: a SQLite file, or postgres://user:password@host/db to share runs across machines",
  },
  rejects: { kind: "string", env: "SPRI_REJECTS", help: "where failed items go (default <output>.rejects.jsonl)" },
  maxTries: {
    kind: "integer",
    env: "SPRI_MAX_TRIES",
    default: 6,
    help: "tries per model call on 429, 5xx, resets and timeouts before the item fails",
  },
  retryDelay: {
    kind: "number",
    env: "SPRI_RETRY_DELAY",
    default: 1,
    help: "seconds before the first retry; later ones back off exponentially with jitter",
  },
  maxRetryWait: {
    kind: "number",
    env: "SPRI_MAX_RETRY_WAIT",
    default: 60,
    help: "longest wait in seconds before retrying a call, a server's Retry-After included (a longer one is cut short and the try counts toward --max-tries); also the longest pause a Retry-After imposes on an endpoint's other calls",
  },
  progressInterval: {
    kind: "number",
    env: "SPRI_PROGRESS_INTERVAL",
    default: 10,
    help: "seconds between JSON progress lines when stderr is not a terminal",
  },
  httpClient: {
    kind: "string",
    env: "SPRI_HTTP_CLIENT",
    default: "undici",
    help: "how OpenAI-compatible chat calls travel: undici (lean; default) or openai-sdk (the official SDK over fetch; needs the openai package installed)",
  },
  structuredOutput: {
    kind: "boolean",
    env: "SPRI_STRUCTURED_OUTPUT",
    help: "the OpenAI-compatible server enforces JSON schemas (default: only on OpenAI)",
  },
  model: { kind: "string", env: "SPRI_MODEL", help: "local GGUF model (path or hf: URI) used when no other model is configured" },
} as const satisfies Record<string, SettingSpec>;

export type SettingName = keyof typeof SETTINGS;
type ValueOf<K extends Kind> = K extends "number" | "integer"
  ? number
  : K extends "boolean"
    ? boolean
    : K extends "list"
      ? string[]
      : string;
export type ResolvedSettings = {
  [K in SettingName]: (typeof SETTINGS)[K] extends { default: unknown }
    ? ValueOf<(typeof SETTINGS)[K]["kind"]>
    : ValueOf<(typeof SETTINGS)[K]["kind"]> | undefined;
};
export type SettingSource = "flag" | "env" | "config" | "default" | "unset";

export interface ResolveInput {
  flags: Partial<Record<SettingName, unknown>>;
  env?: NodeJS.ProcessEnv;
  /** A config file path (else SPRI_CONFIG, else ./spri.config.json when it exists). */
  configFile?: string;
  cwd?: string;
}

export interface Resolved {
  settings: ResolvedSettings;
  sources: Record<SettingName, SettingSource>;
  env: NodeJS.ProcessEnv;
  configFile?: string;
}

export function resolveSettings(input: ResolveInput): Resolved {
  const env = input.env ?? process.env;
  const cwd = input.cwd ?? process.cwd();
  const { file, values: fileValues } = readConfigFile(input.configFile ?? env.SPRI_CONFIG, cwd);
  const settings: Record<string, unknown> = {};
  const sources = {} as Record<SettingName, SettingSource>;

  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const flag = input.flags[name];
    const envValue = spec.env ? env[spec.env] : undefined;
    if (flag !== undefined && !(Array.isArray(flag) && flag.length === 0)) {
      settings[name] = coerce(name, spec, flag, `--${kebab(name)}`);
      sources[name] = "flag";
    } else if (envValue !== undefined && envValue !== "") {
      settings[name] = coerce(name, spec, envValue, spec.env!);
      sources[name] = "env";
    } else if (fileValues[name] !== undefined) {
      settings[name] = coerce(name, spec, fileValues[name], `${file} key "${name}"`);
      sources[name] = "config";
    } else if ("default" in spec) {
      settings[name] = spec.default;
      sources[name] = "default";
    } else {
      sources[name] = "unset";
    }
  }
  return { settings: settings as ResolvedSettings, sources, env, configFile: file };
}

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function coerce(name: string, spec: SettingSpec, value: unknown, where: string): unknown {
  const fail = (what: string): never => {
    throw new ConfigError(`${where} must be ${what}, got ${JSON.stringify(value)}`, { field: name });
  };
  switch (spec.kind) {
    case "string":
      return typeof value === "string" ? value : fail("a string");
    case "number": {
      const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
      return Number.isFinite(n) ? n : fail("a number");
    }
    case "integer": {
      const n = typeof value === "number" ? value : typeof value === "string" && value.trim() !== "" ? Number(value) : Number.NaN;
      return Number.isInteger(n) ? n : fail("an integer");
    }
    case "boolean":
      if (typeof value === "boolean") return value;
      if (typeof value === "string" && /^(1|true|yes|on)$/i.test(value)) return true;
      if (typeof value === "string" && /^(0|false|no|off)$/i.test(value)) return false;
      return fail("true or false");
    case "list":
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
      if (typeof value === "string") return value.split(process.platform === "win32" ? ";" : ":").filter(Boolean);
      return fail("a list of strings");
  }
}

function readConfigFile(path: string | undefined, cwd: string): { file?: string; values: Record<string, unknown> } {
  const file = path ? resolve(cwd, path) : resolve(cwd, "spri.config.json");
  if (!existsSync(file)) {
    if (path) throw new ConfigError(`config file ${file} does not exist`, { hint: "check --config or SPRI_CONFIG" });
    return { values: {} };
  }
  const values = readJsonObjectFile(file, { what: "config file", as: ConfigError });
  for (const key of Object.keys(values)) {
    if (!(key in SETTINGS)) {
      throw new ConfigError(`unknown setting "${key}"`, { file, field: key, hint: `known settings: ${Object.keys(SETTINGS).join(", ")}` });
    }
    if ((SETTINGS as Record<string, SettingSpec>)[key]!.secret) {
      throw new ConfigError(`API keys do not belong in config files`, { file, field: key, hint: "set it in the environment instead" });
    }
  }
  return { file, values };
}

/** The printable view: secrets replaced by whether they are set, passwords in URLs (store, base and critic URLs) redacted. */
export function redacted(resolved: Resolved): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, SettingSpec][]) {
    const value = resolved.settings[name];
    out[name] = spec.secret ? (value === undefined ? undefined : "(set)") : typeof value === "string" ? redactUrl(value) : value;
  }
  return out;
}

export function compatPreset(value: string): CompatPreset {
  if (isCompatPreset(value)) return value;
  throw new ConfigError(`unknown --compat "${value}"`, { field: "compat", hint: `use ${COMPAT_PRESETS.join(" or ")}` });
}

export function unscoredPolicy(value: string | undefined, preset: CompatPreset): "stop" | "retry" {
  if (value === undefined) return preset === "reference" ? "stop" : "retry";
  if (value === "stop" || value === "retry") return value;
  throw new ConfigError(`unknown --on-unscored "${value}"`, { field: "onUnscored", hint: "use stop or retry" });
}
