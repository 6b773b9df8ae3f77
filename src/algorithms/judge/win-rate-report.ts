/**
 * A model's win rate against reference outputs, as AlpacaEval reports it: the mean preference for
 * the model in percent (ties count half), its standard error, and, when both outputs' texts are
 * known, the length-controlled win rate (length-controlled.ts).
 *
 * AlpacaEval's annotations encode a preference as 1 (the baseline, `output_1`, wins), 2 (the model,
 * `output_2`, wins) or any value between (weighted annotators); 1.5 and, in older files, 0 are ties.
 * A value that is missing, NaN or outside [1, 2] is not a preference: alpaca_eval drops it, and so
 * do we, counting it as unscored.
 */
import { lengthControlledWinRate, textLength } from "./length-controlled.ts";
import { winRate } from "./pairwise.ts";

/** The model's preference in [0, 1] from an AlpacaEval `preference` value (number or numeric text). */
export function modelPreference(raw: unknown): number | null {
  const value = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  if (value === 0) return 0.5;
  if (!(value >= 1 && value <= 2)) return null;
  return value - 1;
}

export interface JudgedPair {
  /** The model's preference in [0, 1]; null when unscored. */
  preference: number | null;
  modelOutput?: string;
  baselineOutput?: string;
  /** alpaca_eval's per-instruction difficulty, when known. */
  difficulty?: number;
}

export interface WinRateReport {
  /** Percent, 2 decimals. */
  winRate: number;
  standardError: number;
  ci95: [number, number];
  n: number;
  wins: number;
  losses: number;
  ties: number;
  unscored: number;
  /** Present when every scored pair has both texts. */
  lcWinRate?: number;
  lengthControl?: { terms: string[]; weights: Record<string, number> };
  /** Mean length of the model's outputs (code points), truncated to an integer as alpaca_eval's avg_length is. */
  avgLength?: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function winRateReport(pairs: readonly JudgedPair[]): WinRateReport {
  const summary = winRate(pairs.map((p) => ({ preference: p.preference })));
  const scored = pairs.filter((p): p is JudgedPair & { preference: number } => p.preference !== null);
  const report: WinRateReport = {
    winRate: summary.winRateB,
    standardError: round2(standardErrorOfMean(scored.map((p) => p.preference)) * 100),
    ci95: summary.ci95,
    n: summary.n,
    wins: summary.winsB,
    losses: summary.winsA,
    ties: summary.ties,
    unscored: summary.unscored,
  };
  const withTexts = scored.every((p) => typeof p.modelOutput === "string" && typeof p.baselineOutput === "string");
  if (scored.length === 0 || !withTexts) return report;
  const cases = scored.map((p) => ({
    preference: p.preference,
    modelLength: textLength(p.modelOutput as string),
    baselineLength: textLength(p.baselineOutput as string),
    ...(p.difficulty === undefined ? {} : { difficulty: p.difficulty }),
  }));
  report.avgLength = Math.trunc(cases.reduce((sum, c) => sum + c.modelLength, 0) / cases.length);
  const lc = lengthControlledWinRate(cases);
  if (lc === null) return report;
  return { ...report, lcWinRate: round2(lc.lcWinRate), lengthControl: { terms: lc.terms, weights: lc.weights } };
}

function standardErrorOfMean(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}
