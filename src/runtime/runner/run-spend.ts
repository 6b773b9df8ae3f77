/**
 * A run's budget (`--max-cost`, `--max-tokens`) shared by every process that works the run: the
 * budget belongs to the run, not to one command, so N workers on one API key stop together, and a
 * resumed run (after Ctrl-C, a crash or a kill -9) goes on from what the run spent, never from zero.
 *
 * The ledger in the run store (the same `RateLedger` that keeps provider limits, as one window that
 * never ends) holds what the run's processes reserved. Each process reserves allowances from it and
 * spends them locally:
 * - before a call, `admit` holds the call's worst case (its prompt and every token it may write, at
 *   its price) out of the allowance, so the calls in flight can never together take the run past its
 *   budget. When the run cannot pay for a call, the process waits while its own calls in flight may
 *   still free what they hold, and then refuses it (`BudgetError`): the budget is spent.
 * - when the call ends, `finish` swaps the hold for what the call really cost.
 * A process gives back what it reserved and did not use when it stops, except after a refusal: then
 * the rest stays taken, so every other process (and a `spri run --no-work`) reads the run as spent.
 * A killed process gives back nothing, so its reservation, its calls in flight included, counts as
 * spent: a run may stop a little early, never late.
 *
 * The token budget is counted after the calls (a call starts while any token is left), as providers
 * report them.
 */
import { BudgetError } from "../../base/errors/errors.ts";
import type { RateLedger } from "../store/work-queue.ts";
import type { Budget } from "./cost.ts";

/** One window for the whole life of a run. */
const FOREVER_MS = 100 * 365 * 24 * 3600 * 1000;
/** Allowances are at least this share of the budget. */
const SHARE = 1 / 50;
/** The ledger keeps money in micro-USD (integers). */
const MICRO = 1_000_000;

/** What a call may cost (held before it) or did cost (charged after it). */
export interface CallCharge {
  costUsd: number;
  tokens: number;
}

/** Amounts in the ledger's units: `cost` in micro-USD. */
interface Amount {
  cost: number;
  tokens: number;
}

const ZERO: Amount = Object.freeze({ cost: 0, tokens: 0 });

/** Micro-USD, rounded up for what may be spent ($0.3 is 300000.00000000006 µ$ in floating point, not 300001). */
function microUp(usd: number): number {
  return Math.ceil(Math.round(usd * MICRO * 1000) / 1000);
}

export class RunSpend {
  private readonly ledger: RateLedger;
  private readonly key: string;
  private readonly budget: Budget;
  /** The ledger's limits; `requests` is the cost (the ledger's two counters are named for rate limits). */
  private readonly limits: { requests?: number; tokens?: number };
  private readonly chunk: Amount;
  /** Reserved from the ledger and not yet spent (holds of calls in flight included); negative while a call cost more than was reserved. */
  private allowance: Amount = { ...ZERO };
  /** Held for the calls in flight. */
  private held: Amount = { ...ZERO };
  private inFlight = 0;
  /** The ledger had no more to give. */
  private exhausted = { cost: false, tokens: false };
  /** Spent by this process (for the messages). */
  private spent: Amount = { ...ZERO };
  /** Why this process refused a call; once set, it refuses every call. */
  private refused: BudgetError | undefined;
  private reserving: Promise<void> | undefined;
  /** `admit` calls waiting for a call in flight to finish. */
  private waiting: (() => void)[] = [];

  constructor(ledger: RateLedger, runId: string, budget: Budget) {
    this.ledger = ledger;
    this.key = `budget:${runId}`;
    this.budget = budget;
    this.limits = {
      requests: budget.maxCostUsd === undefined ? undefined : Math.round(budget.maxCostUsd * MICRO),
      tokens: budget.maxTokens,
    };
    this.chunk = {
      cost: Math.max(1, Math.ceil((this.limits.requests ?? 0) * SHARE)),
      tokens: Math.max(1, Math.ceil((this.limits.tokens ?? 0) * SHARE)),
    };
  }

  /** Whether there is a budget to keep. */
  get active(): boolean {
    return this.limits.requests !== undefined || this.limits.tokens !== undefined;
  }

  /** Takes the first allowance (call before the first call is made). */
  async start(): Promise<void> {
    if (this.active) await this.reserve(ZERO);
  }

  /**
   * Holds `worst` for one call of `model`, once the run's budget can pay for it: returns the hold,
   * for `finish`. Throws `BudgetError` when it cannot (nothing of this process is in flight that
   * could free enough, and the ledger has nothing left).
   */
  async admit(worst: CallCharge, model = "the model"): Promise<CallCharge> {
    const need: Amount = {
      cost: this.limits.requests === undefined ? 0 : microUp(worst.costUsd),
      tokens: this.limits.tokens === undefined ? 0 : 1,
    };
    let askedAgain = false;
    for (;;) {
      if (this.refused) throw this.refused;
      if (!Number.isFinite(need.cost)) throw this.refuse({ cost: need.cost, tokens: 0 }, worst, model);
      const short = this.shortOf(need);
      if (short.cost <= 0 && short.tokens <= 0) {
        this.held.cost += need.cost;
        this.held.tokens += need.tokens;
        this.inFlight++;
        return { costUsd: need.cost / MICRO, tokens: need.tokens };
      }
      if ((short.cost > 0 && !this.exhausted.cost) || (short.tokens > 0 && !this.exhausted.tokens)) {
        this.reserving ??= this.reserve(short).finally(() => (this.reserving = undefined));
        await this.reserving;
      } else if (this.inFlight > 0) {
        await new Promise<void>((resolve) => this.waiting.push(resolve));
      } else if (!askedAgain) {
        // Before refusing, the ledger once more: another process may have given back what it did not use.
        askedAgain = true;
        this.exhausted = { cost: false, tokens: false };
      } else {
        throw this.refuse(short, worst, model);
      }
    }
  }

