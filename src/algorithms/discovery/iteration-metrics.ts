/**
 * Metrics per iteration and the report across iterations (`spri discover iterate report`):
 * - from the iteration's mining (iterations.ts): accepted examples, constitution size, and the
 *   constitution's diversity: the mean pairwise Rouge-L distance (1 − F1) between its principles
 *   (0: all alike, 1: no shared word sequence at all);
 * - from `iterate eval` on held-out prompts: mean Rouge-L F1 of the model's answers against the
 *   gold, and its win rates (judge/win-rate-report.ts: ties half, standard error, length-controlled
 *   when it can be fitted) against the previous iteration's model and the base model.
 */
import { type WinRateReport, winRateReport } from "../judge/win-rate-report.ts";
import { roundScore } from "../../base/util/round-score.ts";
import { textTable } from "../../base/util/text-table.ts";
import type { Comparison } from "./iteration-eval.ts";
import type { IterationState } from "./iterations.ts";
import { rougeL } from "./rouge-l.ts";

/** Mean pairwise 1 − Rouge-L F1 between the texts; null for fewer than two. */
export function constitutionDiversity(texts: readonly string[]): number | null {
  if (texts.length < 2) return null;
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      sum += 1 - rougeL(texts[i]!, texts[j]!).fmeasure;
      pairs++;
    }
  }
  return roundScore(sum / pairs);
}

export interface IterationEvalSummary {
  /** Held-out items evaluated. */
  n: number;
  /** Mean Rouge-L F1 against the gold over the items that have one; null when none has. */
  rougeL: number | null;
  rougeLItems: number;
  vsPrevious: WinRateReport | null;
  vsBase: WinRateReport | null;
  /** The held-out file, as given (set by the runner). */
  heldout?: string;
}

function winRates(records: readonly Record<string, unknown>[], field: string): WinRateReport | null {
  const pairs = records.flatMap((r) => {
    const c = r[field] as Comparison | null | undefined;
    if (!c || typeof c !== "object") return [];
    return [{ preference: c.preference, modelOutput: String(r.eval_answer ?? ""), baselineOutput: String(c.baseline ?? "") }];
  });
  return pairs.length === 0 ? null : winRateReport(pairs);
}

/** The summary of an iteration's evaluation records. */
export function summariseIterationEval(records: readonly Record<string, unknown>[]): IterationEvalSummary {
  const f1s = records.flatMap((r) => {
    const f1 = (r.eval_rougeL as { f1?: unknown } | null | undefined)?.f1;
    return typeof f1 === "number" ? [f1] : [];
  });
  return {
    n: records.length,
    rougeL: f1s.length === 0 ? null : roundScore(f1s.reduce((a, b) => a + b, 0) / f1s.length),
    rougeLItems: f1s.length,
    vsPrevious: winRates(records, "eval_vs_previous"),
    vsBase: winRates(records, "eval_vs_base"),
  };
}

export interface IterationReportRow {
  iter: number;
  model: string | null;
  accepted: number | null;
  acceptRate: number | null;
  constitution: number | null;
  diversity: number | null;
  evalItems: number | null;
  rougeL: number | null;
  winRateVsPrevious: number | null;
  winRateVsBase: number | null;
}

export function iterationReportRows(state: IterationState): IterationReportRow[] {
  return state.iterations.map((e) => {
    const stats = e.stats;
    return {
      iter: e.iter,
      model: e.model?.baseModel ?? null,
      accepted: stats?.accepted ?? null,
      acceptRate: stats && stats.mined > 0 ? roundScore(stats.accepted / stats.mined) : null,
      constitution: stats?.constitutionSize ?? null,
      diversity: stats?.constitutionDiversity ?? null,
      evalItems: e.eval?.n ?? null,
      rougeL: e.eval?.rougeL ?? null,
      winRateVsPrevious: e.eval?.vsPrevious?.winRate ?? null,
      winRateVsBase: e.eval?.vsBase?.winRate ?? null,
    };
  });
}

/** The report as a text table, one line per iteration; "-" where a metric is not there yet. */
export function formatIterationReport(state: IterationState): string {
  const header = ["iter", "model", "accepted", "constitution", "diversity", "rougeL", "vs-previous", "vs-base"];
  const dash = (v: string | null) => v ?? "-";
  const fixed = (v: number | null, digits = 4) => (v === null ? null : v.toFixed(digits));
  const percent = (v: number | null) => (v === null ? null : `${v.toFixed(2)}%`);
  const rows = iterationReportRows(state).map((r) =>
    [
      String(r.iter),
      r.model,
      r.accepted === null ? null : `${r.accepted}${r.acceptRate === null ? "" : ` (${(r.acceptRate * 100).toFixed(1)}%)`}`,
      r.constitution === null ? null : String(r.constitution),
      fixed(r.diversity),
      fixed(r.rougeL),
      percent(r.winRateVsPrevious),
      percent(r.winRateVsBase),
    ].map(dash),
  );
  return `${textTable([header, ...rows]).lines.join("\n")}\n`;
}
