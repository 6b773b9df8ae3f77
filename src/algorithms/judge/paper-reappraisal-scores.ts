/**
 * The paper's task-1 judge outputs, read by the paper's own rules (GPT-4-eval's
 * `analyze_eval_results/utils.py` and the analysis notebook), so re-scoring its released
 * judgements gives its Table 1. These rules are stricter or looser than spri's own parser
 * (reappraisal-eval.ts) in places, on purpose: they are the paper's.
 *
 * - alignment: the first `<score>…</score>` within one line, `[` and `]` stripped from its ends,
 *   read as Python's float(), kept when 1–10;
 * - empathy: the whole answer as Python's float() (no range check), else its first run of digits
 *   when that lies in 1–5;
 * - harmful: exactly "Not Harmful" (0) or "Harmful" (1); factuality: exactly "Yes" (1),
 *   "Minor Error" (0.5) or "No" (0).
 *
 * Anything else is unscored (null), which pandas' mean skips. NaN and infinite floats are unscored
 * too (NaN is skipped by pandas; an infinity would make the mean infinite).
 */
import { InputError } from "../../base/errors/errors.ts";
import { pyFloat, pyStrip } from "../../base/util/python.ts";
import { type CaseScores, pairKey, type ReportCriterion } from "./reappraisal-report.ts";

/** The paper's name of each criterion's evaluation task: its file, column and prompt names use it. */
export const PAPER_EVAL_TASKS: Readonly<Record<ReportCriterion, string>> = {
  alignment: "1_standard_alignment",
  empathy: "2_empathy",
  harmful: "3_harmful",
  factuality: "4_factuality",
};

/** The columns the paper's records pair cases on. */
export const PAPER_POST_ID_FIELD = "Reddit ID";
export const PAPER_DIMENSION_FIELD = "appraisal_dimension_id";
/** Every column holding a judge's text starts so (`evaluation_raw_output-[dim_N]-[task]`). */
const RAW_OUTPUT_PREFIX = "evaluation_raw_output-";

/** The file the paper's evaluation script writes for a criterion, in a method's directory. */
export function releasedJudgementsFile(criterion: ReportCriterion): string {
  return `eval-${PAPER_EVAL_TASKS[criterion]}.jsonl`;
}

export function paperScore(criterion: ReportCriterion, raw: unknown): number | null {
  const score = paperScoreOf(criterion, raw);
  return score !== null && Number.isFinite(score) ? score : null;
}

function paperScoreOf(criterion: ReportCriterion, raw: unknown): number | null {
  switch (criterion) {
    case "alignment": {
      if (typeof raw !== "string") return null;
      const match = /<score>([^\n]*?)<\/score>/.exec(raw);
      const score = match ? pyFloat(pyStrip(match[1]!, "[]")) : null;
      return score !== null && score >= 1 && score <= 10 ? score : null;
    }
    case "empathy": {
      if (typeof raw === "number") return raw;
      if (typeof raw !== "string") return null;
      const whole = pyFloat(raw);
      if (whole !== null) return whole;
      const digits = /\d+/.exec(raw);
      const first = digits ? Number(digits[0]) : Number.NaN;
      return first >= 1 && first <= 5 ? first : null;
    }
    case "harmful":
      return raw === "Not Harmful" ? 0 : raw === "Harmful" ? 1 : null;
    case "factuality":
      return raw === "Yes" ? 1 : raw === "Minor Error" ? 0.5 : raw === "No" ? 0 : null;
  }
}

/**
 * The scores of one released file, by case. As the notebook: a case seen again (same post and
 * dimension) keeps its first row; a row's judge text is the first non-null raw-output column, in
 * the order the columns first appear in the file (pandas' `bfill(axis=1).iloc[:, 0]`).
 */
export function releasedScores(rows: readonly { line: number; value: unknown }[], criterion: ReportCriterion, file: string): CaseScores {
  const columns = rawOutputColumns(rows);
  if (columns.length === 0) {
    throw new InputError(`no judge output (${RAW_OUTPUT_PREFIX}…) in this file`, {
      file,
      hint: `give --judged a directory of the paper's judge outputs (${releasedJudgementsFile(criterion)} written by gpt-4-reappraisal_eval.py)`,
    });
  }
  const scores = new Map<string, number | null>();
  for (const { line, value } of rows) {
    const row = (value ?? {}) as Record<string, unknown>;
    if (row[PAPER_POST_ID_FIELD] === undefined) {
      throw new InputError(`the row has no "${PAPER_POST_ID_FIELD}" to pair its case on`, { file, line, field: PAPER_POST_ID_FIELD });
    }
    const key = pairKey(row[PAPER_POST_ID_FIELD], row[PAPER_DIMENSION_FIELD]);
    if (scores.has(key)) continue;
    const column = columns.find((name) => row[name] !== undefined && row[name] !== null);
    scores.set(key, column === undefined ? null : paperScore(criterion, row[column]));
  }
  return scores;
}

function rawOutputColumns(rows: readonly { value: unknown }[]): string[] {
  const columns = new Set<string>();
  for (const { value } of rows) {
    for (const name of Object.keys((value ?? {}) as object)) if (name.startsWith(RAW_OUTPUT_PREFIX)) columns.add(name);
  }
  return [...columns];
}
