/**
 * Builds the base and critic models from resolved settings: the composition root where adapters
 * are chosen. The llama.cpp adapter is imported only when a local model is asked for.
 */
import { ConfigError } from "../base/errors/errors.ts";
import type { LanguageModel, SamplingField } from "../models/language-model.ts";
import { HTTP_CLIENTS, type HttpClient, OpenAICompatibleModel } from "../models/openai-compatible.ts";
import { kebab, type Resolved, SETTINGS, type SettingName } from "./config.ts";
import { importOptionalPeer } from "../base/util/optional-peer.ts";

export type Provider = "openai-compatible" | "anthropic" | "llama-cpp";
const PROVIDERS: readonly Provider[] = ["openai-compatible", "anthropic", "llama-cpp"];

export interface ModelSpec {
  provider: Provider;
  model: string;
  baseURL?: string;
  apiKey?: string;
  /**
   * The sampling settings the user set (flag, environment or config file), each with where it was
   * set. Only these are refused when the model cannot honour them (spri's own defaults are left out
   * of such a model's calls), and only a set `top_k` goes to an OpenAI-compatible server.
   */
  userSampling?: Partial<Record<SamplingField, string>>;
  /** spri's default local model, chosen because no model and no API key was set up. */
  fallback?: true;
}

/** The settings that become a call's sampling fields (`samplingOf`), but `maxNewTokens`, which every backend honours. */
const SAMPLING_SETTINGS: Partial<Record<SamplingField, SettingName>> = {
  temperature: "temperature",
  topP: "topP",
  topK: "topK",
  seed: "seed",
};

/** The model used when nothing is configured and no API key is present: a small local instruct model. */
export const DEFAULT_LOCAL_MODEL = "hf:bartowski/SmolLM2-1.7B-Instruct-GGUF:Q4_K_M";
const DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
const DEFAULT_ANTHROPIC_MODEL = "claude-haiku-4-5";

function isLocalModel(model: string): boolean {
  return model.endsWith(".gguf") || model.startsWith("hf:") || model.startsWith("gguf:");
}

function inferProvider(model: string | undefined, url: string | undefined, explicit: string | undefined, where: string): Provider {
  if (explicit !== undefined) {
    if ((PROVIDERS as readonly string[]).includes(explicit)) return explicit as Provider;
    throw new ConfigError(`unknown provider "${explicit}" for ${where}`, { hint: `use one of ${PROVIDERS.join(", ")}` });
  }
  if (model !== undefined && isLocalModel(model)) return "llama-cpp";
  if (url !== undefined) return "openai-compatible";
  if (model !== undefined && /^claude/i.test(model)) return "anthropic";
  return "openai-compatible";
}

/** Resolves which backend, model and key serve each role. Keys come from the environment only. */
export function modelSpecs(resolved: Resolved): { base: ModelSpec; critic: ModelSpec } {
  const { settings: s, env } = resolved;
  let baseModel = s.baseModel;
  if (baseModel === undefined) {
    if (s.baseUrl !== undefined) {
      throw new ConfigError("--base-url is set but no model id is", {
        field: "baseModel",
        hint: "pass --base-model <id> (the id the server serves)",
      });
    }
    baseModel =
      s.model ?? (env.OPENAI_API_KEY ? DEFAULT_OPENAI_MODEL : env.ANTHROPIC_API_KEY ? DEFAULT_ANTHROPIC_MODEL : DEFAULT_LOCAL_MODEL);
  }
  const baseProvider = inferProvider(baseModel, s.baseUrl, s.baseProvider, "the base model");
  const userSampling = samplingSetByUser(resolved);
  const base: ModelSpec = {
    provider: baseProvider,
    model: stripLocalPrefix(baseModel),
    baseURL: providerUrl(baseProvider, s.baseUrl, env),
    apiKey: s.baseApiKey ?? providerKey(baseProvider, env),
    userSampling,
    ...(s.baseModel === undefined && s.model === undefined && baseModel === DEFAULT_LOCAL_MODEL ? { fallback: true as const } : {}),
  };

  const criticModel = s.criticModel ?? baseModel;
  let criticProvider: Provider;
  let criticUrl = s.criticUrl;
  if (s.criticModel === undefined && s.criticUrl === undefined && s.criticProvider === undefined) {
    criticProvider = baseProvider;
    criticUrl = s.baseUrl;
  } else {
    criticProvider = inferProvider(criticModel, criticUrl, s.criticProvider, "the critic");
    // A critic named without a URL is served where the base model is, when both speak OpenAI's API.
    if (criticUrl === undefined && criticProvider === "openai-compatible" && baseProvider === "openai-compatible") criticUrl = s.baseUrl;
  }
  const critic: ModelSpec = {
    provider: criticProvider,
    model: stripLocalPrefix(criticModel),
    baseURL: providerUrl(criticProvider, criticUrl, env),
    apiKey: s.criticApiKey ?? s.baseApiKey ?? providerKey(criticProvider, env),
    userSampling,
    ...(s.criticModel === undefined && base.fallback ? { fallback: true as const } : {}),
  };
  return { base, critic };
}

