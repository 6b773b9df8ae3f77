/**
 * A run's budget (`--max-cost`, `--max-tokens`) shared by every process that works the run: the
 * budget belongs to the run, not to one command, so N workers on one API key stop together, and a
 * resumed run does not start again from zero.
 *
 * Each process reserves small allowances of the budget from a ledger in the run store (the same
 * `RateLedger` that keeps provider limits, as one window that never ends) and charges its calls
 * against them as they finish; when the ledger has nothing left and the allowance is spent, the
 * budget is spent. What the run overshoots by is what was in flight then, as for one process; a
 * process gives back what it reserved and did not spend when it stops.
 */
import type { RateLedger } from "../store/work-queue.ts";
import type { Budget } from "./cost.ts";

/** One window for the whole life of a run. */
const FOREVER_MS = 100 * 365 * 24 * 3600 * 1000;
/** Allowances are this share of the budget. */
const SHARE = 1 / 50;
const MICRO = 1_000_000;

export class RunSpend {
  private readonly ledger: RateLedger;
  private readonly key: string;
  private readonly limits: { requests?: number; tokens?: number };
  private readonly chunk: { requests: number; tokens: number };
  private readonly budget: Budget;
  /** Reserved and not yet spent (micro-USD, tokens); negative while a reservation is on its way. */
  private allowance = { requests: 0, tokens: 0 };
  private exhausted = { requests: false, tokens: false };
  /** Spent by this process (for the message). */
  private spent = { costUsd: 0, tokens: 0 };
  private reserving: Promise<void> | undefined;

  constructor(ledger: RateLedger, runId: string, budget: Budget) {
    this.ledger = ledger;
    this.key = `budget:${runId}`;
    this.budget = budget;
    this.limits = {
      requests: budget.maxCostUsd === undefined ? undefined : Math.round(budget.maxCostUsd * MICRO),
      tokens: budget.maxTokens,
    };
    this.chunk = { requests: Math.max(1, Math.ceil((this.limits.requests ?? 0) * SHARE)), tokens: Math.max(1, Math.ceil((this.limits.tokens ?? 0) * SHARE)) };
  }

  private get active(): boolean {
    return this.limits.requests !== undefined || this.limits.tokens !== undefined;
  }

  /** Takes the first allowance (call before the first call is made). */
  async start(): Promise<void> {
    if (this.active) await this.reserve();
  }

  /**
   * Charges one finished call; returns why the run's budget is spent, or undefined while there is
   * room. Reserves the next allowance in the background when this one runs low.
   */
  charge(costUsd: number, tokens: number): string | undefined {
    if (!this.active) return undefined;
    this.spent.costUsd += costUsd;
    this.spent.tokens += tokens;
    this.allowance.requests -= Math.round(costUsd * MICRO);
    this.allowance.tokens -= tokens;
    if (this.low()) this.reserving ??= this.reserve().finally(() => (this.reserving = undefined));
    return this.reason();
  }

  /** Why the budget is spent (nothing left in the ledger and the allowance used up), or undefined. */
  reason(): string | undefined {
    if (this.limits.requests !== undefined && this.exhausted.requests && this.allowance.requests <= 0) {
      return `the cost budget of $${this.budget.maxCostUsd} is spent (this process: $${this.spent.costUsd.toFixed(4)})`;
    }
    if (this.limits.tokens !== undefined && this.exhausted.tokens && this.allowance.tokens <= 0) {
      return `the token budget of ${this.budget.maxTokens} is spent (this process: ${this.spent.tokens} tokens)`;
    }
    return undefined;
  }

  /**
   * For a process that makes no calls (`spri run --no-work`): whether the workers have spent the
   * budget, asked of the ledger without keeping anything.
   */
  async probe(): Promise<string | undefined> {
    if (!this.active) return undefined;
    const want = { requests: this.limits.requests === undefined ? 0 : 1, tokens: this.limits.tokens === undefined ? 0 : 1 };
    const got = await this.ledger.takeRate(this.key, want, this.limits, FOREVER_MS);
    if (got.requests > 0 || got.tokens > 0) await this.ledger.takeRate(this.key, { requests: -got.requests, tokens: -got.tokens }, this.limits, FOREVER_MS);
    if (got.requests < want.requests) return `the cost budget of $${this.budget.maxCostUsd} is spent`;
    if (got.tokens < want.tokens) return `the token budget of ${this.budget.maxTokens} is spent`;
    return undefined;
  }

  /** Waits for a reservation on its way (so `reason()` is current). */
  async settle(): Promise<void> {
    await this.reserving;
  }

  /** Settles with the ledger: gives back what was reserved and not spent, takes what was spent beyond it. */
  async release(): Promise<void> {
    if (!this.active) return;
    await this.reserving;
    const settle = { requests: -this.allowance.requests, tokens: -this.allowance.tokens };
    if (settle.requests === 0 && settle.tokens === 0) return;
    await this.ledger.takeRate(this.key, settle, this.limits, FOREVER_MS);
    this.allowance = { requests: 0, tokens: 0 };
  }

  private low(): boolean {
    return (
      (this.limits.requests !== undefined && !this.exhausted.requests && this.allowance.requests < this.chunk.requests / 2) ||
      (this.limits.tokens !== undefined && !this.exhausted.tokens && this.allowance.tokens < this.chunk.tokens / 2)
    );
  }

  /** Reserves until the allowance is no longer low (calls charged meanwhile are covered too) or the ledger is empty. */
  private async reserve(): Promise<void> {
    do {
      const want = {
        requests: this.limits.requests === undefined || this.exhausted.requests ? 0 : this.chunk.requests + Math.max(0, -this.allowance.requests),
        tokens: this.limits.tokens === undefined || this.exhausted.tokens ? 0 : this.chunk.tokens + Math.max(0, -this.allowance.tokens),
      };
      const got = await this.ledger.takeRate(this.key, want, this.limits, FOREVER_MS);
      this.allowance.requests += got.requests;
      this.allowance.tokens += got.tokens;
      if (got.requests < want.requests) this.exhausted.requests = true;
      if (got.tokens < want.tokens) this.exhausted.tokens = true;
    } while (this.low());
  }
}
