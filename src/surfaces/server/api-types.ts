/**
 * The JSON shapes of the viewer's API (`spri view`). The web app imports them with `import type`
 * only, so the browser bundle never pulls in server code.
 */
import type { ConstitutionArtifact, ConstitutionMapPoint, ConstitutionPrinciple } from "../../algorithms/discovery/constitution.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { EvalKind, StoredEvalReport } from "../../runtime/runner/eval-report.ts";
import type { AlignedCell, AlignedRow } from "../../algorithms/discovery/constitution-alignment.ts";
import type {
  ConstitutionColumnInfo,
  IterationOverviewRow,
  IterationsOverview,
  WinRatePoint,
} from "../../runtime/runner/iterations-overview.ts";
import type { OutputReport, RunState, ShownStatus } from "../../runtime/runner/run-state.ts";
import type { RunWatch, WatchCounts, WatchedWorker } from "../../runtime/runner/run-watch.ts";
import type {
  ItemCounts,
  ItemSort,
  ItemState,
  ItemStatus,
  RunMeta,
  RunStats,
  RunUsage,
  StoredCall,
} from "../../runtime/store/run-store.ts";

export type {
  CallRecord,
  ConstitutionMapPoint,
  ConstitutionPrinciple,
  ItemCounts,
  ItemRecord,
  ItemSort,
  ItemStatus,
  RunMeta,
  RunStats,
  RunUsage,
  StoredCall,
};
export type { OutputReport, ShownStatus, WatchCounts, WatchedWorker };
export type { AlignedCell, AlignedRow, ConstitutionColumnInfo, IterationOverviewRow, WinRatePoint };

/**
 * A run as listed: its metadata without settings, with counts and usage, and its state: `status` is
 * the shown one (`interrupted` when the store says running but no process works the run any more),
 * with `reason` (failed, stopped, interrupted), `resume` (the recorded command that resumes it) and
 * `output` (how many records its output file held when last reported) for runs that did not complete.
 */
export interface RunSummary extends Omit<RunMeta, "settings" | "key" | "status">, Omit<RunState, "status"> {
  status: ShownStatus;
  counts: ItemCounts;
  usage: RunUsage;
  /** From creation to the last update. */
  durationMs: number;
}

export interface RunListResponse {
  runs: RunSummary[];
  limit: number;
  offset: number;
  hasMore: boolean;
}

/** One run with its (redacted) settings. */
export interface RunDetailResponse {
  run: RunSummary & { settings: Record<string, unknown>; key: string };
  /** The kind of evaluation report the run keeps (`/api/runs/:id/eval`), or null. */
  evalReport: EvalKind | null;
}

export type { EvalKind };

/** `/api/runs/:id/eval`: the report as the command printed it with `--json` (runner/eval-report.ts). */
export type EvalReportResponse = StoredEvalReport & { runId: string };

export type EvalCaseValue = string | number | null;

/** `/api/runs/:id/eval/cases`: the judged items, one row each, in the report kind's columns. */
export interface EvalCasesResponse {
  runId: string;
  kind: EvalKind;
  columns: string[];
  rows: { itemId: string; values: EvalCaseValue[] }[];
  /** Judged (done) items in all. */
  total: number;
  limit: number;
  offset: number;
}

/** What the events stream (`/api/runs/:id/events`) sends as `progress` whenever it changes. */
export interface RunProgress {
  runId: string;
  status: ShownStatus;
  updatedAt: string;
  counts: ItemCounts;
  usage: RunUsage;
  durationMs: number;
}

/**
 * `GET /api/runs/:id/workers`, and the events stream's `workers` event: items done / failed /
 * leased / pending, the recent rate and ETA, and the run's workers with their per-run counts and
 * status (`lost`: no heartbeat for longer than its lease). The same object as `spri status --run --json`.
 */
export type RunWorkersResponse = RunWatch;

export interface ItemSummary {
  itemId: string;
  status: ItemStatus;
  reason?: string;
  attempts: number;
  updatedAt: string;
  /** The item's question (or first text field), cut to 200 characters. */
  question?: string;
  principleIterations?: number;
  responseIterations?: number;
  principleScores?: (number | null)[];
  responseScores?: (number | null)[];
  calls?: number;
  costUsd?: number | null;
}