/** The endpoint of a provider: the URL given, else the provider's own environment variable (the SDK's default for Anthropic). */
function providerUrl(provider: Provider, url: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (provider === "openai-compatible") return url ?? env.OPENAI_BASE_URL;
  if (provider === "anthropic") return url ?? (env.ANTHROPIC_BASE_URL || undefined);
  return undefined;
}

/** Each sampling setting that did not come from spri's defaults, with where it was set, as messages name it. */
function samplingSetByUser(resolved: Resolved): Partial<Record<SamplingField, string>> {
  const out: Partial<Record<SamplingField, string>> = {};
  for (const [field, name] of Object.entries(SAMPLING_SETTINGS) as [SamplingField, SettingName][]) {
    const source = resolved.sources[name];
    if (source === "flag") out[field] = `--${kebab(name)}`;
    else if (source === "env") out[field] = (SETTINGS[name] as { env: string }).env;
    else if (source === "config") out[field] = `${resolved.configFile ?? "the config file"} key "${name}"`;
  }
  return out;
}

function stripLocalPrefix(model: string): string {
  return model.startsWith("gguf:") ? model.slice("gguf:".length) : model;
}

function providerKey(provider: Provider, env: NodeJS.ProcessEnv): string | undefined {
  if (provider === "anthropic") return env.ANTHROPIC_API_KEY;
  if (provider === "openai-compatible") return env.OPENAI_API_KEY;
  return undefined;
}

export interface ModelFactoryOptions {
  timeoutMs: number;
  /** The largest answer body a server may send (HTTP adapters); default 32 MiB. */
  maxResponseBytes?: number;
  structuredOutput?: boolean;
  /** "undici" or "openai-sdk" (checked here); default undici. */
  httpClient?: string;
  /** Parallel sequences a local model should offer (the run's concurrency). */
  parallelism: number;
  /** Told how a local model's first download goes (it may be a gigabyte), for a progress display. */
  onDownload?: (progress: DownloadProgress) => void;
}

export interface DownloadProgress {
  model: string;
  /** Where the model is kept once downloaded. */
  directory: string;
  downloadedBytes: number;
  totalBytes: number;
}

/** The factory options a command's settings give; `parallelism` defaults to `--concurrency`. */
export function modelFactoryOptions(resolved: Resolved, parallelism: number = resolved.settings.concurrency): ModelFactoryOptions {
  const { settings } = resolved;
  if (!(settings.maxResponseMib > 0)) {
    throw new ConfigError(`--max-response-mib must be a positive number of MiB, got ${settings.maxResponseMib}`, {
      field: "maxResponseMib",
    });
  }
  return {
    timeoutMs: settings.timeout * 1000,
    maxResponseBytes: Math.round(settings.maxResponseMib * 1024 * 1024),
    structuredOutput: settings.structuredOutput,
    httpClient: settings.httpClient,
    parallelism,
  };
}

/** Creates both models; when base and critic are the same local model, it is loaded once. */
export async function createModels(
  specs: { base: ModelSpec; critic: ModelSpec },
  options: ModelFactoryOptions,
): Promise<{ base: LanguageModel; critic: LanguageModel }> {
  const base = await createModel(specs.base, options);
  const same =
    specs.critic.provider === specs.base.provider && specs.critic.model === specs.base.model && specs.critic.baseURL === specs.base.baseURL;
  const critic = same && specs.base.provider === "llama-cpp" ? base : await createModel(specs.critic, options);
  return { base, critic };
}

/** Closes the models `createModels` made: a critic that is the base model is closed once. */
export async function closeModels(models: { base: LanguageModel; critic: LanguageModel }): Promise<void> {
  await models.base.close?.();
  if (models.critic !== models.base) await models.critic.close?.();
}

/** The model of `spec`, refused when the user set sampling it cannot honour (see `ModelSpec.userSampling`). */
export async function createModel(spec: ModelSpec, options: ModelFactoryOptions): Promise<LanguageModel> {
  const model = await buildModel(spec, options);
  try {
    refuseUnhonouredSampling(model, spec);
  } catch (error) {
    await model.close?.();
    throw error;
  }
  return model;
}

