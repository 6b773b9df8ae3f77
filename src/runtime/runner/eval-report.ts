/**
 * Evaluation reports kept in the run store, so that `spri view` reads them where it reads the runs.
 *
 * A report of an evaluation that ran through the runner (fresh judgements, MT-Bench, TruthfulQA) is
 * a named artifact of its run, whose items are the per-case judgements. A report made without a
 * model (released judgements re-scored, `spri eval correlate`) gets a finished run of its own: its
 * items are the cases it scored, so the viewer shows them the same way.
 */
import type { CorrelationReport, ScoredGroup } from "../../algorithms/judge/correlate.ts";
import type { MtBenchSummary } from "../../algorithms/judge/mt-bench.ts";
import type { ReappraisalReport } from "../../algorithms/judge/reappraisal-report.ts";
import type { TruthfulQaSummary } from "../../algorithms/judge/truthfulqa.ts";
import type { WinRateReport } from "../../algorithms/judge/win-rate-report.ts";
import type { ItemRecord } from "../../io/records.ts";
import type { RunStore } from "../store/run-store.ts";
import { openStore } from "../store/open-store.ts";

export type EvalReport =
  | { kind: "reappraisal"; baselines: string[]; report: ReappraisalReport }
  | { kind: "win-rate"; report: WinRateReport }
  | { kind: "ifeval"; report: WinRateReport & { withoutInstructions: number } }
  | { kind: "mt-bench"; report: MtBenchSummary }
  | { kind: "truthfulqa"; report: TruthfulQaSummary }
  | { kind: "correlate"; report: CorrelationReport };

export type EvalKind = EvalReport["kind"];
export const EVAL_KINDS: readonly EvalKind[] = ["reappraisal", "win-rate", "ifeval", "mt-bench", "truthfulqa", "correlate"];

/** A report as stored: where its file copy went, when there is one. */
export type StoredEvalReport = EvalReport & { summaryFile?: string };

export const EVAL_REPORT_ARTIFACT = "eval-report";

/** One scored case of a report made without a run: its id and the record the viewer lists. */
export interface EvalCase {
  id: string;
  record: ItemRecord;
}

/** `spri eval correlate`'s cases: each group's used rows, the judge's score beside the human's. */
export function correlationCases(groups: readonly ScoredGroup[]): EvalCase[] {
  return groups.flatMap((g) =>
    g.human.map((human, i) => ({ id: `${g.name}/${i + 1}`, record: { group: g.name, judge: g.judge[i] ?? null, human } })),
  );
}

export function saveEvalReport(store: RunStore, runId: string, report: StoredEvalReport): Promise<void> {
  return store.putArtifact(runId, EVAL_REPORT_ARTIFACT, report);
}

/** The run's report, or undefined when it has none (or one this version does not know). */
export async function readEvalReport(store: RunStore, runId: string): Promise<StoredEvalReport | undefined> {
  const value = (await store.getArtifact(runId, EVAL_REPORT_ARTIFACT)) as Partial<StoredEvalReport> | undefined | null;
  if (value === undefined || value === null || typeof value !== "object") return undefined;
  if (!EVAL_KINDS.includes(value.kind as EvalKind) || typeof value.report !== "object" || value.report === null) return undefined;
  return value as StoredEvalReport;
}

export interface ReportRun {
  /** The run's task, e.g. `eval/reappraisal-judged`. */
  task: string;
  /** What was read: a file, or the directories of several methods. */
  inputPath: string;
  /** The command's own settings (no credential: none reaches a model-free report). */
  settings: Record<string, unknown>;
  report: StoredEvalReport;
  cases: readonly EvalCase[];
}

/** Records a model-free report as a finished run whose items are its cases; returns the run's id. */
export async function recordReportRun(store: RunStore, run: ReportRun): Promise<string> {
  const meta = await store.createRun({
    key: `report:${run.task}:${run.inputPath}`,
    task: run.task,
    status: "completed",
    settings: run.settings,
    inputPath: run.inputPath,
    baseModel: "none",
    inputComplete: true,
  });
  await store.setItemStatuses(
    meta.id,
    run.cases.map((c) => ({ itemId: c.id, status: "done" as const, record: c.record })),
  );
  await saveEvalReport(store, meta.id, run.report);
  return meta.id;
}

/**
 * Opens the store at `location`, keeps the report (with the run `target` names, or as a run of its
 * own) and closes it again; returns the run's id.
 */
export async function keepEvalReport(
  location: string,
  target: { runId: string } | Omit<ReportRun, "report">,
  report: StoredEvalReport,
): Promise<string> {
  const store = await openStore(location);
  try {
    if ("runId" in target) {
      await saveEvalReport(store, target.runId, report);
      return target.runId;
    }
    return await recordReportRun(store, { ...target, report });
  } finally {
    await store.close();
  }
}
