/**
 * Provider limits as users know them, requests and tokens per minute, kept across every worker that
 * shares a store: each worker takes small allowances from the endpoint's window in the store
 * (`RateLedger.takeRate`) and spends them locally, so N workers on one API key do not trip its
 * limit N times over. Windows are fixed minutes on the store's clock; a worker may carry at most one
 * allowance (a small share of the limit) across a window's end.
 *
 * Tokens are counted before the call, as providers do: the prompt's estimated tokens (characters / 4)
 * plus the call's `maxTokens`. Retries inside the resilient wrapper are not counted again.
 */
import { ModelError } from "../../base/errors/errors.ts";
import type {
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  LogLikelihoodRequest,
  LogLikelihoodResult,
} from "../../models/language-model.ts";
import { ModelDecorator } from "../../models/model-decorator.ts";
import type { RateLedger } from "../store/work-queue.ts";

export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

const WINDOW_MS = 60_000;
/** Allowances are this share of a minute's limit: small enough to share, large enough to be cheap. */
const SHARE = 1 / 50;

export class SharedRateGate {
  private readonly ledger: RateLedger;
  private readonly key: string;
  private readonly limits: { requests?: number; tokens?: number };
  private readonly windowMs: number;
  private allowance = { requests: 0, tokens: 0 };
  private fetching: Promise<void> | undefined;

  /** `windowMs` is a minute; tests shorten it (the limits then count per window). */
  constructor(ledger: RateLedger, key: string, limits: RateLimits, windowMs = WINDOW_MS) {
    this.ledger = ledger;
    this.key = key;
    this.limits = { requests: limits.requestsPerMinute, tokens: limits.tokensPerMinute };
    this.windowMs = windowMs;
  }

  /** Waits until one request of `tokens` tokens fits the endpoint's limits, and takes it. */
  async acquire(tokens: number, signal?: AbortSignal): Promise<void> {
    const need = this.limits.tokens === undefined ? 0 : Math.min(tokens, this.limits.tokens);
    for (;;) {
      if (signal?.aborted)
        throw new ModelError(`call to ${this.key} was aborted while waiting for its rate limit`, {
          kind: "aborted",
          endpoint: this.key,
          unsent: true,
        });
      if (this.allowance.requests >= 1 && this.allowance.tokens >= need) {
        this.allowance.requests -= 1;
        this.allowance.tokens -= need;
        return;
      }
      this.fetching ??= this.fetch(need, signal).finally(() => (this.fetching = undefined));
      await this.fetching;
    }
  }

  private async fetch(need: number, signal?: AbortSignal): Promise<void> {
    const requests = this.limits.requests === undefined ? 64 : Math.max(1, Math.ceil(this.limits.requests * SHARE));
    const tokens = this.limits.tokens === undefined ? 0 : Math.max(need, Math.ceil(this.limits.tokens * SHARE));
    const got = await this.ledger.takeRate(
      this.key,
      { requests: this.allowance.requests >= 1 ? 0 : requests, tokens: Math.max(0, tokens - this.allowance.tokens) },
      this.limits,
      this.windowMs,
    );
    this.allowance.requests += got.requests;
    this.allowance.tokens += got.tokens;
    if (this.allowance.requests < 1 || this.allowance.tokens < need) await sleep(got.resetInMs + 5, signal);
  }
}

/** A model whose calls first pass the endpoint's shared gate. */
export class RateLimitedModel extends ModelDecorator {
  private readonly gate: SharedRateGate;

  constructor(inner: LanguageModel, gate: SharedRateGate) {
    super(inner);
    this.gate = gate;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    await this.gate.acquire(estimateTokens(request), request.signal);
    return this.inner.generate(request);
  }

  override async logLikelihood(request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
    const chars = request.continuations.reduce((sum, text) => sum + request.context.length + text.length, 0);
    await this.gate.acquire(Math.ceil(chars / 4), request.signal);
    return super.logLikelihood(request);
  }
}

/** Tokens a provider counts against its limit before answering: prompt estimate plus the output cap. */
export function estimateTokens(request: GenerateRequest): number {
  let chars = 0;
  for (const message of request.messages) chars += message.content.length;
  return Math.ceil(chars / 4) + (request.sampling?.maxTokens ?? 0);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
