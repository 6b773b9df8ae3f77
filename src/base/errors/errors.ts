/**
 * The error family. Every error spri raises on purpose is a SpriError carrying the evidence a user
 * needs to act: where (file, line, field), what was found, and what to do. The CLI prints
 * `message` and `hint` on one line each and exits with `exitCode` (exit-codes.ts).
 */
import { messageOf } from "../util/message-of.ts";
import { EXIT_CODES, type ExitCode } from "./exit-codes.ts";

export interface ErrorEvidence {
  file?: string;
  line?: number;
  field?: string;
  /** What to do about it, phrased as an instruction. */
  hint?: string;
  cause?: unknown;
}

export class SpriError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  readonly hint?: string;
  /** What a SpriError says by default is for the user to fix: the command, a file, a setting, the store. */
  readonly exitCode: ExitCode = EXIT_CODES.usage;

  constructor(message: string, evidence: ErrorEvidence = {}) {
    super(message, evidence.cause === undefined ? undefined : { cause: evidence.cause });
    this.name = new.target.name;
    this.file = evidence.file;
    this.line = evidence.line;
    this.field = evidence.field;
    this.hint = evidence.hint;
  }

  /** `file:line: field "x": message. hint` — the one-line form the CLI prints. */
  describe(): string {
    const where = [this.file, this.line === undefined ? undefined : String(this.line)].filter(Boolean).join(":");
    const field = this.field === undefined ? "" : `field "${this.field}": `;
    const head = where ? `${where}: ${field}${this.message}` : `${field}${this.message}`;
    return this.hint ? `${head} — ${this.hint}` : head;
  }
}

/** Bad user input: a data file, a flag value, a seed file. */
export class InputError extends SpriError {
  override readonly exitCode = EXIT_CODES.usage;
}

/** Bad or missing configuration (models, endpoints, keys, prompt packs). */
export class ConfigError extends SpriError {
  override readonly exitCode = EXIT_CODES.usage;
}

export type ModelErrorKind =
  | "auth" // 401/403: the key is wrong or lacks access
  | "not-found" // unknown model or endpoint path
  | "rate-limit" // 429
  | "quota" // hard quota or billing error: retrying cannot help
  | "server" // 5xx
  | "timeout"
  | "network" // refused, reset, DNS
  | "aborted"
  | "bad-request" // 400/422
  | "bad-response"; // a reply we cannot read

/** A model call failed. `retryable` tells the runner whether another try can help. */
export class ModelError extends SpriError {
  override readonly exitCode = EXIT_CODES.providerRefused;
  readonly kind: ModelErrorKind;
  readonly status?: number;
  readonly endpoint?: string;
  /** Seconds the server asked us to wait (Retry-After), when it said. */
  readonly retryAfterSeconds?: number;
  /**
   * No request of this call left spri: it was cancelled while it waited (for a slot, a shared rate
   * limit or an identical call in flight), so nothing was sent or paid. Run summaries count the
   * calls sent, not these.
   */
  readonly unsent: boolean;

  constructor(
    message: string,
    details: ErrorEvidence & { kind: ModelErrorKind; status?: number; endpoint?: string; retryAfterSeconds?: number; unsent?: boolean },
  ) {
    super(message, details);
    this.kind = details.kind;
    this.status = details.status;
    this.endpoint = details.endpoint;
    this.retryAfterSeconds = details.retryAfterSeconds;
    this.unsent = details.unsent ?? false;
  }

  get retryable(): boolean {
    return this.kind === "rate-limit" || this.kind === "server" || this.kind === "timeout" || this.kind === "network";
  }
}

/**
 * The run's budget cannot pay for the next call (`--max-cost`, `--max-tokens`): the call is not
 * made, the run stops cleanly, and the item waits for the next command.
 */
export class BudgetError extends SpriError {
  override readonly exitCode = 3;
}

export function isSpriError(error: unknown): error is SpriError {
  return error instanceof SpriError;
}

/** A thrown value as one line: a SpriError with its evidence (`describe()`), anything else by its message. */
export function describeError(error: unknown): string {
  return error instanceof SpriError ? error.describe() : messageOf(error);
}
