/**
 * A LanguageModel decorator that lets a run survive real APIs: every try holds a slot of the
 * endpoint's adaptive limiter (see rate-limiter.ts), carries the per-call timeout to the adapter
 * (which raises ModelError kind "timeout"), reports 429s and successes to the limiter, and is
 * retried per the RetryPolicy (see retry.ts). The caller's abort signal stops it at any point:
 * waiting for a slot, during the call, or sleeping between tries.
 *
 *   const { base, critic } = makeResilient(models, { maxConcurrency: 8, timeoutMs: 60_000 });
 */
import { setImmediate as afterPendingIo } from "node:timers/promises";
import { ModelError } from "../../base/errors/errors.ts";
import type {
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  LogLikelihoodRequest,
  LogLikelihoodResult,
} from "../../models/language-model.ts";
import { ModelDecorator } from "../../models/model-decorator.ts";
import { AdaptiveRateLimiter, type RateLimiterOptions, RateLimiterRegistry, type RateLimiterStats, outcomeOf } from "./rate-limiter.ts";
import { RetryPolicy, type RetryEvent, type RetryOptions, throwIfAborted } from "./retry.ts";

export interface ResilientModelOptions {
  limiter: AdaptiveRateLimiter;
  /** A policy, or options for one. Default: RetryPolicy defaults (6 tries, 1 s base, 60 s cap). */
  retry?: RetryPolicy | RetryOptions;
  /** Per-try timeout handed to the adapter; a request's own smaller `timeoutMs` wins. */
  timeoutMs?: number;
  /** Called before each wait between tries (progress lines, logs). */
  onRetry?: (event: RetryEvent & { model: string }) => void;
}

export interface ResilientModelStats {
  /** generate() calls. */
  calls: number;
  /** Calls that returned a result. */
  succeeded: number;
  /** Calls that threw after their last try. */
  failed: number;
  /** Requests sent to the inner model (tries), retries included. */
  attempts: number;
  retries: number;
  limiter: RateLimiterStats;
}

export class ResilientModel extends ModelDecorator {
  readonly limiter: AdaptiveRateLimiter;
  readonly retry: RetryPolicy;
  private readonly timeoutMs?: number;
  private readonly onRetry?: ResilientModelOptions["onRetry"];
  private counts = { calls: 0, succeeded: 0, failed: 0, attempts: 0, retries: 0 };

  constructor(inner: LanguageModel, options: ResilientModelOptions) {
    super(inner);
    this.limiter = options.limiter;
    this.retry = options.retry instanceof RetryPolicy ? options.retry : new RetryPolicy(options.retry);
    this.timeoutMs = options.timeoutMs;
    this.onRetry = options.onRetry;
  }

  get stats(): ResilientModelStats {
    return { ...this.counts, limiter: this.limiter.stats };
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.withRetries(request, (perTry) => this.inner.generate(perTry));
  }

  /** Log-likelihood calls take the same slots, timeouts and retries as generation. */
  override logLikelihood(request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
    return this.withRetries(request, (perTry) => super.logLikelihood(perTry));
  }

  /**
   * The tries of one call, each holding a limiter slot, in one loop rather than through
   * `RetryPolicy.run` (the same decisions, see `retryDelay`): a closure, an options object and two
   * async frames less per call.
   */
  private async withRetries<R extends { signal?: AbortSignal; timeoutMs?: number }, T>(
    request: R,
    call: (perTry: R) => Promise<T>,
  ): Promise<T> {
    this.counts.calls++;
    const { signal } = request;
    const timeoutMs = minDefined(request.timeoutMs, this.timeoutMs);
    const perTry: R = timeoutMs === undefined ? request : { ...request, timeoutMs };
    let tries = 0;
    try {
      for (let attempt = 1; ; attempt++) {
        throwIfAborted(signal);
        const permit = await this.limiter.acquire(signal);
        this.counts.attempts++;
        tries++;
        let result: T;
        try {
          result = await call(perTry);
        } catch (error) {
          permit.release(outcomeOf(error));
          const delayMs = this.retry.retryDelay(attempt, error, signal);
          this.counts.retries++;
          this.onRetry?.({ attempt, error: error as ModelError, delayMs, model: this.id });
          await this.retry.pause(delayMs, signal);
          continue;
        }
        permit.release({ kind: "success" });
        this.counts.succeeded++;
        // A successful call returns in the event loop's check phase, after the I/O callbacks that are
        // ready now. Its slot is already free and the next waiting call handed to the HTTP client, but
        // undici writes a request on a reused keep-alive socket only in the check phase ("a full event
        // loop cycle" after that socket's last answer). Answers that arrive together are read in one
        // poll phase; if each caller's follow-up work (parsing, the next prompt, the cache) ran there
        // too, every freed request would wait for all of it. Returning after the writes keeps the poll
        // phase to reading answers and handing out slots: at 256 calls in flight with 100 ms answers
        // (bench (f)) the server's window shrank by ~3 %.
        await afterPendingIo();
        return result;
      }
    } catch (error) {
      this.counts.failed++;
      throw tries > 0 && error instanceof ModelError && error.unsent ? sentAfterAll(error) : error;
    }
  }
}

export interface MakeResilientOptions extends Partial<Omit<RateLimiterOptions, "maxConcurrency">> {
  /** Calls in flight per endpoint at most (e.g. `--concurrency`). */
  maxConcurrency: number;
  retry?: RetryPolicy | RetryOptions;
  timeoutMs?: number;
  onRetry?: ResilientModelOptions["onRetry"];
  /** Limiters by endpoint; pass one to share limiters across calls of makeResilient. */
  registry?: RateLimiterRegistry;
  /** Which models share a limiter. Default: the endpoint (`endpointKey`), so models on one server share its limit. */
  limiterKey?: (model: LanguageModel) => string;
}

/**
 * Wraps each model of a set (e.g. `{ base, critic }`). Models with the same limiter key share one
 * limiter; the same model object given twice gets the same wrapper (so `critic === base` holds
 * after wrapping whenever it held before).
 */
export function makeResilient<M extends Record<string, LanguageModel>>(
  models: M,
  options: MakeResilientOptions,
): { [K in keyof M]: ResilientModel } {
  const { retry, timeoutMs, onRetry, registry: given, limiterKey = endpointKey, ...limiterOptions } = options;
  const registry = given ?? new RateLimiterRegistry(limiterOptions);
  const policy = retry instanceof RetryPolicy ? retry : new RetryPolicy(retry);
  const wrapped = new Map<LanguageModel, ResilientModel>();
  const out = {} as { [K in keyof M]: ResilientModel };
  for (const key of Object.keys(models) as (keyof M & string)[]) {
    const model = models[key]!;
    let resilient = wrapped.get(model);
    if (!resilient) {
      const limiter = registry.get(limiterKey(model), limiterOptions);
      resilient = new ResilientModel(model, { limiter, retry: policy, timeoutMs, onRetry });
      wrapped.set(model, resilient);
    }
    out[key] = resilient;
  }
  return out;
}

/** A call cancelled while it waited for a slot to retry in: its earlier tries went out. */
function sentAfterAll(error: ModelError): ModelError {
  return new ModelError(error.message, { kind: error.kind, endpoint: error.endpoint, hint: error.hint, cause: error.cause });
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}

/**
 * The endpoint a model is served from: its id up to the model name (`<endpoint>#<model>`). Models
 * on one server share its limit, since the server counts their requests together.
 */
export function endpointKey(model: LanguageModel): string {
  const at = model.id.lastIndexOf("#");
  return at < 0 ? model.id : model.id.slice(0, at);
}