function refuseUnhonouredSampling(model: LanguageModel, spec: ModelSpec): void {
  const honoured = model.capabilities.sampling;
  if (honoured === undefined) return;
  for (const [field, where] of Object.entries(spec.userSampling ?? {}) as [SamplingField, string][]) {
    if (honoured.includes(field)) continue;
    const name = SAMPLING_SETTINGS[field]!;
    throw new ConfigError(`${where} cannot be honoured by ${spec.provider} model "${spec.model}": ${UNHONOURED_REASON[spec.provider]}`, {
      field: name,
      hint: `unset ${where} (it applies to the base model and the critic), or use a model that accepts it`,
    });
  }
}

const UNHONOURED_REASON: Record<Provider, string> = {
  anthropic: "the Anthropic Messages API (version 2026-10-21) has no temperature, top_p, top_k or seed",
  "openai-compatible": "OpenAI's API has no top_k, and its reasoning models (o1, o3, o4, gpt-5) accept only their default sampling",
  "llama-cpp": "the local model does not take it",
};

async function buildModel(spec: ModelSpec, options: ModelFactoryOptions): Promise<LanguageModel> {
  switch (spec.provider) {
    case "openai-compatible":
      if (spec.baseURL === undefined && spec.apiKey === undefined) {
        throw new ConfigError(`no API key for OpenAI model "${spec.model}"`, {
          hint: "set OPENAI_API_KEY, or point --base-url/--critic-url at an OpenAI-compatible server (vLLM, Ollama, llama.cpp server), or use a local GGUF with SPRI_MODEL=/path/model.gguf",
        });
      }
      // The SDK is an optional peer dependency: without it, stop here rather than fail every call.
      if (options.httpClient === "openai-sdk") await importOptionalPeer("openai", "--http-client openai-sdk");
      return new OpenAICompatibleModel({
        model: spec.model,
        baseURL: spec.baseURL,
        apiKey: spec.apiKey,
        timeoutMs: options.timeoutMs,
        structuredOutput: options.structuredOutput,
        httpClient: httpClientOf(options.httpClient),
        maxResponseBytes: options.maxResponseBytes,
        sendTopK: spec.userSampling?.topK !== undefined,
      });
    case "anthropic": {
      if (spec.apiKey === undefined) {
        throw new ConfigError(`no API key for Anthropic model "${spec.model}"`, { hint: "set ANTHROPIC_API_KEY" });
      }
      const { AnthropicModel, checkAnthropicSdk } = await import("../models/anthropic.ts");
      // The SDK is an optional peer dependency: without it, stop here rather than fail every call.
      await checkAnthropicSdk();
      return new AnthropicModel({
        model: spec.model,
        apiKey: spec.apiKey,
        baseURL: spec.baseURL,
        timeoutMs: options.timeoutMs,
        maxResponseBytes: options.maxResponseBytes,
      });
    }
    case "llama-cpp":
      return loadLocalModel(spec, options);
  }
}

async function loadLocalModel(spec: ModelSpec, options: ModelFactoryOptions): Promise<LanguageModel> {
  const { LlamaCppModel, ModelDownloadError, defaultModelsDir } = await import("../models/llama-cpp.ts");
  const directory = defaultModelsDir();
  const onDownload = options.onDownload;
  try {
    return await LlamaCppModel.load({
      model: spec.model,
      parallelism: options.parallelism,
      modelsDir: directory,
      onDownloadProgress:
        onDownload &&
        ((status) => onDownload({ model: spec.model, directory, downloadedBytes: status.downloadedSize, totalBytes: status.totalSize })),
    });
  } catch (error) {
    if (!spec.fallback || !(error instanceof ModelDownloadError)) throw error;
    // Nothing was set up, so the download was spri's idea: say what was missing, then what failed.
    throw new ConfigError(
      `no model is set up (no OPENAI_API_KEY, ANTHROPIC_API_KEY or SPRI_MODEL), and spri's default local model ${error.model} could not be downloaded from ${error.host}: ${error.reason}`,
      {
        cause: error,
        hint:
          "set OPENAI_API_KEY to use OpenAI or ANTHROPIC_API_KEY to use Claude; or SPRI_MODEL=/path/model.gguf for a local model; " +
          `or --base-url http://127.0.0.1:8000/v1 --base-model <id> for a server you run; or download the default model (about 1 GB, kept in ${error.directory}) where ${error.host} can be reached`,
      },
    );
  }
}

function httpClientOf(value: string | undefined): HttpClient | undefined {
  if (value === undefined || (HTTP_CLIENTS as readonly string[]).includes(value)) return value as HttpClient | undefined;
  throw new ConfigError(`--http-client must be one of ${HTTP_CLIENTS.join(", ")}, got ${JSON.stringify(value)}`, {
    field: "httpClient",
    hint: "use undici (the default) unless the official SDK's behaviour is needed",
  });
}
