/**
 * An adaptive concurrency limiter for one endpoint (AIMD, as TCP does it):
 *
 * - It starts at `maxConcurrency` calls in flight.
 * - A 429 (ModelError kind "rate-limit") halves the allowed concurrency (never below
 *   `minConcurrency`) and, when the server sent Retry-After, holds every new call until then.
 *   A burst of 429s from calls that were already in flight when the limit dropped counts as one
 *   signal: only a call granted since the last decrease can decrease it again, so 16 parallel
 *   429s give 16 → 8, not 16 → 1.
 * - Every `recoverAfter` successes in a row add one slot back, up to `maxConcurrency`.
 * - Optionally a requests-per-minute cap (token bucket, about one second's worth of burst).
 *
 * Waiters are served strictly first come, first served; a waiter whose signal aborts leaves the
 * queue and rejects with ModelError kind "aborted". Timers and the clock are injectable.
 *
 * Models that share an endpoint share a limiter: keep one `RateLimiterRegistry` per run and ask it
 * for the limiter of each model's `id`.
 */
import { ModelError } from "../../base/errors/errors.ts";
import { onAbort } from "../../base/util/abort.ts";

export interface LimiterClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: LimiterClock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

export interface RateLimiterOptions {
  /** Calls in flight at most, and where the limit starts (e.g. `--concurrency`). */
  maxConcurrency: number;
  /** Floor for backing off. Default 1. */
  minConcurrency?: number;
  /** Successes in a row that give one slot back. Default 5. */
  recoverAfter?: number;
  /** Requests started per minute at most; unset means no cap. */
  requestsPerMinute?: number;
  /** Longest pause a Retry-After can impose on new calls. Default 60 000 ms (the retry policy's longest wait). */
  maxPauseMs?: number;
  clock?: LimiterClock;
}

export interface RateLimiterStats {
  /** Calls allowed in flight now. */
  limit: number;
  maxConcurrency: number;
  inFlight: number;
  waiting: number;
  /** 429 (rate-limit) answers seen. */
  rateLimited: number;
  /** Successful calls seen. */
  succeeded: number;
  /** Highest number of calls ever in flight at once. */
  peakInFlight: number;
  /** Milliseconds until new calls may start again after a Retry-After; 0 when not paused. */
  pausedForMs: number;
}

export type CallOutcome =
  | { kind: "success" }
  | { kind: "rate-limited"; retryAfterSeconds?: number }
  /** Any other failure: neither evidence of overload nor of health. */
  | { kind: "failure" };

/** One granted slot. Release it exactly once (later calls are ignored). */
export interface Permit {
  release(outcome: CallOutcome): void;
}

interface Waiter {
  resolve(permit: Permit): void;
  reject(error: unknown): void;
  detach(): void;
}

export class AdaptiveRateLimiter {
  readonly maxConcurrency: number;
  readonly minConcurrency: number;
  readonly recoverAfter: number;
  readonly requestsPerMinute?: number;
  private readonly maxPauseMs: number;
  private readonly clock: LimiterClock;

  private currentLimit: number;
  private active = 0;
  private peak = 0;
  private rateLimitedCount = 0;
  private successCount = 0;
  private successesInRow = 0;
  /** Bumped on every decrease; a permit from an older epoch cannot decrease again. */
  private epoch = 0;
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private cancelTimer: (() => void) | undefined;
  private timerAt = Infinity;

  // Token bucket (only with requestsPerMinute).
  private readonly bucketSize: number;
  private tokens: number;
  private refilledAt: number;

  constructor(options: RateLimiterOptions) {
    this.maxConcurrency = Math.max(1, Math.floor(options.maxConcurrency));
    this.minConcurrency = Math.min(this.maxConcurrency, Math.max(1, Math.floor(options.minConcurrency ?? 1)));
    this.recoverAfter = Math.max(1, Math.floor(options.recoverAfter ?? 5));
    this.maxPauseMs = Math.max(0, options.maxPauseMs ?? 60_000);
    this.clock = options.clock ?? systemClock;
    this.currentLimit = this.maxConcurrency;
    const rpm = options.requestsPerMinute;
    if (rpm !== undefined && Number.isFinite(rpm) && rpm > 0) {
      this.requestsPerMinute = rpm;
      this.bucketSize = Math.max(1, rpm / 60);
    } else {
      this.bucketSize = Infinity;
    }
    this.tokens = this.bucketSize;
    this.refilledAt = this.clock.now();
  }

  get stats(): RateLimiterStats {
    return {
      limit: this.currentLimit,
      maxConcurrency: this.maxConcurrency,
      inFlight: this.active,
      waiting: this.queue.length,
      rateLimited: this.rateLimitedCount,
      succeeded: this.successCount,
      peakInFlight: this.peak,
      pausedForMs: Math.max(0, this.pausedUntil - this.clock.now()),
    };
  }

