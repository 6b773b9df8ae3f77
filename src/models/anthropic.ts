/**
 * Anthropic Messages API through the official `@anthropic-ai/sdk`. Retries are off here: scheduling
 * and backoff belong to the runner, which sees every failure as a typed ModelError, classified the
 * same way as the OpenAI-compatible adapter's. The SDK is an optional peer dependency
 * (util/optional-peer.ts), loaded by the first call: without it, calls fail with a ConfigError that
 * says what to install, and the rest of spri loads as usual.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { ConfigError, ModelError, type ModelErrorKind } from "../base/errors/errors.ts";
import { importOptionalPeer } from "../base/util/optional-peer.ts";
import {
  type ChatMessage,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ModelCapabilities,
  SAMPLING_WIRE_NAMES,
  unhonouredSampling,
} from "./language-model.ts";
import { kindOfAnswer, saysOutOfCredit } from "./error-kinds.ts";
import { baseUrlCredentials, retryAfterSeconds, scrub, wholeMs } from "./http-helpers.ts";
import { bodyTooLargeIn, DEFAULT_MAX_RESPONSE_BYTES, limitedFetch, responseTooLarge } from "./response-limit.ts";
import { messageOf } from "../base/util/message-of.ts";

export interface AnthropicOptions {
  model: string;
  apiKey: string;
  /** Defaults to https://api.anthropic.com. The SDK appends `/v1/messages`, so a trailing `/v1` is dropped. */
  baseURL?: string;
  /** Per-call timeout in milliseconds (a request's own `timeoutMs` wins). Default 10 minutes. */
  timeoutMs?: number;
  /** The largest answer body read; a larger one fails the call (bad-response). Default 32 MiB. */
  maxResponseBytes?: number;
}

const ANTHROPIC_URL = "https://api.anthropic.com";

type AnthropicSdk = typeof import("@anthropic-ai/sdk");
type JsonSchemaTransform = typeof import("@anthropic-ai/sdk/lib/transform-json-schema");

interface Sdk {
  module: AnthropicSdk;
  transform: JsonSchemaTransform["transformJSONSchema"];
}

async function loadSdk(): Promise<Sdk> {
  const module = await importOptionalPeer<AnthropicSdk>("@anthropic-ai/sdk", "Anthropic models");
  const transform = await importOptionalPeer<JsonSchemaTransform>("@anthropic-ai/sdk", "Anthropic models", {
    specifier: "@anthropic-ai/sdk/lib/transform-json-schema",
  });
  return { module, transform: transform.transformJSONSchema };
}

/**
 * Fails with what to install when the SDK is missing, so a caller can stop before a run starts.
 * Returns nothing: the SDK's types stay out of this module's declarations, which must compile for
 * library users who lack it.
 */
export async function checkAnthropicSdk(): Promise<void> {
  await loadSdk();
}

/** One turn of the Messages API (a subset of the SDK's `MessageParam`). */
export interface AnthropicTurn {
  role: "user" | "assistant";
  content: string;
}

/** The API requires `max_tokens`; used when the caller sets no `maxTokens`. */
export const DEFAULT_MAX_TOKENS = 2048;

