/**
 * OpenAI-compatible chat completions (OpenAI, vLLM, SGLang, Ollama, llama.cpp server, LM Studio).
 * Chat calls go over undici by default (see http-post.ts for the measured reason) or through the
 * official `openai` SDK (`httpClient: "openai-sdk"`); both send the same body and map answers and
 * failures to the same results and typed ModelErrors. Embeddings always use the SDK, which is an
 * optional peer dependency loaded on first use (util/optional-peer.ts). Retries are off here:
 * scheduling and backoff belong to the runner. What a completion says is read by
 * openai-completion.ts; failures become ModelErrors in openai-errors.ts.
 */
import type OpenAI from "openai";
import { ModelError } from "../base/errors/errors.ts";
import {
  type EmbedOptions,
  type EmbedResult,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type LogLikelihoodRequest,
  type LogLikelihoodResult,
  type ModelCapabilities,
  SAMPLING_WIRE_NAMES,
  type SamplingField,
  type SamplingOptions,
  unhonouredSampling,
} from "./language-model.ts";
import { baseUrlCredentials, parseRetryAfter, wholeMs } from "./http-helpers.ts";
import { parseJsonObject } from "../base/util/json-object.ts";
import { importOptionalPeer } from "../base/util/optional-peer.ts";
import { perObject } from "../base/util/per-object.ts";
import { headerOf, postJson, TransportError } from "./http-post.ts";
import { messagesJson } from "./messages-json.ts";
import { type CompletionsAnswer, completionsLogLikelihoodBody, readCompletionsLogLikelihood } from "./completions-log-likelihood.ts";
import { type Completion, finishReason } from "./openai-completion.ts";
import { errorBodyOf, OpenAIErrors } from "./openai-errors.ts";
import { DEFAULT_MAX_RESPONSE_BYTES, limitedFetch } from "./response-limit.ts";

/** How chat completions travel: undici (lean, the default) or the official SDK over fetch. */
export type HttpClient = "undici" | "openai-sdk";
export const HTTP_CLIENTS: readonly HttpClient[] = ["undici", "openai-sdk"];

export interface OpenAICompatibleOptions {
  model: string;
  /**
   * Defaults to https://api.openai.com/v1. Credentials in it (`https://user:password@host/v1`) go as
   * HTTP Basic auth when no `apiKey` is given, and are never part of the id or of a message.
   */
  baseURL?: string;
  apiKey?: string;
  /** Per-call timeout in milliseconds (a request's own `timeoutMs` wins). Default 10 minutes. */
  timeoutMs?: number;
  /**
   * Send `top_k`, an extension that vLLM, SGLang, llama.cpp server and Ollama accept and hosted APIs
   * often answer 400 to. Default false; never to api.openai.com, which has no such parameter.
   */
  sendTopK?: boolean;
  /** Whether the server enforces `response_format: json_schema`. Default: only api.openai.com. */
  structuredOutput?: boolean;
  maxRetries?: number;
  /** Extra JSON fields merged into every request body (e.g. `{"repetition_penalty": 1.1}`). */
  extraBody?: Record<string, unknown>;
  /** Model id `embed` sends to /embeddings. Default: `model`. */
  embeddingModel?: string;
  /** Default "undici". */
  httpClient?: HttpClient;
  /** The largest answer body read; a larger one fails the call (bad-response). Default 32 MiB. */
  maxResponseBytes?: number;
}

const OPENAI_URL = "https://api.openai.com/v1";
const ALL_SAMPLING: readonly SamplingField[] = ["temperature", "topP", "topK", "maxTokens", "seed", "stop"];

/**
 * OpenAI's reasoning models (o1, o3, o4 and gpt-5 families, wherever served: OpenAI, Azure,
 * proxies that prefix a vendor) answer 400 to `temperature` and `top_p` other than their defaults,
 * to `stop` and to `max_tokens`. Only `max_completion_tokens` is sent; `seed` is left out too,
 * since OpenAI documents none for them. The `-chat` variants of gpt-5 are chat models.
 */
export function isReasoningModel(modelId: string): boolean {
  const name = modelId.slice(modelId.lastIndexOf("/") + 1).toLowerCase();
  if (/^o\d+(-|$)/.test(name)) return true;
  const gpt5 = /^gpt-5(\.\d+)?(-.*)?$/.exec(name);
  return gpt5 !== null && !(gpt5[2] ?? "").startsWith("-chat");
}

