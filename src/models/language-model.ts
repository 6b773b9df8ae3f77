/**
 * The model port: the one narrow interface every algorithm depends on and every adapter implements.
 * Adapters translate vendor errors into ModelError and never log or return credentials.
 */
import { ModelError } from "../base/errors/errors.ts";
import { perObjectAnd } from "../base/util/per-object.ts";

export type Role = "system" | "user" | "assistant";

export interface ChatMessage {
  role: Role;
  content: string;
}

export interface SamplingOptions {
  temperature?: number;
  topP?: number;
  /** For backends that accept it (llama.cpp in-process; OpenAI-compatible servers built with `sendTopK`). */
  topK?: number;
  maxTokens?: number;
  seed?: number;
  stop?: string[];
}

/** A JSON schema the output must satisfy, for backends that can constrain decoding. */
export interface OutputSchema {
  name: string;
  schema: Record<string, unknown>;
}

export interface GenerateRequest {
  messages: ChatMessage[];
  sampling?: SamplingOptions;
  /** Ask for constrained output. Adapters without support ignore it; callers still parse defensively. */
  schema?: OutputSchema;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Distinguishes deliberate repeats of the same request (a critic re-asked after an unscored
   * answer, the n-th sample of a prompt). Backends ignore it; caches key on it.
   */
  sampleIndex?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export type FinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "unknown";

export interface GenerateResult {
  text: string;
  finishReason: FinishReason;
  usage: Usage;
  latencyMs: number;
  /** The model id the backend reports, or the configured one. */
  model: string;
  /** Set by caching decorators when the answer came from the cache (no backend call was paid). */
  cached?: boolean;
}

export type SamplingField = keyof SamplingOptions;

export interface ModelCapabilities {
  /** True when `schema` is enforced by the backend (grammar or structured outputs). */
  constrainedOutput: boolean;
  /**
   * The sampling fields the backend honours; absent means all. An adapter refuses a request that
   * sets any other (ModelError "bad-request") rather than drop it unseen, so callers that pass
   * defaults leave the others out with `honouredSampling`, and configuration refuses them when a
   * user set them.
   */
  sampling?: readonly SamplingField[];
  /** True when the adapter implements `logLikelihood` (decorators copy it from the model they wrap). */
  logLikelihood?: boolean;
}

export interface LanguageModel {
  /** Stable identifier of endpoint + model, safe to log and hash (never contains a key). */
  readonly id: string;
  /** The model name as configured, e.g. `gpt-4o-mini`. */
  readonly modelId: string;
  readonly capabilities: ModelCapabilities;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /**
   * Embeds texts, one vector per text in input order (not normalised). Optional: only adapters
   * whose backend can embed implement it. The embedding model may differ from the chat model.
   */
  embed?(texts: string[], options?: EmbedOptions): Promise<EmbedResult>;
  /**
   * The log-probability the model gives each continuation after `context` (multiple-choice
   * benchmarks: TruthfulQA MC1/MC2). Optional: only adapters that can read a prompt's token
   * log-probabilities implement it, and say so in `capabilities.logLikelihood`.
   */
  logLikelihood?(request: LogLikelihoodRequest): Promise<LogLikelihoodResult>;
  /** Release native or network resources. Safe to call twice. */
  close?(): Promise<void>;
}

export interface EmbedOptions {
  signal?: AbortSignal;
}

export interface EmbedResult {
  vectors: number[][];
  /** `inputTokens` counts the embedded tokens; `outputTokens` is 0. */
  usage: Usage;
  /** The embedding model id the backend reports, or the configured one. */
  model: string;
}

/** Continuations scored after one shared context; the context itself is never scored. */
export interface LogLikelihoodRequest {
  context: string;
  /** Each is scored on its own, as if it were the only text after `context`. Non-empty. */
  continuations: string[];
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface LogLikelihoodResult {
  /** Per continuation, in request order: the sum of the natural-log probabilities of its tokens. */
  logprobs: number[];
  /** Per continuation: how many tokens that sum covers. */
  tokens: number[];
  usage: Usage;
  latencyMs: number;
  model: string;
}

/**
 * Calls `model.logLikelihood`, or says that this model cannot score text: for decorators, which
 * forward the call to the model they wrap whatever that model is.
 */
export function callLogLikelihood(model: LanguageModel, request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
  if (!model.logLikelihood) return Promise.reject(noLogLikelihood(model));
  return model.logLikelihood(request);
}

/**
 * The error for a model that cannot give log-probabilities, naming the backends that can. Kind
 * "not-found" (the model has no such endpoint), which stops a run at its first item instead of
 * failing every item the same way.
 */
export function noLogLikelihood(model: LanguageModel): ModelError {
  return new ModelError(`the model ${model.id} cannot score text by log-likelihood`, {
    kind: "not-found",
    hint: "use an OpenAI-compatible server that returns prompt log-probabilities from /v1/completions (vLLM: --base-url http://host:8000/v1) or a local GGUF model (--base-model /path/model.gguf)",
  });
}

/** `honouredSampling`'s copies of a sampling object, by the list of fields a model honours. */
const honouredCopy = perObjectAnd((sampling: SamplingOptions, honoured: readonly SamplingField[]): SamplingOptions => {
  const copy: SamplingOptions = {};
  for (const field of honoured) if (isSet(sampling[field])) (copy as Record<string, unknown>)[field] = sampling[field];
  return Object.freeze(copy);
});

/**
 * `sampling` without the fields `capabilities` does not honour (or that are unset): what a call to
 * that model may carry. `sampling` itself when it has nothing to drop; otherwise one frozen copy per
 * sampling object and model kind, so that the calls of a run share an object, and with it the texts
 * made once per sampling object (see per-object.ts). A sampling object must not change once used.
 */
export function honouredSampling(sampling: SamplingOptions, capabilities: ModelCapabilities): SamplingOptions {
  const honoured = capabilities.sampling;
  return honoured === undefined || onlyHonoured(sampling, honoured) ? sampling : honouredCopy(sampling, honoured);
}

/** Every field `sampling` sets, the model honours (a field left undefined sets nothing; an empty stop list is dropped). */
function onlyHonoured(sampling: SamplingOptions, honoured: readonly SamplingField[]): boolean {
  for (const field of Object.keys(sampling) as SamplingField[]) {
    const value = sampling[field];
    if (value !== undefined && (!honoured.includes(field) || !isSet(value))) return false;
  }
  return true;
}

/** The fields of `sampling` that are set and that `capabilities` does not honour. */
export function unhonouredSampling(sampling: SamplingOptions, capabilities: ModelCapabilities): SamplingField[] {
  const honoured = capabilities.sampling;
  if (honoured === undefined) return [];
  return (Object.keys(sampling) as SamplingField[]).filter((field) => isSet(sampling[field]) && !honoured.includes(field));
}

/** An empty stop list asks for nothing, like an unset field. */
function isSet(value: unknown): boolean {
  return value !== undefined && !(Array.isArray(value) && value.length === 0);
}

/** The request body's name of each sampling field, for messages that name what was refused. */
export const SAMPLING_WIRE_NAMES: Readonly<Record<SamplingField, string>> = {
  temperature: "temperature",
  topP: "top_p",
  topK: "top_k",
  maxTokens: "max_tokens",
  seed: "seed",
  stop: "stop",
};

export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 }) as Usage;

/** Runs `fn` and measures wall time, for adapters. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; latencyMs: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, latencyMs: Math.round((performance.now() - start) * 1000) / 1000 };
}