export class AnthropicModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  /**
   * Structured outputs (`output_config.format`) enforce a JSON schema. API version 2026-10-21, which
   * SDK 1.x sends, answers 400 to `temperature`, `top_p` and `top_k` even at their defaults (the
   * SDK's types no longer have them), and the API never had a `seed`: those are refused.
   */
  readonly capabilities: ModelCapabilities = { constrainedOutput: true, sampling: ["maxTokens", "stop"] };
  private readonly baseURL: string;
  private readonly apiKey: string;
  private readonly maxResponseBytes: number;
  private readonly timeoutMs: number;
  /** The SDK and its client, made by the first call. */
  private sdk: Promise<Sdk & { client: Anthropic }> | undefined;

  constructor(options: AnthropicOptions) {
    const given = options.baseURL ?? ANTHROPIC_URL;
    const credentials = baseUrlCredentials(given);
    if (credentials.basicAuth !== undefined) {
      throw new ConfigError(`the Anthropic base URL ${credentials.url} carries credentials, which this adapter cannot send`, {
        field: "baseUrl",
        hint: "remove them from the URL: the API key (ANTHROPIC_API_KEY) goes as a bearer token",
      });
    }
    this.baseURL = given.replace(/\/+$/, "").replace(/\/v1$/, "");
    this.modelId = options.model;
    this.apiKey = options.apiKey;
    this.id = `anthropic:${this.baseURL}#${options.model}`;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.timeoutMs = options.timeoutMs === undefined ? 600_000 : wholeMs(options.timeoutMs);
  }

  private connect(): Promise<Sdk & { client: Anthropic }> {
    this.sdk ??= loadSdk().then((sdk) => ({
      ...sdk,
      client: new sdk.module.default({
        fetch: limitedFetch(this.maxResponseBytes),
        apiKey: this.apiKey,
        baseURL: this.baseURL,
        timeout: this.timeoutMs,
        maxRetries: 0,
      }),
    }));
    return this.sdk;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const { sampling = {} } = request;
    const refused = unhonouredSampling(sampling, this.capabilities);
    if (refused.length > 0) {
      const names = refused.map((field) => SAMPLING_WIRE_NAMES[field]).join(", ");
      throw new ModelError(
        `${this.describe()} cannot take ${names}: the Anthropic Messages API (version 2026-10-21) has no such parameter`,
        {
          kind: "bad-request",
          endpoint: this.baseURL,
          hint: "leave them out (unset --temperature, --top-p, --top-k and --seed for Claude models); Claude samples with its own settings",
        },
      );
    }
    const { system, messages } = toAnthropicMessages(request.messages);
    if (messages.length === 0) {
      throw new ModelError(`call to ${this.describe()} has no user or assistant message`, {
        kind: "bad-request",
        endpoint: this.baseURL,
        hint: "the Messages API needs at least one user message besides the system prompt",
      });
    }
    const body: Anthropic.MessageCreateParamsNonStreaming = {
      model: this.modelId,
      messages,
      max_tokens: sampling.maxTokens ?? DEFAULT_MAX_TOKENS,
    };
    if (system !== undefined) body.system = system;
    if (sampling.stop !== undefined && sampling.stop.length > 0) body.stop_sequences = sampling.stop;
    const { module, transform, client } = await this.connect();
    // The API enforces a subset of JSON Schema; the SDK's transform keeps what it enforces and moves
    // the rest (string lengths, numeric bounds) into descriptions.
    if (request.schema) body.output_config = { format: { type: "json_schema", schema: transform(request.schema.schema) } };

    const start = performance.now();
    let message: Anthropic.Message;
    try {
      message = await client.messages.create(
        body,
        // The SDK rejects an explicit `timeout: undefined` or a fractional one.
        request.timeoutMs === undefined ? { signal: request.signal } : { signal: request.signal, timeout: wholeMs(request.timeoutMs) },
      );
    } catch (error) {
      throw this.toModelError(error, module.default);
    }
    const latencyMs = performance.now() - start;
    if (!Array.isArray(message?.content)) {
      throw new ModelError(`${this.describe()} answered without a content list`, {
        kind: "bad-response",
        endpoint: this.baseURL,
        hint: "check that the base URL serves the Anthropic Messages API (POST /v1/messages)",
      });
    }
    // An empty content list is a legal (empty) answer; non-text blocks (thinking, tool use) are skipped.
    const text = message.content.flatMap((block) => (block.type === "text" && typeof block.text === "string" ? [block.text] : [])).join("");
    const usage = message.usage;
    return {
      text,
      finishReason: finishReason(message.stop_reason),
      usage: {
        // Cached prompt tokens are billed and counted apart from `input_tokens`; the prompt is all three.
        inputTokens: (usage?.input_tokens ?? 0) + (usage?.cache_creation_input_tokens ?? 0) + (usage?.cache_read_input_tokens ?? 0),
        outputTokens: usage?.output_tokens ?? 0,
      },
      latencyMs,
      model: message.model ?? this.modelId,
    };
  }

  private describe(): string {
    return `model "${this.modelId}" at ${this.baseURL}`;
  }

  private toModelError(error: unknown, Anthropic: AnthropicSdk["default"]): ModelError {
    const endpoint = this.baseURL;
    if (bodyTooLargeIn(error)) return responseTooLarge(this.describe(), endpoint, this.maxResponseBytes);
    if (error instanceof Anthropic.APIUserAbortError) {
      return new ModelError(`call to ${this.describe()} was aborted`, { kind: "aborted", endpoint, cause: error });
    }
    if (error instanceof Anthropic.APIConnectionTimeoutError) {
      return new ModelError(`${this.describe()} did not answer in time`, {
        kind: "timeout",
        endpoint,
        cause: error,
        hint: "raise --timeout or check the server's load",
      });
    }
    if (error instanceof Anthropic.APIConnectionError) {
      return new ModelError(`cannot reach ${endpoint}`, {
        kind: "network",
        endpoint,
        cause: error,
        hint: "check the base URL and the network path to it",
      });
    }
    if (error instanceof Anthropic.APIError) {
      const status = error.status;
      const type = error.type ?? undefined;
      // `apiMessage` is the body's `error.message`; the SDK's own message is "<status> <raw JSON body>".
      const detail = scrub(error.apiMessage ?? error.message.replace(/^\d{3}\s+/, ""), this.apiKey);
      const kind = errorKind(status, type, detail);
      const hints: Partial<Record<ModelErrorKind, string>> = {
        auth: "check the API key in the environment (ANTHROPIC_API_KEY, or SPRI_BASE_API_KEY / SPRI_CRITIC_API_KEY for one role) and that it may use this model",
        "not-found": `check the model id "${this.modelId}" and the base URL (without /v1: the SDK adds /v1/messages)`,
        quota: "the account is out of credit or over its spend limit; add credit or use another key",
        "rate-limit": "lower --concurrency or wait",
        "bad-request": "the API rejected the request; check the sampling flags this model accepts",
        server: type === "overloaded_error" || status === 529 ? "Anthropic is overloaded; retry later or lower --concurrency" : undefined,
      };
      return new ModelError(`${this.describe()} answered ${status ?? "an error"}${type ? ` (${type})` : ""}: ${detail}`, {
        kind,
        status,
        endpoint,
        retryAfterSeconds: retryAfterSeconds(error.headers),
        hint: hints[kind],
        // No `cause`: the SDK error holds the raw body, which may echo the key; its content is in `detail`.
      });
    }
    const detail = scrub(messageOf(error), this.apiKey);
    // The SDK's own non-HTTP errors are client-side refusals (bad options); another try cannot help.
    return new ModelError(`call to ${this.describe()} failed: ${detail}`, {
      kind: error instanceof Anthropic.AnthropicError ? "bad-request" : "network",
      endpoint,
      cause: error,
    });
  }
}