/** The `openai` SDK once loaded (see `OpenAICompatibleModel.client`). */
let sdkModule: typeof import("openai") | undefined;

export class OpenAICompatibleModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities: ModelCapabilities;
  private sdk: OpenAI | undefined;
  private readonly baseURL: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly official: boolean;
  private readonly reasoning: boolean;
  private readonly maxResponseBytes: number;
  /** Failures as typed ModelErrors, scrubbed of the key (or the base URL's password). */
  private readonly errors: OpenAIErrors;

  private readonly options: OpenAICompatibleOptions;

  constructor(options: OpenAICompatibleOptions) {
    this.options = options;
    const credentials = baseUrlCredentials((options.baseURL ?? OPENAI_URL).replace(/\/+$/, ""));
    this.baseURL = credentials.url.replace(/\/+$/, "");
    this.official = new URL(this.baseURL).hostname === "api.openai.com";
    this.modelId = options.model;
    this.id = `openai-compatible:${this.baseURL}#${options.model}`;
    this.reasoning = isReasoningModel(options.model);
    const sendTopK = options.sendTopK === true && !this.official;
    this.capabilities = {
      constrainedOutput: options.structuredOutput ?? this.official,
      sampling: this.reasoning ? ["maxTokens"] : ALL_SAMPLING.filter((field) => field !== "topK" || sendTopK),
      logLikelihood: true,
    };
    this.timeoutMs = options.timeoutMs === undefined ? 600_000 : wholeMs(options.timeoutMs);
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    const secret = options.apiKey ?? credentials.password;
    this.errors = new OpenAIErrors({ endpoint: this.baseURL, modelId: this.modelId, secret, maxResponseBytes: this.maxResponseBytes });
    this.headers = { "content-type": "application/json", accept: "application/json", "user-agent": "spri" };
    if (options.apiKey !== undefined) this.headers.authorization = `Bearer ${options.apiKey}`;
    else if (credentials.basicAuth !== undefined) this.headers.authorization = credentials.basicAuth;
  }

  /** The SDK client, made on first use: the SDK loads only for `openai-sdk` chat calls and embeddings. */
  private async client(): Promise<OpenAI> {
    if (!this.sdk) {
      sdkModule ??= await importOptionalPeer<typeof import("openai")>("openai", "--http-client openai-sdk and embeddings");
      this.sdk ??= new sdkModule.default({
        baseURL: this.baseURL,
        // Local servers accept any key; the SDK insists on one.
        apiKey: this.options.apiKey ?? "not-needed",
        timeout: this.timeoutMs,
        maxRetries: this.options.maxRetries ?? 0,
        fetch: limitedFetch(this.maxResponseBytes),
        // Basic auth from the base URL, when that is how this server is reached (the SDK's own header says "Bearer not-needed").
        ...(this.options.apiKey === undefined && this.headers.authorization !== undefined
          ? { defaultHeaders: { authorization: this.headers.authorization } }
          : {}),
      });
    }
    return this.sdk;
  }

  /**
   * The JSON body `generate` posts to /chat/completions for `request` (no signal or timeout: those
   * are transport options). Batch files (`openai-batch.ts`) carry exactly this body, so a request
   * answered through a batch is the request the online path would have sent.
   */
  requestBody(request: GenerateRequest): Record<string, unknown> {
    return this.addFields({ model: this.modelId, messages: request.messages, ...this.options.extraBody }, request);
  }

  /**
   * `JSON.stringify(requestBody(request))`, byte for byte, with the messages' text shared with the
   * trace and the stored call (see messages-json.ts) instead of serialised again.
   */
  requestText(request: GenerateRequest): string {
    const extra = this.options.extraBody;
    if (extra && (Object.hasOwn(extra, "messages") || Object.hasOwn(extra, "model"))) return JSON.stringify(this.requestBody(request));
    // Same key order as requestBody: model, messages, then the rest.
    const rest = this.restText(request);
    return `{"model":${JSON.stringify(this.modelId)},"messages":${messagesJson(request.messages)}${rest === "{}" ? "}" : `,${rest.slice(1)}`}`;
  }

  /**
   * The body's fields after the messages, as JSON: the same for every call with the same sampling
   * object and no schema sent, so made once per sampling object (a run's calls share the settings'
   * few). A sampling object must not change once it was sent (as messages, see messages-json.ts).
   */
  private restText(request: GenerateRequest): string {
    const { sampling } = request;
    if (sampling !== undefined && (request.schema === undefined || !this.capabilities.constrainedOutput)) return this.restTexts(sampling);
    return JSON.stringify(this.addFields({ ...this.options.extraBody }, request));
  }

  /** `restText` of a request with these sampling options and no schema sent. */
  private readonly restTexts = perObject((sampling: SamplingOptions) =>
    JSON.stringify(this.addFields({ ...this.options.extraBody }, { messages: [], sampling })),
  );

  /** The sampling and schema fields of the body; sampling the model does not honour is refused. */
  private addFields(body: Record<string, unknown>, request: GenerateRequest): Record<string, unknown> {
    const { sampling = {} } = request;
    this.refuseUnhonoured(request);
    if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
    if (sampling.topP !== undefined) body.top_p = sampling.topP;
    if (sampling.topK !== undefined) body.top_k = sampling.topK;
    // OpenAI deprecated max_tokens for max_completion_tokens; its reasoning models refuse the old name.
    if (sampling.maxTokens !== undefined)
      body[this.official || this.reasoning ? "max_completion_tokens" : "max_tokens"] = sampling.maxTokens;
    if (sampling.seed !== undefined) body.seed = sampling.seed;
    if (sampling.stop !== undefined && sampling.stop.length > 0) body.stop = sampling.stop;
    if (request.schema && this.capabilities.constrainedOutput) {
      body.response_format = {
        type: "json_schema",
        json_schema: { name: request.schema.name, schema: request.schema.schema, strict: true },
      };
    }
    return body;
  }

  private refuseUnhonoured(request: GenerateRequest): void {
    const refused = unhonouredSampling(request.sampling ?? {}, this.capabilities);
    if (refused.length === 0) return;
    const names = refused.map((field) => SAMPLING_WIRE_NAMES[field]).join(", ");
    const why = this.reasoning
      ? `"${this.modelId}" is an OpenAI reasoning model, which accepts only max_completion_tokens among sampling parameters`
      : this.official
        ? "the OpenAI API has no top_k"
        : "top_k is an extension this model was not set up to send (sendTopK)";
    throw new ModelError(`${this.errors.describe()} cannot take ${names}: ${why}`, {
      kind: "bad-request",
      endpoint: this.baseURL,
      hint: this.reasoning
        ? "leave --temperature, --top-p, --top-k, --seed and stop sequences unset for this model"
        : "set --top-k only for servers that accept it (vLLM, SGLang, llama.cpp server, Ollama)",
    });
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const start = performance.now();
    const completion =
      this.options.httpClient === "openai-sdk"
        ? await this.viaSdk(this.requestBody(request), request)
        : await this.viaUndici(this.requestText(request), request);
    const latencyMs = performance.now() - start;
    const choice = completion?.choices?.[0];
    if (!choice || typeof choice.message?.content !== "string") {
      throw new ModelError(`${this.errors.describe()} answered without message content`, {
        kind: "bad-response",
        endpoint: this.baseURL,
        hint: "check that the server implements /chat/completions for this model",
      });
    }
    return {
      text: choice.message.content,
      finishReason: finishReason(choice.finish_reason),
      usage: {
        inputTokens: completion.usage?.prompt_tokens ?? 0,
        outputTokens: completion.usage?.completion_tokens ?? 0,
      },
      latencyMs,
      model: completion.model ?? this.modelId,
    };
  }

  /** Prompt log-probabilities from /completions (see completions-log-likelihood.ts); always over undici. */
  async logLikelihood(request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
    const start = performance.now();
    const body = JSON.stringify(completionsLogLikelihoodBody(this.modelId, request.context, request.continuations));
    const answer = (await this.viaUndici(body, request, "/completions")) as CompletionsAnswer;
    const scores = readCompletionsLogLikelihood(answer, request.context, request.continuations, this.errors.describe());
    const promptTokens = answer.usage?.prompt_tokens;
    return {
      logprobs: scores.map((score) => score.logprob),
      tokens: scores.map((score) => score.tokens),
      usage: { inputTokens: typeof promptTokens === "number" ? promptTokens : 0, outputTokens: 0 },
      latencyMs: performance.now() - start,
      model: typeof answer.model === "string" ? answer.model : this.modelId,
    };
  }

  /** Each path's URL, joined once: a fresh string per call cost a flatten and a hash in postJson's URL lookup. */
  private readonly urls = new Map<string, string>();

  private urlOf(path: string): string {
    let url = this.urls.get(path);
    if (url === undefined) {
      url = `${this.baseURL}${path}`;
      this.urls.set(path, url);
    }
    return url;
  }

  private async viaUndici(
    body: string,
    request: Pick<GenerateRequest, "signal" | "timeoutMs">,
    path = "/chat/completions",
  ): Promise<Completion> {
    let answer;
    try {
      answer = await postJson(this.urlOf(path), body, {
        headers: this.headers,
        timeoutMs: request.timeoutMs === undefined ? this.timeoutMs : wholeMs(request.timeoutMs),
        signal: request.signal,
        maxBodyBytes: this.maxResponseBytes,
      });
    } catch (error) {
      if (!(error instanceof TransportError)) throw error;
      throw this.errors.transport(error.failure, error.message, error.cause);
    }
    const parsed = parseJsonObject(answer.text);
    if (answer.status < 200 || answer.status >= 300) {
      throw this.errors.answer({
        status: answer.status,
        ...errorBodyOf(parsed, answer.text),
        retryAfterSeconds: parseRetryAfter(headerOf(answer.headers, "retry-after")),
      });
    }
    if (parsed === undefined) {
      throw new ModelError(`${this.errors.describe()} answered ${answer.status} with a body that is not a JSON object`, {
        kind: "bad-response",
        endpoint: this.baseURL,
        hint: "check that the base URL points at an OpenAI-compatible API (it usually ends in /v1)",
      });
    }
    return parsed as Completion;
  }

  private async viaSdk(body: Record<string, unknown>, request: GenerateRequest): Promise<Completion> {
    const client = await this.client();
    try {
      return (await client.chat.completions.create(
        body as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
        // The SDK rejects an explicit `timeout: undefined` or a fractional one ("must be an integer").
        request.timeoutMs === undefined ? { signal: request.signal } : { signal: request.signal, timeout: wholeMs(request.timeoutMs) },
      )) as Completion;
    } catch (error) {
      throw this.errors.fromSdk(error, sdkModule);
    }
  }

  /**
   * POST /embeddings through the SDK, floats on the wire (`encoding_format: "float"`: self-hosted
   * servers do not all speak base64). Vectors come back in input order, checked for shape.
   */
  async embed(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const model = this.options.embeddingModel ?? this.modelId;
    if (texts.length === 0) return { vectors: [], usage: { inputTokens: 0, outputTokens: 0 }, model };
    const client = await this.client();
    let response: OpenAI.Embeddings.CreateEmbeddingResponse;
    try {
      response = await client.embeddings.create({ model, input: texts, encoding_format: "float" }, { signal: options.signal });
    } catch (error) {
      throw this.errors.fromSdk(error, sdkModule, model);
    }
    const bad = (why: string) =>
      new ModelError(`${this.errors.describe(model)} answered /embeddings with ${why}`, {
        kind: "bad-response",
        endpoint: this.baseURL,
        hint: "check that the server implements /embeddings for this model (an embedding model, not a chat model)",
      });
    const data: unknown = response?.data;
    if (!Array.isArray(data) || data.length !== texts.length) {
      throw bad(`${Array.isArray(data) ? data.length : "no"} vectors for ${texts.length} texts`);
    }
    const vectors: number[][] = new Array(texts.length);
    data.forEach((item: { index?: unknown; embedding?: unknown }, position) => {
      const index = typeof item?.index === "number" ? item.index : position;
      const embedding = item?.embedding;
      if (!Number.isInteger(index) || index < 0 || index >= texts.length || vectors[index] !== undefined)
        throw bad(`a bad or repeated index ${String(item?.index)}`);
      if (!Array.isArray(embedding) || embedding.length === 0 || !embedding.every((x) => typeof x === "number" && Number.isFinite(x))) {
        throw bad(`a vector that is not a non-empty list of finite numbers (text ${index})`);
      }
      vectors[index] = embedding as number[];
    });
    return {
      vectors,
      usage: { inputTokens: response.usage?.prompt_tokens ?? 0, outputTokens: 0 },
      model: response.model ?? model,
    };
  }
}