  /** Waits for a slot (first come, first served). Rejects with kind "aborted" if `signal` fires first. */
  acquire(signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.queue.length === 0 && this.canStart()) return Promise.resolve(this.grant());
    return new Promise<Permit>((resolve, reject) => {
      // Waiters usually share the run's signal: onAbort keeps many of them cheap.
      const unsubscribe = signal
        ? onAbort(signal, () => {
            const index = this.queue.indexOf(waiter);
            if (index >= 0) this.queue.splice(index, 1);
            reject(abortError(signal));
            // The head may have changed; let the next one go if it can.
            this.pump();
          })
        : undefined;
      const waiter: Waiter = { resolve, reject, detach: () => unsubscribe?.() };
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Runs `fn` holding a slot and reports its outcome (429s as ModelError kind "rate-limit"). */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const permit = await this.acquire(signal);
    try {
      const value = await fn();
      permit.release({ kind: "success" });
      return value;
    } catch (error) {
      permit.release(outcomeOf(error));
      throw error;
    }
  }

  private canStart(): boolean {
    if (this.active >= this.currentLimit) return false;
    const now = this.clock.now();
    if (now < this.pausedUntil) return false;
    this.refill(now);
    return this.tokens >= 1;
  }

  private grant(): Permit {
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    if (this.bucketSize !== Infinity) this.tokens -= 1;
    const epoch = this.epoch;
    let released = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.active--;
        this.record(outcome, epoch);
        this.pump();
      },
    };
  }

  private record(outcome: CallOutcome, epoch: number): void {
    if (outcome.kind === "success") {
      this.successCount++;
      if (this.currentLimit < this.maxConcurrency && ++this.successesInRow >= this.recoverAfter) {
        this.currentLimit++;
        this.successesInRow = 0;
      }
      return;
    }
    if (outcome.kind !== "rate-limited") return;
    this.rateLimitedCount++;
    this.successesInRow = 0;
    if (epoch === this.epoch) {
      this.currentLimit = Math.max(this.minConcurrency, Math.floor(this.currentLimit / 2));
      this.epoch++;
    }
    const seconds = outcome.retryAfterSeconds;
    if (seconds !== undefined && Number.isFinite(seconds) && seconds > 0) {
      const until = this.clock.now() + Math.min(this.maxPauseMs, seconds * 1000);
      this.pausedUntil = Math.max(this.pausedUntil, until);
    }
  }

  /** Grants slots to waiters in order while it can; otherwise arms a timer for when it might. */
  private pump(): void {
    while (this.queue.length > 0 && this.canStart()) {
      const waiter = this.queue.shift()!;
      waiter.detach();
      waiter.resolve(this.grant());
    }
    this.armTimer();
  }

  private armTimer(): void {
    const wakeAt = this.queue.length === 0 || this.active >= this.currentLimit ? Infinity : this.nextStartTime();
    if (wakeAt === this.timerAt) return;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.timerAt = wakeAt;
    if (wakeAt === Infinity) return;
    this.cancelTimer = this.clock.setTimer(
      () => {
        this.cancelTimer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, wakeAt - this.clock.now()),
    );
  }

  /** Earliest time the pause and the bucket allow a start (a slot being free is assumed). */
  private nextStartTime(): number {
    const now = this.clock.now();
    let at = Math.max(now, this.pausedUntil);
    if (this.bucketSize !== Infinity) {
      this.refill(now);
      if (this.tokens < 1) {
        const perMs = this.requestsPerMinute! / 60_000;
        at = Math.max(at, now + Math.ceil((1 - this.tokens) / perMs));
      }
    }
    return at;
  }

  private refill(now: number): void {
    if (this.bucketSize === Infinity) return;
    const elapsed = Math.max(0, now - this.refilledAt);
    this.tokens = Math.min(this.bucketSize, this.tokens + (elapsed * this.requestsPerMinute!) / 60_000);
    this.refilledAt = now;
  }
}

/** How a call's error counts for the limiter: only rate-limit is overload; quota is not. */
export function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof ModelError && error.kind === "rate-limit") {
    return { kind: "rate-limited", retryAfterSeconds: error.retryAfterSeconds };
  }
  return { kind: "failure" };
}

/** One limiter per key (a model's `id`), created on first use with the registry's options. */
export class RateLimiterRegistry {
  private readonly limiters = new Map<string, AdaptiveRateLimiter>();
  private readonly defaults: RateLimiterOptions;

  constructor(defaults: RateLimiterOptions) {
    this.defaults = defaults;
  }

  get(key: string, options?: Partial<RateLimiterOptions>): AdaptiveRateLimiter {
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new AdaptiveRateLimiter({ ...this.defaults, ...options });
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  /** Stats per key, for progress displays. */
  stats(): Map<string, RateLimiterStats> {
    return new Map([...this.limiters].map(([key, limiter]) => [key, limiter.stats]));
  }
}

function abortError(signal: AbortSignal | undefined): ModelError {
  return new ModelError("the model call was aborted while waiting for a slot", { kind: "aborted", cause: signal?.reason, unsent: true });
}
