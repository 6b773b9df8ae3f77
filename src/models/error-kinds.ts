/**
 * The one table from an HTTP error answer to a ModelErrorKind, which decides whether the runner
 * tries again (ModelError.retryable). Every adapter that reads HTTP statuses (OpenAI-compatible,
 * Anthropic, batch result lines) classifies through it; what a provider says beyond the status
 * (Anthropic's error types, its 400 for an empty balance) is a small hook in that adapter, applied
 * before this table.
 */
import type { ModelErrorKind } from "../base/errors/errors.ts";

const STATUS_KINDS: ReadonlyMap<number, ModelErrorKind> = new Map([
  [400, "bad-request"],
  [401, "auth"],
  // Payment Required: no credit left; waiting cannot help.
  [402, "quota"],
  [403, "auth"],
  [404, "not-found"],
  // The server gave up waiting for the request: another try can pass.
  [408, "timeout"],
  [413, "bad-request"],
  [422, "bad-request"],
  [429, "rate-limit"],
]);

/** The kind a status alone says; 5xx is the server's fault, and anything unexpected is a reply we cannot use. */
export function kindOfStatus(status: number | undefined): ModelErrorKind {
  if (status === undefined) return "bad-response";
  return STATUS_KINDS.get(status) ?? (status >= 500 ? "server" : "bad-response");
}

export interface ErrorAnswer {
  status: number | undefined;
  /** The body's error code (OpenAI `error.code`), when it has one. */
  code?: string;
  /** The body's error message. */
  detail: string;
}

/**
 * The kind of an error answer: the status's, except a 429 that says the account is out of quota
 * or credit, which is `quota` (not retryable: waiting does not refill an account).
 */
export function kindOfAnswer(answer: ErrorAnswer): ModelErrorKind {
  const kind = kindOfStatus(answer.status);
  return kind === "rate-limit" && saysOutOfCredit(answer) ? "quota" : kind;
}

/** Whether an error answer says the account is out of quota, credit or billing (OpenAI, Anthropic and proxies word it so). */
export function saysOutOfCredit(answer: Pick<ErrorAnswer, "code" | "detail">): boolean {
  return answer.code === "insufficient_quota" || /quota|credit balance|billing/i.test(answer.detail);
}
