/**
 * Retry policy for model calls: exponential backoff with full jitter, honouring the server's
 * Retry-After, retrying only failures another try can fix (ModelError.retryable: rate-limit,
 * server, timeout, network). Everything else (auth, quota, not-found, bad-request, bad-response,
 * aborted, and any non-ModelError, which is a bug) is thrown at once, so a run never pays twice
 * for a call that cannot succeed.
 *
 * Delay before retry n (n = 1 after the first failure):
 *   full jitter:  random() * min(maxDelayMs, baseDelayMs * factor^(n-1))
 *   Retry-After:  at least retryAfterSeconds * 1000 when the server said so
 *   either way:   at most maxWaitMs; a longer Retry-After gets the next try after maxWaitMs,
 *                 and that try counts toward maxAttempts like any other
 * A Retry-After longer than `maxRetryAfterMs` (a daily quota, say) is not waited out: the error
 * is thrown at once with the wait it asked for.
 */
import { ModelError } from "../../base/errors/errors.ts";

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryOptions {
  /** Tries in all, the first included. Default 6. 1 turns retries off. */
  maxAttempts?: number;
  /** Backoff scale in milliseconds. Default 1000. */
  baseDelayMs?: number;
  /** Growth per retry. Default 2. */
  factor?: number;
  /** Cap on the exponential part (before jitter). Default 60 000. */
  maxDelayMs?: number;
  /** Longest wait before a retry, a Retry-After included. Default 60 000. */
  maxWaitMs?: number;
  /** Longest Retry-After the policy tries again after; a longer one fails at once. Default 300 000 (5 min). */
  maxRetryAfterMs?: number;
  /** Uniform in [0, 1); injectable for tests. Default Math.random. */
  random?: () => number;
  /** Abortable sleep; injectable for tests. Default a timer. */
  sleep?: Sleep;
}

export interface RetryEvent {
  /** The try that failed (1-based). */
  attempt: number;
  error: ModelError;
  /** The wait before the next try. */
  delayMs: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Called before each wait, e.g. to count retries or show them in a progress line. */
  onRetry?: (event: RetryEvent) => void;
}

/** Thrown when every try failed with a retryable error. Keeps the last error's kind, status and hint. */
export class RetriesExhaustedError extends ModelError {
  readonly attempts: number;
  readonly lastError: ModelError;

  constructor(lastError: ModelError, attempts: number) {
    super(`${lastError.message} (gave up after ${attempts} ${attempts === 1 ? "try" : "tries"})`, {
      kind: lastError.kind,
      status: lastError.status,
      endpoint: lastError.endpoint,
      retryAfterSeconds: lastError.retryAfterSeconds,
      hint: lastError.hint,
      cause: lastError,
    });
    this.attempts = attempts;
    this.lastError = lastError;
  }
}

export const DEFAULT_RETRY: Readonly<Required<Omit<RetryOptions, "random" | "sleep">>> = Object.freeze({
  maxAttempts: 6,
  baseDelayMs: 1000,
  factor: 2,
  maxDelayMs: 60_000,
  maxWaitMs: 60_000,
  maxRetryAfterMs: 300_000,
});

export class RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  readonly maxWaitMs: number;
  readonly maxRetryAfterMs: number;
  private readonly random: () => number;
  private readonly sleep: Sleep;

  constructor(options: RetryOptions = {}) {
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_RETRY.maxAttempts));
    this.baseDelayMs = Math.max(0, options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs);
    this.factor = Math.max(1, options.factor ?? DEFAULT_RETRY.factor);
    this.maxDelayMs = Math.max(0, options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs);
    this.maxWaitMs = Math.max(0, options.maxWaitMs ?? DEFAULT_RETRY.maxWaitMs);
    this.maxRetryAfterMs = Math.max(0, options.maxRetryAfterMs ?? DEFAULT_RETRY.maxRetryAfterMs);
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? abortableSleep;
  }

  /** The upper bound of the jittered wait before retry `retry` (1-based), Retry-After aside. */
  backoffCeilingMs(retry: number): number {
    return Math.min(this.maxDelayMs, this.baseDelayMs * this.factor ** Math.max(0, retry - 1));
  }

  /** The wait before retry `retry` (1-based) after `error`: full jitter, at least the Retry-After, at most `maxWaitMs`. */
  delayMs(retry: number, error?: ModelError): number {
    const jittered = clamp01(this.random()) * this.backoffCeilingMs(retry);
    const retryAfterMs = retryAfterMsOf(error);
    return Math.min(this.maxWaitMs, retryAfterMs === undefined ? jittered : Math.max(jittered, retryAfterMs));
  }

  /**
   * Runs `fn` (given the 1-based try number) until it succeeds, fails for good, or tries run out.
   * The signal is checked before every try and interrupts the waits between them.
   */
  async run<T>(fn: (attempt: number) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const { signal, onRetry } = options;
    for (let attempt = 1; ; attempt++) {
      throwIfAborted(signal);
      try {
        return await fn(attempt);
      } catch (error) {
        const delayMs = this.retryDelay(attempt, error, signal);
        onRetry?.({ attempt, error: error as ModelError, delayMs });
        await this.pause(delayMs, signal);
      }
    }
  }

  /**
   * The wait before the next try, after try `attempt` failed with `error`; when there is to be no
   * next try, throws what the caller gets instead. For callers that run the tries themselves (a
   * model decorator's loop: `run`'s closure and options per call were a measurable share of each
   * call's allocations), with the same decisions as `run`.
   */
  retryDelay(attempt: number, error: unknown, signal?: AbortSignal): number {
    // A failure caused by our own abort is reported as an abort, whatever the adapter made of it.
    if (signal?.aborted) throw abortedError(signal, error);
    if (!(error instanceof ModelError) || !error.retryable) throw error;
    if (attempt >= this.maxAttempts) throw new RetriesExhaustedError(error, attempt);
    const retryAfterMs = retryAfterMsOf(error);
    if (retryAfterMs !== undefined && retryAfterMs > this.maxRetryAfterMs) {
      throw new ModelError(`${error.message} (the server asked to wait ${formatSeconds(retryAfterMs)}; not retried)`, {
        kind: error.kind,
        status: error.status,
        endpoint: error.endpoint,
        retryAfterSeconds: error.retryAfterSeconds,
        hint: error.hint ?? "wait until the limit resets, or use another key or endpoint",
        cause: error,
      });
    }
    return this.delayMs(attempt, error);
  }

  /** Waits `delayMs` between tries; the signal ends the wait with the aborted error. */
  async pause(delayMs: number, signal?: AbortSignal): Promise<void> {
    if (delayMs <= 0) return;
    try {
      await this.sleep(delayMs, signal);
    } catch (sleepError) {
      if (signal?.aborted) throw abortedError(signal, sleepError);
      throw sleepError;
    }
  }
}

/** A timer that rejects with the signal's reason when aborted, and never outlives the abort. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The ModelError (kind "aborted") spri raises when a caller's signal stops a call. */
export function abortedError(signal: AbortSignal | undefined, cause?: unknown): ModelError {
  if (cause instanceof ModelError && cause.kind === "aborted") return cause;
  return new ModelError("the model call was aborted", { kind: "aborted", cause: cause ?? signal?.reason });
}

/** Before a try: a call whose signal has fired is not sent. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError(signal);
}

function retryAfterMsOf(error: ModelError | undefined): number | undefined {
  const seconds = error?.retryAfterSeconds;
  return seconds === undefined || !Number.isFinite(seconds) ? undefined : Math.max(0, seconds * 1000);
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
