/**
 * The official OpenAI SDK's failures as ModelErrors, for the adapters that call OpenAI's non-chat
 * APIs through it (Batch, fine-tuning): the kind by status (error-kinds), the key scrubbed from
 * every message, and a hint the adapter chooses for its API.
 */
import type OpenAI from "openai";
import { ModelError, type ModelErrorKind } from "../base/errors/errors.ts";
import { kindOfAnswer } from "./error-kinds.ts";
import { scrub } from "./http-helpers.ts";
import { messageOf } from "../base/util/message-of.ts";

export interface SdkErrorContext {
  /** What was being done, e.g. "create a batch". */
  what: string;
  endpoint: string;
  /** The key (or URL password) to scrub from messages. */
  secret?: string;
  /** The SDK module, once loaded (before that every failure is a network one). */
  module?: typeof import("openai");
  /** The hint for an answer of this kind and status. */
  hint?: (kind: ModelErrorKind, status: number | undefined) => string | undefined;
}

export function openaiSdkError(error: unknown, context: SdkErrorContext): ModelError {
  const { what, endpoint, secret } = context;
  const OpenAIClass = context.module?.default as typeof OpenAI | undefined;
  const detailOf = (e: unknown) => scrub(messageOf(e), secret);
  if (!OpenAIClass) return new ModelError(`cannot ${what} at ${endpoint}: ${detailOf(error)}`, { kind: "network", endpoint, cause: error });
  if (error instanceof OpenAIClass.APIUserAbortError)
    return new ModelError(`${what} at ${endpoint}: aborted`, { kind: "aborted", endpoint });
  if (error instanceof OpenAIClass.APIConnectionTimeoutError)
    return new ModelError(`${what} at ${endpoint}: no answer in time`, { kind: "timeout", endpoint });
  if (error instanceof OpenAIClass.APIConnectionError) {
    return new ModelError(`cannot reach ${endpoint} to ${what}`, {
      kind: "network",
      endpoint,
      hint: "check the URL and that the server is running",
    });
  }
  if (error instanceof OpenAIClass.APIError) {
    const status = error.status;
    const detail = scrub(error.message.replace(/^\d{3}\s+/, ""), secret);
    const kind = kindOfAnswer({ status, code: typeof error.code === "string" ? error.code : undefined, detail });
    const adjusted: ModelErrorKind = status === 405 ? "not-found" : kind;
    return new ModelError(`cannot ${what} at ${endpoint}: ${status ?? "error"} ${detail}`, {
      kind: adjusted,
      status,
      endpoint,
      hint: context.hint?.(adjusted, status),
    });
  }
  return new ModelError(`cannot ${what} at ${endpoint}: ${detailOf(error)}`, { kind: "network", endpoint, cause: error });
}
