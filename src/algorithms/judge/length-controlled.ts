/**
 * The length-controlled win rate of AlpacaEval 2.0 (Dubois et al. 2024): fit a logistic GLM of the
 * judge's preference on the length difference, then predict every preference as if both outputs had
 * the same length, and average.
 *
 * Terms, named as alpaca_eval's `length_controlled_v1` formula names them:
 * - `tanh(std_delta_len)`: tanh of (baseline length − model length) / their standard deviation
 *   (sample, n−1), lengths in Unicode code points as Python's `len`; set to 0 for the prediction;
 * - `instruction_difficulty`: a per-instruction number, used when every pair has one (alpaca_eval
 *   takes it from its precomputed `instruction_difficulty.csv`);
 * - `model`: the model's own term (alpaca_eval's `not_gamed_baseline`, a column of ones).
 * Left out: alpaca_eval also fits rows of two "gamed" baselines (`df_gamed.csv`, weight 0.2) and picks
 * an L1 penalty by 5-fold cross-validation; this fit is unpenalised maximum likelihood over the given
 * pairs only (logistic-fit.ts), so the value can differ a little from the leaderboard's.
 */
import { fitLogistic, logistic } from "./logistic-fit.ts";

export interface LengthCase {
  /** The model's preference in [0, 1]: 1 the model's output won, 0 the baseline's, 0.5 a tie. */
  preference: number;
  modelLength: number;
  baselineLength: number;
  difficulty?: number;
}

export interface LengthControlled {
  /** Percent. */
  lcWinRate: number;
  terms: string[];
  weights: Record<string, number>;
}

export const LENGTH_TERM = "tanh(std_delta_len)";
export const DIFFICULTY_TERM = "instruction_difficulty";
export const MODEL_TERM = "model";

/** Null for fewer than two pairs: no regression to speak of. */
export function lengthControlledWinRate(cases: readonly LengthCase[]): LengthControlled | null {
  if (cases.length < 2) return null;
  const deltas = cases.map((c) => c.baselineLength - c.modelLength);
  const spread = sampleStandardDeviation(deltas);
  const withLength = spread > 0;
  const withDifficulty = cases.every((c) => typeof c.difficulty === "number" && Number.isFinite(c.difficulty));
  const terms = [...(withLength ? [LENGTH_TERM] : []), ...(withDifficulty ? [DIFFICULTY_TERM] : []), MODEL_TERM];
  const row = (c: LengthCase, delta: number) => [
    ...(withLength ? [Math.tanh(delta / spread)] : []),
    ...(withDifficulty ? [c.difficulty as number] : []),
    1,
  ];
  const fit = fitLogistic(
    cases.map((c, i) => row(c, deltas[i]!)),
    cases.map((c) => c.preference),
  );
  const predicted = cases.map((c) => logistic(row(c, 0).reduce((sum, x, j) => sum + x * fit.coefficients[j]!, 0)));
  return {
    lcWinRate: (predicted.reduce((a, b) => a + b, 0) / predicted.length) * 100,
    terms,
    weights: Object.fromEntries(terms.map((term, j) => [term, fit.coefficients[j]!])),
  };
}

function sampleStandardDeviation(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance);
}

/** Length as Python's `len` counts it: Unicode code points, not UTF-16 units. */
export function textLength(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
