/**
 * Token prices and run budgets. Prices are USD per million tokens, looked up by model id (exact,
 * then the longest matching prefix). The built-in list prices apply to the providers' own APIs
 * only; any other endpoint (a self-hosted server, an in-process model) has only the prices the user
 * gives (`--prices`). A model without a price is *unpriced*: its calls are counted and shown as
 * such, never as free, and a cost budget refuses to start on it (see `requirePrices`).
 */
import { ConfigError } from "../../base/errors/errors.ts";
import { readJsonFile } from "../../io/json-file.ts";
import type { GenerateRequest, LanguageModel, LogLikelihoodRequest, Usage } from "../../models/language-model.ts";

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

  /**
   * `--prices`: `{"model-id": {"input": 0.15, "output": 0.6}, ...}` over the defaults, as JSON text
   * (it starts with `{`) or in a file.
   */
  static fromSetting(value: string | undefined): PriceTable {
    if (value === undefined) return new PriceTable();
    const inline = value.trimStart().startsWith("{");
    const file = inline ? undefined : value;
    const parsed = inline
      ? parseInlinePrices(value)
      : readJsonFile(value, { what: "--prices file", field: "prices", hint: PRICES_HINT, as: ConfigError });
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new ConfigError("--prices must be a JSON object of model ids", { file, field: "prices", hint: PRICES_HINT });
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

  /** A price file (as `fromSetting`; kept for library callers). */
  static fromFile(file: string | undefined): PriceTable {
    return PriceTable.fromSetting(file);
  }

  /** The price of a model on an endpoint; `undefined` when nobody priced it there. */
  priceOf(modelId: string, endpointId: string): Price | undefined {
    if (!isHostedEndpoint(endpointId)) return this.userPrices.get(modelId);
    const exact = this.prices.get(modelId);
    if (exact) return exact;
    const prefix = [...this.prices.keys()].filter((k) => modelId.startsWith(k)).sort((a, b) => b.length - a.length)[0];
    return prefix === undefined ? undefined : this.prices.get(prefix);
  }

  cost(modelId: string, endpointId: string, usage: Usage): number | undefined {
    const price = this.priceOf(modelId, endpointId);
    return price && costAt(price, usage);
  }
}

/** What `usage` costs at `price`. */
export function costAt(price: Price, usage: Usage): number {
  return (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
}

function parseInlinePrices(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`--prices (JSON text) is not valid JSON: ${(error as Error).message}`, {
      field: "prices",
      cause: error,
      hint: PRICES_HINT,
    });
  }
}

const PRICES_HINT = `give prices in USD per million tokens: --prices '{"<model id>": {"input": 0.5, "output": 1.5}}' (or a JSON file of the same)`;

/** The providers' own APIs, where the built-in list prices apply. */
export function isHostedEndpoint(endpointId: string): boolean {
  return /api\.openai\.com|api\.anthropic\.com|^anthropic:|openai\.azure\.com|openrouter\.ai|api\.together|api\.groq|api\.mistral/.test(
    endpointId,
  );
}

export interface Budget {
  maxCostUsd?: number;
  maxTokens?: number;
}

/**
 * A cost budget can only stop a run whose calls have a price: with `--max-cost`, every model of the
 * run must have one (an unpriced model would spend without limit while the run reads $0).
 */
export function requirePrices(budget: Budget, prices: PriceTable, models: readonly LanguageModel[]): void {
  if (budget.maxCostUsd === undefined) return;
  const unpriced = [...new Set(models.filter((model) => !prices.priceOf(model.modelId, model.id)).map((model) => model.modelId))];
  if (unpriced.length === 0) return;
  throw new ConfigError(
    `--max-cost needs a price for ${unpriced.map((id) => `"${id}"`).join(" and ")}, and spri has none for it on its endpoint`,
    {
      field: "maxCost",
      hint: PRICES_HINT,
    },
  );
}

/** Chat-template tokens a message may add around its text (role markers, separators). */
const TEMPLATE_TOKENS_PER_MESSAGE = 16;

/**
 * The most one call may cost at `price`: its prompt with every UTF-8 byte a token (no tokenizer
 * makes more) plus the template's tokens, and all the `maxTokens` it may write. A call without
 * `maxTokens` has no worst case: `Infinity`.
 */
export function worstCaseCost(request: GenerateRequest, price: Price): number {
  const maxTokens = request.sampling?.maxTokens;
  if (maxTokens === undefined) return Number.POSITIVE_INFINITY;
  let promptTokens = 0;
  for (const message of request.messages) promptTokens += Buffer.byteLength(message.content, "utf8") + TEMPLATE_TOKENS_PER_MESSAGE;
  return (promptTokens * price.input + maxTokens * price.output) / 1_000_000;
}

/** A log-likelihood call's worst case: every byte of every prompt (context + continuation) a token; nothing is written. */
export function worstCaseLogLikelihoodCost(request: LogLikelihoodRequest, price: Price): number {
  const context = Buffer.byteLength(request.context, "utf8");
  let promptTokens = 0;
  for (const text of request.continuations) promptTokens += context + Buffer.byteLength(text, "utf8");
  return (promptTokens * price.input) / 1_000_000;
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

/**
 * What was paid, as people read it: `$0.0123`; `unpriced` when no paid call had a price (never
 * `$0`, which would claim they were free); `≥ $0.0123` when some had one and some did not.
 */
export function formatCost(spend: Spend): string {
  const dollars = `$${spend.costUsd.toFixed(4)}`;
  if (spend.unpricedCalls === 0) return dollars;
  const priced = spend.calls - spend.cacheHits - spend.unpricedCalls;
  return priced > 0 ? `≥ ${dollars}` : "unpriced";
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
