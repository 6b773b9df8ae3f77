/**
 * The report of a reappraisal evaluation (the paper's Table 1), whoever judged it: per method and
 * criterion the mean over the scored cases (rounded to 2 decimals, as the paper prints it), how
 * many cases it averages and how many were unscored; paired t-tests of each method against each
 * named baseline, and per criterion the paper's marks: `*` when p < 0.05 against the first
 * baseline, `†` against the second.
 *
 * Cases pair on post id and appraisal dimension, as the paper's notebook aligns them. A test is
 * undefined (p null, with the reason) when a case lacks a score in either method or the two methods
 * were not judged on the same cases, as SciPy's NaN is in the paper; an undefined test marks nothing.
 */
import { InputError } from "../../base/errors/errors.ts";
import { pyRound } from "../../base/util/python.ts";
import { pairedTTest } from "./paired-t-test.ts";

export type ReportCriterion = "alignment" | "empathy" | "harmful" | "factuality";
export const REPORT_CRITERIA: readonly ReportCriterion[] = ["alignment", "empathy", "harmful", "factuality"];

/** One method's scores on one criterion, by case (see pairKey); null is unscored. */
export type CaseScores = ReadonlyMap<string, number | null>;
export type MethodScores = Readonly<Record<ReportCriterion, CaseScores>>;

export interface CriterionSummary {
  mean: number | null;
  n: number;
  unscored: number;
  markers: string;
}

export type UndefinedTestReason = "unscored" | "unpaired" | "no-difference" | "too-few";

export interface SignificanceTest {
  method: string;
  baseline: string;
  criterion: ReportCriterion;
  /** Paired cases. */
  n: number;
  /** t of method − baseline (null when undefined or infinite), its degrees of freedom, the two-sided p. */
  t: number | null;
  df: number | null;
  p: number | null;
  reason?: UndefinedTestReason;
}

export interface ReappraisalReport {
  methods: Record<string, Record<ReportCriterion, CriterionSummary>>;
  tests: SignificanceTest[];
}

/** The paper marks two baselines; a third would have no mark to show. */
export const BASELINE_MARKERS = ["*", "†"] as const;
const SIGNIFICANCE_LEVEL = 0.05;

/** The key a case pairs on across methods: its post id and appraisal dimension. */
export function pairKey(postId: unknown, dimension: unknown): string {
  return JSON.stringify([postId ?? null, dimension ?? null]);
}

export function reappraisalReport(
  methods: readonly { name: string; scores: MethodScores }[],
  baselines: readonly string[],
): ReappraisalReport {
  checkBaselines(
    methods.map((m) => m.name),
    baselines,
  );
  const byName = new Map(methods.map((m) => [m.name, m.scores]));
  const tests: SignificanceTest[] = [];
  for (const { name, scores } of methods) {
    for (const baseline of baselines.filter((b) => b !== name)) {
      for (const criterion of REPORT_CRITERIA) {
        tests.push({ method: name, baseline, criterion, ...significance(scores[criterion], byName.get(baseline)![criterion]) });
      }
    }
  }
  const report: ReappraisalReport = { methods: {}, tests };
  for (const { name, scores } of methods) {
    const summaries = {} as Record<ReportCriterion, CriterionSummary>;
    for (const criterion of REPORT_CRITERIA) {
      summaries[criterion] = { ...meanOf(scores[criterion]), markers: markersOf(tests, name, criterion, baselines) };
    }
    report.methods[name] = summaries;
  }
  return report;
}

/** Every baseline is one of the methods, and there are at most two. */
export function checkBaselines(names: readonly string[], baselines: readonly string[]): void {
  for (const baseline of baselines) {
    if (!names.includes(baseline)) {
      throw new InputError(`--baseline ${baseline} is not one of the methods (${names.join(", ")})`, {
        field: "baseline",
        hint: "name a method given with --method",
      });
    }
  }
  if (baselines.length > BASELINE_MARKERS.length) {
    throw new InputError(`at most two --baseline: the paper marks ${BASELINE_MARKERS.join(" and ")}`, { field: "baseline" });
  }
}

/**
 * The scores in case-key order: sums (means, t statistics) then do not depend on the order the cases
 * were judged in, so a fresh evaluation, whose records come in finish order, reports the same bits
 * as re-scoring the same judgements from files.
 */
function inKeyOrder(scores: CaseScores): [string, number | null][] {
  return [...scores].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function meanOf(scores: CaseScores): Omit<CriterionSummary, "markers"> {
  const values = inKeyOrder(scores)
    .map(([, v]) => v)
    .filter((v): v is number => v !== null);
  const mean = values.length === 0 ? null : pyRound(values.reduce((a, b) => a + b, 0) / values.length, 2);
  return { mean, n: values.length, unscored: scores.size - values.length };
}

function significance(method: CaseScores, baseline: CaseScores): Omit<SignificanceTest, "method" | "baseline" | "criterion"> {
  const undefinedTest = (reason: UndefinedTestReason) => ({ n: method.size, t: null, df: null, p: null, reason });
  if (method.size !== baseline.size || [...method.keys()].some((key) => !baseline.has(key))) return undefinedTest("unpaired");
  const pairs: [number, number][] = [];
  for (const [key, score] of inKeyOrder(method)) {
    const other = baseline.get(key) ?? null;
    if (score === null || other === null) return undefinedTest("unscored");
    pairs.push([score, other]);
  }
  const { t, df, p } = pairedTTest(pairs);
  if (pairs.length < 2) return undefinedTest("too-few");
  if (Number.isNaN(p)) return undefinedTest("no-difference");
  return { n: pairs.length, t: Number.isFinite(t) ? t : null, df, p };
}

function markersOf(tests: readonly SignificanceTest[], method: string, criterion: ReportCriterion, baselines: readonly string[]): string {
  return baselines
    .map((baseline, i) => {
      const test = tests.find((t) => t.method === method && t.baseline === baseline && t.criterion === criterion);
      return test?.p != null && test.p < SIGNIFICANCE_LEVEL ? BASELINE_MARKERS[i] : "";
    })
    .join("");
}

/**
 * The scores in judged records (`method`, `pair`, `eval_<criterion>`; reappraisal-run.ts writes
 * them), per method in the order given. A record without `pair` pairs on its id.
 */
export function recordScores(
  rows: readonly Record<string, unknown>[],
  methods: readonly string[],
): { name: string; scores: MethodScores }[] {
  return methods.map((name) => {
    const mine = rows.filter((row) => row.method === name);
    const scores = {} as Record<ReportCriterion, CaseScores>;
    for (const criterion of REPORT_CRITERIA) {
      scores[criterion] = new Map(
        mine.map((row) => {
          const value = row[`eval_${criterion}`];
          return [typeof row.pair === "string" ? row.pair : String(row.id), typeof value === "number" ? value : null];
        }),
      );
    }
    return { name, scores };
  });
}
