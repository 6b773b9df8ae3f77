/**
 * A run's spend across every process that works it, for its budget (`--max-cost`, `--max-tokens`):
 * the budget belongs to the run, not to one command, so N workers on one API key stop together and a
 * resumed run does not start again from zero. What others have committed comes from the store's run
 * usage (refreshed by `refresh()`, e.g. on each heartbeat); this process's own calls count at once.
 */
import type { RunStore, StoredCall } from "../store/run-store.ts";
import { type Budget, budgetExceeded, type Spend } from "./cost.ts";

export class RunSpend {
  private readonly store: RunStore;
  private readonly runId: string;
  /** Committed to the store by anyone but this process (and by this process before it started). */
  private others = { costUsd: 0, tokens: 0 };
  /** What this process has committed since it started (part of the store's usage). */
  private committedByMe = { costUsd: 0, tokens: 0 };

  constructor(store: RunStore, runId: string) {
    this.store = store;
    this.runId = runId;
  }

  /** Reads the store's usage of the run again. */
  async refresh(): Promise<void> {
    const usage = await this.store.runUsage(this.runId);
    this.others = {
      costUsd: Math.max(0, (usage.costUsd ?? 0) - this.committedByMe.costUsd),
      tokens: Math.max(0, usage.inputTokens + usage.outputTokens - this.committedByMe.tokens),
    };
  }

  /** Calls of this process that reached the store (so the next refresh sees them there). */
  committed(calls: readonly StoredCall[]): void {
    for (const call of calls) {
      if (call.cacheHit) continue;
      this.committedByMe.costUsd += call.costUsd ?? 0;
      this.committedByMe.tokens += call.usage.inputTokens + call.usage.outputTokens;
    }
  }

  /** Why the run's budget is spent, counting this process's `mine`; undefined while there is room. */
  exceeded(budget: Budget, mine: Spend): string | undefined {
    if (budget.maxCostUsd === undefined && budget.maxTokens === undefined) return undefined;
    return budgetExceeded(budget, { ...mine, costUsd: mine.costUsd + this.others.costUsd, inputTokens: mine.inputTokens + this.others.tokens });
  }
}