  /** A call admitted with `hold` ended; it cost `actual` (nothing, when it failed). */
  finish(hold: CallCharge, actual: CallCharge): void {
    this.held.cost -= Math.round(hold.costUsd * MICRO);
    this.held.tokens -= hold.tokens;
    this.inFlight--;
    this.charge(actual.costUsd, actual.tokens);
    const waiting = this.waiting;
    this.waiting = [];
    for (const wake of waiting) wake();
  }

  /**
   * Charges a call made without `admit` (batch rounds are paid when their answers come); returns why
   * the run's budget is spent, or undefined while there is room.
   */
  charge(costUsd: number, tokens: number): string | undefined {
    if (!this.active) return undefined;
    const cost = this.limits.requests === undefined ? 0 : Math.round(costUsd * MICRO);
    const used = this.limits.tokens === undefined ? 0 : tokens;
    this.spent.cost += cost;
    this.spent.tokens += used;
    this.allowance.cost -= cost;
    this.allowance.tokens -= used;
    if (this.low()) this.reserving ??= this.reserve(ZERO).finally(() => (this.reserving = undefined));
    return this.reason();
  }

  /**
   * Why the budget is spent (a call was refused, or nothing is left in the ledger nor here), or
   * undefined. Not while calls are in flight: what they hold may come back.
   */
  reason(): string | undefined {
    if (this.refused) return this.refused.message;
    if (this.limits.requests !== undefined && this.exhausted.cost && this.inFlight === 0 && this.allowance.cost <= 0)
      return this.costSpent();
    if (this.limits.tokens !== undefined && this.exhausted.tokens && this.allowance.tokens - this.held.tokens <= 0) {
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
    if (got.requests > 0 || got.tokens > 0)
      await this.ledger.takeRate(this.key, { requests: -got.requests, tokens: -got.tokens }, this.limits, FOREVER_MS);
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
    const settle = { requests: -(this.allowance.cost - this.held.cost), tokens: -(this.allowance.tokens - this.held.tokens) };
    if (settle.requests === 0 && settle.tokens === 0) return;
    await this.ledger.takeRate(this.key, settle, this.limits, FOREVER_MS);
    this.allowance = { ...this.held };
  }

  /** What `need` lacks in this process's allowance, beyond the holds of the calls in flight. */
  private shortOf(need: Amount): Amount {
    return { cost: need.cost - (this.allowance.cost - this.held.cost), tokens: need.tokens - (this.allowance.tokens - this.held.tokens) };
  }

  private low(): boolean {
    return (
      (this.limits.requests !== undefined && !this.exhausted.cost && this.allowance.cost < this.chunk.cost / 2) ||
      (this.limits.tokens !== undefined && !this.exhausted.tokens && this.allowance.tokens < this.chunk.tokens / 2)
    );
  }

  /** Reserves an allowance: at least a chunk, and at least `short` (what a call lacks, or a deficit of calls charged beyond it). */
  private async reserve(short: Amount): Promise<void> {
    const deficit = { cost: Math.max(0, -this.allowance.cost), tokens: Math.max(0, -this.allowance.tokens) };
    const want = {
      requests: this.limits.requests === undefined || this.exhausted.cost ? 0 : Math.max(this.chunk.cost, short.cost) + deficit.cost,
      tokens: this.limits.tokens === undefined || this.exhausted.tokens ? 0 : Math.max(this.chunk.tokens, short.tokens) + deficit.tokens,
    };
    if (want.requests === 0 && want.tokens === 0) return;
    const got = await this.ledger.takeRate(this.key, want, this.limits, FOREVER_MS);
    this.allowance.cost += got.requests;
    this.allowance.tokens += got.tokens;
    if (got.requests < want.requests) this.exhausted.cost = true;
    if (got.tokens < want.tokens) this.exhausted.tokens = true;
  }

  /** Refuses for good. The cost allowance left stays taken, so the ledger reads spent for every process. */
  private refuse(short: Amount, worst: CallCharge, model: string): BudgetError {
    if (short.cost > 0) {
      const left = Math.max(0, this.allowance.cost - this.held.cost) / MICRO;
      const upTo = Number.isFinite(worst.costUsd) ? `may cost up to $${worst.costUsd.toFixed(4)}` : "has no upper cost (no max-tokens cap)";
      this.refused = new BudgetError(`${this.costSpent()}: the next call to ${model} ${upTo}, and $${left.toFixed(4)} is left`, {
        field: "maxCost",
        hint: "raise --max-cost and re-run the same command to go on (a call's worst case is its prompt and all the tokens it may write: --max-new-tokens lowers it)",
      });
      this.allowance.cost = this.held.cost;
    } else {
      this.refused = new BudgetError(`the token budget of ${this.budget.maxTokens} is spent (this process: ${this.spent.tokens} tokens)`, {
        field: "maxTokens",
        hint: "raise --max-tokens and re-run the same command to go on",
      });
    }
    return this.refused;
  }

  private costSpent(): string {
    return `the cost budget of $${this.budget.maxCostUsd} is spent (this process: $${(this.spent.cost / MICRO).toFixed(4)})`;
  }
}
