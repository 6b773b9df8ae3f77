/**
 * OpenAI-compatible chat completions (OpenAI, vLLM, SGLang, Ollama, llama.cpp server, LM Studio)
 * through the official `openai` SDK. Retries are off here: scheduling and backoff belong to the
 * runner, which sees every failure as a typed ModelError.
 */
import OpenAI from "openai";
import { ModelError, type ModelErrorKind } from "../errors/errors.ts";
import type { EmbedOptions, EmbedResult, FinishReason, GenerateRequest, GenerateResult, LanguageModel } from "./language-model.ts";
import { retryAfterSeconds, scrub, wholeMs } from "./http-helpers.ts";

export interface OpenAICompatibleOptions {
  model: string;
  /** Defaults to https://api.openai.com/v1. */
  baseURL?: string;
  apiKey?: string;
  /** Per-call timeout in milliseconds (a request's own `timeoutMs` wins). Default 10 minutes. */
  timeoutMs?: number;
  /** Send `top_k` (an extension most self-hosted servers accept). Default: everywhere but api.openai.com. */
  sendTopK?: boolean;
  /** Whether the server enforces `response_format: json_schema`. Default: only api.openai.com. */
  structuredOutput?: boolean;
  maxRetries?: number;
  /** Extra JSON fields merged into every request body (e.g. `{"repetition_penalty": 1.1}`). */
  extraBody?: Record<string, unknown>;
  /** Model id `embed` sends to /embeddings. Default: `model`. */
  embeddingModel?: string;
}

const OPENAI_URL = "https://api.openai.com/v1";

