/**
 * Evaluation reports in the viewer: the report kept with a run (runner/eval-report.ts) and its
 * per-case judgements, read from the run's finished items page by page and cut to the columns
 * each kind of report is about.
 */
import type { EvalKind } from "../../runtime/runner/eval-report.ts";
import type { ItemState, RunStore } from "../../runtime/store/run-store.ts";
import type { EvalCaseValue, EvalCasesResponse } from "./api-types.ts";

interface Column {
  label: string;
  /** The field of a judged record that holds it. */
  field: string;
}

const col = (label: string, field = label): Column => ({ label, field });

/** The fields each kind's judged records carry (the CLI and the algorithms write them). */
const CASE_COLUMNS: Readonly<Record<EvalKind, readonly Column[]>> = {
  reappraisal: [
    col("method"),
    col("case", "pair"),
    col("alignment", "eval_alignment"),
    col("empathy", "eval_empathy"),
    col("harmful", "eval_harmful"),
    col("factuality", "eval_factuality"),
  ],
  "win-rate": [col("question"), col("preference", "pairwise_preference_b")],
  ifeval: [col("question"), col("preference", "pairwise_preference_b")],
  "mt-bench": [col("category"), col("turn 1", "mt_bench_turn_1_score"), col("turn 2", "mt_bench_turn_2_score")],
  truthfulqa: [col("question"), col("MC1", "mc1"), col("MC2", "mc2")],
  correlate: [col("group"), col("judge"), col("human")],
};

export async function evalCases(
  store: RunStore,
  runId: string,
  kind: EvalKind,
  page: { limit: number; offset: number },
): Promise<EvalCasesResponse> {
  const columns = CASE_COLUMNS[kind];
  const [items, counts] = await Promise.all([
    store.listItems(runId, { status: "done", limit: page.limit, offset: page.offset }),
    store.itemCounts(runId),
  ]);
  return {
    runId,
    kind,
    columns: columns.map((c) => c.label),
    rows: items.map((item) => ({ itemId: item.itemId, values: columns.map((c) => cellOf(item, c.field)) })),
    total: counts.done,
    limit: page.limit,
    offset: page.offset,
  };
}

/** Numbers and text as they are; anything else (objects, lists) as its JSON; absent is null. */
function cellOf(item: ItemState, field: string): EvalCaseValue {
  const value = item.record?.[field];
  if (value === undefined || value === null) return null;
  if (typeof value === "number" || typeof value === "string") return value;
  return JSON.stringify(value);
}