export interface ItemListResponse {
  items: ItemSummary[];
  /** Items matching the status filter. */
  total: number;
  limit: number;
  offset: number;
  sort: ItemSort;
  status?: ItemStatus;
}

/** One version of a text, or a critique of it, in a SPRI stage. */
export interface StageStep {
  kind: "draft" | "critique" | "refined";
  /** 0 for the draft; k for the k-th critique and the refinement that follows it. */
  iteration: number;
  text: string;
  /** Critiques: the critic's score, null when unscored, absent when the record has no scores. */
  score?: number | null;
  /** Critiques that ended a stage without a score: the record's error note. */
  error?: string;
}

export interface StageView {
  name: "principles" | "response";
  steps: StageStep[];
  final?: string;
  /** The record's iteration count (`iteration_principle` / `iteration_response`). */
  iterations?: number;
  scores?: (number | null)[];
}

/** The item as the store holds it (status, attempts, its record), read for the viewer. */
export interface ItemDetailResponse extends ItemState {
  /** The input's own fields (the record's fields before SPRI's), as given. */
  input: Record<string, unknown>;
  stages: StageView[];
  /** Fields of the record that are neither input nor SPRI loop fields (judge scores, usage, ...). */
  other: Record<string, unknown>;
}

export interface CallListResponse {
  calls: StoredCall[];
}

export interface RunStatsResponse extends RunStats {
  runId: string;
}

/** Judge runs: how the judge's scores agree with human scores, from the records in the store. */
export interface JudgeReportResponse {
  runId: string;
  scoreField: string;
  humanField: string;
  groupBy: string | null;
  /** Items read, items with both scores, and items left out. */
  read: number;
  n: number;
  dropped: number;
  groups: { name: string; n: number; pearson: number | null; spearman: number | null; mae: number | null; alpha: number | null }[];
  pooled: { pearson: number | null; spearman: number | null; mae: number | null; alpha: number | null };
  mean: { pearson: number | null; spearman: number | null; mae: number | null; alpha: number | null };
  /** Up to 2,000 (human, judge) pairs for a scatter plot, with their item ids and groups. */
  points: { itemId: string; group: string; human: number; judge: number }[];
}

/**
 * Discovery runs (`discover/cluster`): the constitution, principles by cluster size, and a 2-D PCA
 * map of the unique principles' embeddings (at most 2,000 points), each with its cluster id.
 */
export interface ConstitutionResponse extends ConstitutionArtifact {
  runId: string;
}

export interface ServerInfoResponse {
  version: string;
  playground: PlaygroundInfo | null;
  /** Whether `spri view --iterations DIR` shows a discovery iterations directory (`GET /api/iterations`). */
  iterations: boolean;
}

/**
 * `spri view --iterations DIR`: the metrics of `spri discover iterate report` per iteration (with
 * the discovery rate and the win rates' 95% CIs) and the constitutions aligned by cluster label.
 */
export type IterationsResponse = IterationsOverview;

export interface PlaygroundInfo {
  tasks: string[];
  defaults: { task: string; baseModel?: string; criticModel?: string; threshold: number; maxCritiques: number };
}

export interface PlaygroundRequest {
  question: string;
  task?: string;
  /** A model id served where `spri view`'s settings point (the endpoint is never taken from a request). */
  baseModel?: string;
  criticModel?: string;
  threshold?: number;
  maxCritiques?: number;
  /** Reappraisal: the response goal. */
  goal?: string;
  /** Rubric: a reference answer. */
  reference?: string;
}

export interface PlaygroundStartResponse {
  runId: string;
  itemId: string;
}

/** Events of a playground run, in order: `start`, `call`*, then `done` or `error`. */
export type PlaygroundEvent =
  | {
      type: "start";
      runId: string;
      itemId: string;
      task: string;
      baseModel: string;
      criticModel: string;
      threshold: number;
      maxCritiques: number;
    }
  | {
      type: "call";
      index: number;
      step: string;
      iteration: number;
      attempt: number;
      role: CallRecord["role"];
      model: string;
      response: string | null;
      score?: number | null;
      latencyMs: number;
      inputTokens: number;
      outputTokens: number;
      error?: string;
    }
  | { type: "done"; runId: string; itemId: string; principleFinal?: string; responseFinal?: string }
  | { type: "error"; message: string };

export interface ApiError {
  error: string;
}