export class OpenAICompatibleModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities;
  private readonly client: OpenAI;
  private readonly baseURL: string;
  private readonly sendTopK: boolean;
  private readonly official: boolean;

  private readonly options: OpenAICompatibleOptions;

  constructor(options: OpenAICompatibleOptions) {
    this.options = options;
    this.baseURL = (options.baseURL ?? OPENAI_URL).replace(/\/+$/, "");
    this.official = new URL(this.baseURL).hostname === "api.openai.com";
    this.modelId = options.model;
    this.id = `openai-compatible:${this.baseURL}#${options.model}`;
    this.sendTopK = options.sendTopK ?? !this.official;
    this.capabilities = { constrainedOutput: options.structuredOutput ?? this.official };
    this.client = new OpenAI({
      baseURL: this.baseURL,
      // Local servers accept any key; the SDK insists on one.
      apiKey: options.apiKey ?? "not-needed",
      timeout: options.timeoutMs === undefined ? 600_000 : wholeMs(options.timeoutMs),
      maxRetries: options.maxRetries ?? 0,
    });
  }

  /**
   * The JSON body `generate` posts to /chat/completions for `request` (no signal or timeout: those
   * are transport options). Batch files (`openai-batch.ts`) carry exactly this body, so a request
   * answered through a batch is the request the online path would have sent.
   */
  requestBody(request: GenerateRequest): Record<string, unknown> {
    const { sampling = {} } = request;
    const body: Record<string, unknown> = {
      model: this.modelId,
      messages: request.messages,
      ...this.options.extraBody,
    };
    if (sampling.temperature !== undefined) body.temperature = sampling.temperature;
    if (sampling.topP !== undefined) body.top_p = sampling.topP;
    if (sampling.topK !== undefined && this.sendTopK) body.top_k = sampling.topK;
    if (sampling.maxTokens !== undefined) body[this.official ? "max_completion_tokens" : "max_tokens"] = sampling.maxTokens;
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

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const body = this.requestBody(request);

    const start = performance.now();
    let completion: OpenAI.Chat.Completions.ChatCompletion;
    try {
      completion = (await this.client.chat.completions.create(
        body as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming,
        // The SDK rejects an explicit `timeout: undefined` or a fractional one ("must be an integer").
        request.timeoutMs === undefined
          ? { signal: request.signal }
          : { signal: request.signal, timeout: wholeMs(request.timeoutMs) },
      )) as OpenAI.Chat.Completions.ChatCompletion;
    } catch (error) {
      throw this.toModelError(error);
    }
    const latencyMs = performance.now() - start;
    const choice = completion.choices?.[0];
    if (!choice || typeof choice.message?.content !== "string") {
      throw new ModelError(`${this.describe()} answered without message content`, {
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

  /**
   * POST /embeddings through the SDK, floats on the wire (`encoding_format: "float"`: self-hosted
   * servers do not all speak base64). Vectors come back in input order, checked for shape.
   */
  async embed(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const model = this.options.embeddingModel ?? this.modelId;
    if (texts.length === 0) return { vectors: [], usage: { inputTokens: 0, outputTokens: 0 }, model };
    let response: OpenAI.Embeddings.CreateEmbeddingResponse;
    try {
      response = await this.client.embeddings.create({ model, input: texts, encoding_format: "float" }, { signal: options.signal });
    } catch (error) {
      throw this.toModelError(error, model);
    }
    const bad = (why: string) =>
      new ModelError(`${this.describe(model)} answered /embeddings with ${why}`, {
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
      if (!Number.isInteger(index) || index < 0 || index >= texts.length || vectors[index] !== undefined) throw bad(`a bad or repeated index ${String(item?.index)}`);
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

  private describe(model: string = this.modelId): string {
    return `model "${model}" at ${this.baseURL}`;
  }

  private toModelError(error: unknown, model: string = this.modelId): ModelError {
    const endpoint = this.baseURL;
    if (error instanceof OpenAI.APIUserAbortError) {
      return new ModelError(`call to ${this.describe(model)} was aborted`, { kind: "aborted", endpoint, cause: error });
    }
    if (error instanceof OpenAI.APIConnectionTimeoutError) {
      return new ModelError(`${this.describe(model)} did not answer in time`, {
        kind: "timeout",
        endpoint,
        cause: error,
        hint: "raise --timeout or check the server's load",
      });
    }
    if (error instanceof OpenAI.APIConnectionError) {
      return new ModelError(`cannot reach ${endpoint}`, {
        kind: "network",
        endpoint,
        cause: error,
        hint: "check the URL and that the server is running (for local servers, the port)",
      });
    }
    if (error instanceof OpenAI.APIError) {
      const status = error.status;
      // The SDK prefixes the status ("401 Incorrect API key…"); the message below states it once.
      const detail = scrub(error.message.replace(/^\d{3}\s+/, ""), this.options.apiKey);
      const retryAfter = retryAfterSeconds(error.headers);
      const kind: ModelErrorKind =
        status === 401 || status === 403
          ? "auth"
          : status === 404
            ? "not-found"
            : status === 429
              ? error.code === "insufficient_quota" || /quota|billing/i.test(detail) ? "quota" : "rate-limit"
              : status === 400 || status === 422
                ? "bad-request"
                : status !== undefined && status >= 500
                  ? "server"
                  : "bad-response";
      const hints: Partial<Record<ModelErrorKind, string>> = {
        auth: "check the API key (OPENAI_API_KEY or --api-key) and that it may use this model",
        "not-found": `check the model id "${model}" and the base URL (it usually ends in /v1)`,
        quota: "the account is out of quota or credit; add credit or use another key",
        "rate-limit": "lower --concurrency or wait",
        "bad-request": "the server rejected the request; check the sampling flags this server accepts",
      };
      return new ModelError(`${this.describe(model)} answered ${status ?? "an error"}: ${detail}`, {
        kind,
        status,
        endpoint,
        retryAfterSeconds: retryAfter,
        hint: hints[kind],
        // No `cause`: the SDK error holds the raw body, which may echo the key; its content is in `detail`.
      });
    }
    const detail = scrub(error instanceof Error ? error.message : String(error), this.options.apiKey);
    return new ModelError(`call to ${this.describe(model)} failed: ${detail}`, {
      kind: "network",
      endpoint,
      cause: error,
    });
  }
}

/** OpenAI finish_reason → FinishReason (also used for batch results, see openai-batch.ts). */
export function finishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "stop":
    case "length":
    case "content_filter":
      return reason === "content_filter" ? "content-filter" : reason;
    case "tool_calls":
      return "tool-calls";
    default:
      return "unknown";
  }
}