/**
 * System turns become the top-level `system` field (joined by a blank line); consecutive turns of
 * one role are merged, since the API expects user and assistant to alternate.
 */
export function toAnthropicMessages(messages: ChatMessage[]): {
  system: string | undefined;
  messages: AnthropicTurn[];
} {
  const system: string[] = [];
  const turns: AnthropicTurn[] = [];
  for (const message of messages) {
    if (message.role === "system") {
      system.push(message.content);
      continue;
    }
    const last = turns.at(-1);
    if (last && last.role === message.role) last.content = `${last.content}\n\n${message.content}`;
    else turns.push({ role: message.role, content: message.content });
  }
  return { system: system.length > 0 ? system.join("\n\n") : undefined, messages: turns };
}

/** Anthropic's hook on the shared table: its error types, and its 400 for an empty balance. */
function errorKind(status: number | undefined, type: string | undefined, detail: string): ModelErrorKind {
  if (type === "overloaded_error") return "server";
  if (type === "billing_error") return "quota";
  // Anthropic reports an empty balance as a 400 ("credit balance is too low"), not as a 429.
  if (status === 400 && saysOutOfCredit({ detail })) return "quota";
  return kindOfAnswer({ status, detail });
}

function finishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "refusal":
      return "content-filter";
    case "tool_use":
      return "tool-calls";
    default:
      return "unknown";
  }
}
