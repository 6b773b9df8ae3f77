/**
 * What a fine-tuning job costs: trained tokens times the provider's training price (USD per million
 * trained tokens, epochs included). List prices apply on the provider's own API only; elsewhere only
 * the price the user gives (`--training-price`), and without one the cost is unknown, never zero.
 */
import { isHostedEndpoint } from "./cost.ts";

/** OpenAI's published training prices, USD per million trained tokens (longest prefix wins). */
export const TRAINING_PRICES: Readonly<Record<string, number>> = Object.freeze({
  "gpt-4o-mini": 3,
  "gpt-4o": 25,
  "gpt-4.1-nano": 1.5,
  "gpt-4.1-mini": 5,
  "gpt-4.1": 25,
});

export function trainingPrice(model: string, endpoint: string, userPrice?: number): number | undefined {
  if (userPrice !== undefined) return userPrice;
  if (!isHostedEndpoint(endpoint)) return undefined;
  const prefix = Object.keys(TRAINING_PRICES)
    .filter((key) => model.startsWith(key))
    .sort((a, b) => b.length - a.length)[0];
  return prefix === undefined ? undefined : TRAINING_PRICES[prefix];
}

export function trainingCost(trainedTokens: number | undefined, price: number | undefined): number | undefined {
  return trainedTokens === undefined || price === undefined ? undefined : (trainedTokens / 1e6) * price;
}
