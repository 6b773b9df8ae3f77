/**
 * Token prices and run budgets. Prices are USD per million tokens, looked up by model id (exact,
 * then the longest matching prefix). Self-hosted and local models cost nothing unless the user's
 * price file says otherwise; an unknown hosted model has an unknown cost, which a cost budget
 * cannot guard, so the runner warns about it.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../errors/errors.ts";
import type { Usage } from "../models/language-model.ts";

export interface Price {
  /** USD per million input tokens. */
  input: number;
  /** USD per million output tokens. */
  output: number;
}

/** List prices as published by the providers (standard tier, no batch or cache discounts). */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = Object.freeze({
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5": { input: 1.25, output: 10 },
  "claude-haiku-4-5": { input: 1, output: 5 },
  "claude-sonnet-4-5": { input: 3, output: 15 },
  "claude-opus-4-5": { input: 5, output: 25 },
});

export class PriceTable {
  private readonly prices: Map<string, Price>;
  /** Prices the user gave; the only ones applied to self-hosted endpoints. */
  private readonly userPrices: Map<string, Price>;

  constructor(userPrices: Record<string, Price> = {}) {
    this.userPrices = new Map(Object.entries(userPrices));
    this.prices = new Map([...Object.entries(DEFAULT_PRICES), ...this.userPrices]);
  }

  /** Reads `{"model-id": {"input": 0.15, "output": 0.6}, ...}` over the defaults. */
  static fromFile(file: string | undefined): PriceTable {
    if (file === undefined) return new PriceTable();
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, "utf8"));
    } catch (error) {
      throw new ConfigError(`cannot read the price file: ${(error as Error).message}`, { file, cause: error });
    }
    const user: Record<string, Price> = {};
    for (const [model, value] of Object.entries(parsed as Record<string, unknown>)) {
      const price = value as Partial<Price>;
      if (typeof price?.input !== "number" || typeof price.output !== "number") {
        throw new ConfigError(`price of "${model}" must be {"input": <USD per 1M>, "output": <USD per 1M>}`, { file, field: model });
      }
      user[model] = { input: price.input, output: price.output };
    }
    return new PriceTable(user);
  }

  /** The price of a model on an endpoint; `undefined` when unknown. */
  priceOf(modelId: string, endpointId: string): Price | undefined {
    if (!isHostedEndpoint(endpointId)) return this.userPrices.get(modelId) ?? { input: 0, output: 0 };
    const exact = this.prices.get(modelId);
    if (exact) return exact;
    const prefix = [...this.prices.keys()].filter((k) => modelId.startsWith(k)).sort((a, b) => b.length - a.length)[0];
    return prefix === undefined ? undefined : this.prices.get(prefix);
  }

  cost(modelId: string, endpointId: string, usage: Usage): number | undefined {
    const price = this.priceOf(modelId, endpointId);
    if (!price) return undefined;
    return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  }
}

/** Hosted APIs bill; anything else (localhost, a private server, in-process) is assumed free. */
function isHostedEndpoint(endpointId: string): boolean {
  return /api\.openai\.com|api\.anthropic\.com|^anthropic:|openai\.azure\.com|openrouter\.ai|api\.together|api\.groq|api\.mistral/.test(endpointId);
}

export interface Budget {
  maxCostUsd?: number;
  maxTokens?: number;
}

export interface Spend {
  /** Every call the items made: sent, answered from the cache, or cancelled before it went out. */
  calls: number;
  /** Calls that went to a model (answered by it, or failed after a request went out). */
  sent: number;
  cacheHits: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Calls whose cost could not be priced. */
  unpricedCalls: number;
}

export function emptySpend(): Spend {
  return { calls: 0, sent: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0 };
}

/**
 * Adds one finished call to `spend` and returns its cost: 0 for a cache hit or a call cancelled
 * before it was sent (nothing was paid), undefined when its model has no price (counted as unpriced). `factor` scales list prices (batch
 * APIs bill at half price).
 */
export function countCall(
  spend: Spend,
  call: { cacheHit: boolean; unsent?: boolean; model: string; endpoint: string; usage: { inputTokens: number; outputTokens: number } },
  prices: PriceTable,
  factor = 1,
): number | undefined {
  spend.calls++;
  if (call.cacheHit) {
    spend.cacheHits++;
    return 0;
  }
  if (call.unsent) return 0;
  spend.sent++;
  spend.inputTokens += call.usage.inputTokens;
  spend.outputTokens += call.usage.outputTokens;
  const listed = prices.cost(call.model, call.endpoint, call.usage);
  const cost = listed === undefined || factor === 1 ? listed : listed * factor;
  if (cost === undefined) spend.unpricedCalls++;
  else spend.costUsd += cost;
  return cost;
}

/** Why the budget is spent, or undefined while there is room. */
export function budgetExceeded(budget: Budget, spend: Spend): string | undefined {
  if (budget.maxCostUsd !== undefined && spend.costUsd >= budget.maxCostUsd) {
    return `the cost budget of $${budget.maxCostUsd} is spent ($${spend.costUsd.toFixed(4)})`;
  }
  const tokens = spend.inputTokens + spend.outputTokens;
  if (budget.maxTokens !== undefined && tokens >= budget.maxTokens) {
    return `the token budget of ${budget.maxTokens} is spent (${tokens} tokens)`;
  }
  return undefined;
}
