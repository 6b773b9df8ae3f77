/**
 * How an OpenAI-compatible server's failures become typed ModelErrors (openai-compatible.ts), the
 * same whichever client made the call: undici's transport failures and error answers, and the
 * `openai` SDK's exceptions, classified alike. The status decides the kind (error-kinds.ts), hence
 * whether the runner retries. Every detail is scrubbed of the secret before it goes into a message,
 * and no raw answer is kept as a cause: it may echo the key.
 */
import { ModelError, type ModelErrorKind } from "../base/errors/errors.ts";
import { messageOf } from "../base/util/message-of.ts";
import { kindOfAnswer, type ErrorAnswer as StatusAnswer } from "./error-kinds.ts";
import { retryAfterSeconds, scrub } from "./http-helpers.ts";
import type { TransportFailure } from "./http-post.ts";
import { bodyTooLargeIn, responseTooLarge } from "./response-limit.ts";

/** What an error answer says, whichever client read it. */
export interface ErrorAnswer extends StatusAnswer {
  retryAfterSeconds: number | undefined;
}

export interface OpenAIErrorsOptions {
  /** The base URL, without credentials. */
  endpoint: string;
  /** The model id messages name unless told another (embeddings name their own). */
  modelId: string;
  /** What scrubbing removes from messages: the key, else the base URL's password. */
  secret: string | undefined;
  maxResponseBytes: number;
}

export class OpenAIErrors {
  private readonly endpoint: string;
  private readonly modelId: string;
  private readonly secret: string | undefined;
  private readonly maxResponseBytes: number;

  constructor(options: OpenAIErrorsOptions) {
    this.endpoint = options.endpoint;
    this.modelId = options.modelId;
    this.secret = options.secret;
    this.maxResponseBytes = options.maxResponseBytes;
  }

  /** How messages name the model and where it is served. */
  describe(model: string = this.modelId): string {
    return `model "${model}" at ${this.endpoint}`;
  }

  /** An SDK failure as a ModelError, classified as the same failure over undici is. */
  fromSdk(error: unknown, sdk: typeof import("openai") | undefined, model: string = this.modelId): ModelError {
    // Only SDK calls end here, so the SDK is loaded; without it, nothing is an SDK error.
    const OpenAI = sdk?.default;
    if (bodyTooLargeIn(error)) return this.transport("too-large", "", error, model);
    if (!OpenAI) return this.transport("network", messageOf(error), error, model);
    if (error instanceof OpenAI.APIUserAbortError) return this.transport("aborted", "aborted", error, model);
    if (error instanceof OpenAI.APIConnectionTimeoutError) return this.transport("timeout", "timed out", error, model);
    if (error instanceof OpenAI.APIConnectionError) return this.transport("network", error.message, error, model);
    if (error instanceof OpenAI.APIError) {
      return this.answer(
        {
          status: error.status,
          // The SDK prefixes the status ("401 Incorrect API key…"); the message states it once.
          detail: error.message.replace(/^\d{3}\s+/, ""),
          code: typeof error.code === "string" ? error.code : undefined,
          retryAfterSeconds: retryAfterSeconds(error.headers),
        },
        model,
      );
    }
    return this.transport("network", messageOf(error), error, model);
  }

  transport(failure: TransportFailure, detail: string, cause: unknown, model: string = this.modelId): ModelError {
    const endpoint = this.endpoint;
    if (failure === "aborted") return new ModelError(`call to ${this.describe(model)} was aborted`, { kind: "aborted", endpoint, cause });
    if (failure === "timeout") {
      return new ModelError(`${this.describe(model)} did not answer in time`, {
        kind: "timeout",
        endpoint,
        cause,
        hint: "raise --timeout or check the server's load",
      });
    }
    if (failure === "too-large") return responseTooLarge(this.describe(model), endpoint, this.maxResponseBytes);
    return new ModelError(`cannot reach ${endpoint}: ${scrub(detail, this.secret)}`, {
      kind: "network",
      endpoint,
      cause,
      hint: "check the URL and that the server is running (for local servers, the port)",
    });
  }

  /** An HTTP error answer as a ModelError: the status decides the kind, hence whether the runner retries. */
  answer(answer: ErrorAnswer, model: string = this.modelId): ModelError {
    const { status } = answer;
    const detail = scrub(answer.detail, this.secret);
    const kind = kindOfAnswer({ status, code: answer.code, detail });
    const hints: Partial<Record<ModelErrorKind, string>> = {
      auth: "check the API key in the environment (OPENAI_API_KEY, or SPRI_BASE_API_KEY / SPRI_CRITIC_API_KEY for one role) and that it may use this model",
      "not-found": `check the model id "${model}" and the base URL (it usually ends in /v1)`,
      quota: "the account is out of quota or credit; add credit or use another key",
      "rate-limit": "lower --concurrency or wait",
      "bad-request": "the server rejected the request; check the sampling flags this server accepts",
    };
    return new ModelError(`${this.describe(model)} answered ${status ?? "an error"}: ${detail}`, {
      kind,
      status,
      endpoint: this.endpoint,
      retryAfterSeconds: answer.retryAfterSeconds,
      hint: hints[kind],
      // No `cause`: the raw answer may echo the key; its content is in `detail`, scrubbed.
    });
  }
}

/**
 * The message and code of an error body. Servers disagree on its shape: OpenAI and vLLM send
 * `{"error": {"message", "code"}}` or `{"message"}`, Ollama `{"error": "…"}`, some proxies
 * `{"detail": "…"}` or plain text.
 */
export function errorBodyOf(body: Record<string, unknown> | undefined, text: string): { detail: string; code: string | undefined } {
  const error = body?.error as { message?: unknown; code?: unknown; type?: unknown } | string | undefined;
  const codeOf = (value: unknown) => (typeof value === "string" ? value : undefined);
  if (typeof error === "string") return { detail: error, code: codeOf(body?.code) };
  if (error && typeof error.message === "string") return { detail: error.message, code: codeOf(error.code) ?? codeOf(error.type) };
  if (typeof body?.message === "string") return { detail: body.message, code: codeOf(body.code) };
  if (typeof body?.detail === "string") return { detail: body.detail, code: undefined };
  const trimmed = text.trim();
  return { detail: trimmed === "" ? "(no body)" : trimmed.length > 500 ? `${trimmed.slice(0, 500)}…` : trimmed, code: undefined };
}
