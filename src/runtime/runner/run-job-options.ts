/** What `runJob` takes and what it returns (run-job.ts). */
import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import type { CallRecord } from "../../io/records.ts";
import type { CacheMode } from "../store/call-cache.ts";
import type { RunStore } from "../store/run-store.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import type { FieldMapping } from "../../presets/tasks/task-item.ts";
import type { BatchApi, BatchFormat } from "../../models/batch-provider.ts";
import type { FlushResult } from "./batch-lane.ts";
import type { Budget, PriceTable, Spend } from "./cost.ts";
import type { RetryOptions } from "./retry.ts";
import type { ProgressSink } from "./run-progress.ts";
import type { Invocation } from "./run-state.ts";
import type { RateLimits } from "./shared-rate.ts";
import type { CritiqueCounts } from "./unscored-watch.ts";

/** How long a lease on an item (and on the output role) lasts without a heartbeat. */
export const DEFAULT_LEASE_MS = 30_000;

export interface RunJobOptions {
  input: string;
  output: string;
  /** Default `<output>.rejects.jsonl`. */
  rejects?: string;
  prepared: PreparedTask;
  models: SpriModels;
  mapping: FieldMapping;
  /** Runs of the algorithm per item (`--samples`, see samples.ts); default 1. */
  samples?: number;
  concurrency: number;
  timeoutMs?: number;
  store: RunStore;
  cacheMode: CacheMode;
  /** What changes the outputs (redacted; see identitySettings in run-identity.ts): it identifies the run, so the same command resumes it. */
  runSettings: Record<string, unknown>;
  budget: Budget;
  prices: PriceTable;
  retry?: RetryOptions;
  progress?: ProgressSink;
  signal?: AbortSignal;
  /** Every call as it ends, after pricing. */
  onCall?: (call: CallRecord, costUsd: number | undefined) => void;
  /** Run the calls through a Batch API, one round per step (OpenAI-compatible models only). */
  batch?: BatchRunOptions;
  /** Work items in this process (default); false: only enqueue them and write the output as workers finish them. */
  work?: boolean;
  /** How long a lease on an item (and on the output role) lasts without a heartbeat; default 30 s. */
  leaseMs?: number;
  /** How often to look at the store for other workers' progress; default 100 ms. */
  pollMs?: number;
  /** Notes for the user (joining a run held by another process). */
  log?: (line: string) => void;
  /** Requests and tokens per minute per endpoint, shared by every worker of the store. */
  rateLimits?: RateLimits;
  /** What `spri worker` needs to rebuild this run elsewhere (stored as the run's `command` artifact). */
  command?: unknown;
  /**
   * Only the first `limit` rows of the input (`--limit`). Not part of the run's identity: a later
   * command with a larger limit, or none, goes on with the same run.
   */
  limit?: number;
  /** Bytes one item's row may hold (`--max-item-size`); larger items are rejected before any call. */
  maxItemBytes?: number;
  /** The command line and directory that resume this run (stored as its `invocation` artifact, for the viewer and `spri status`). */
  invocation?: Invocation;
  /**
   * The output may hold another run's records (other settings, task or input): replace them with
   * this run's instead of refusing (see output-owner.ts).
   */
  newRun?: boolean;
}

export interface BatchRunOptions {
  /** Write each round's file and stop (for `vllm run-batch`); never submit. */
  offline?: boolean;
  /** The provider's batch file format (the caller chooses the adapter, e.g. openai-batch's OPENAI_BATCH_FORMAT). */
  format: BatchFormat;
  /** The Batch API of each model, by `LanguageModel.id`; needed unless offline. */
  apis?: ReadonlyMap<string, BatchApi>;
  /** Seconds before the first poll of a batch (backing off from there). Default 30. */
  pollSeconds?: number;
  /** Results files (OpenAI batch output JSONL) to import before the first round. */
  resultsFiles?: readonly string[];
  /** Default `<output>.batch`. */
  dir?: string;
  /** Progress lines of the lane (submitted, status changes, imports). */
  log?: (line: string) => void;
  /** Price factor of batch calls (OpenAI bills batches at half price). Default 0.5 online, 1 offline. */
  priceFactor?: number;
  /** For tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** `awaiting-batch`: offline batch mode wrote a round's files; run them and re-run with their results. */
export type RunOutcome = "completed" | "completed-with-failures" | "stopped" | "awaiting-batch";

/**
 * Why a run (or a worker) stopped early: a budget was spent, a provider refused for good (key,
 * quota, unknown model, a Batch API failure), the user interrupted, or an input was wrong (a batch
 * results file). The CLI turns each into its exit code.
 */
export type StopKind = "budget" | "provider" | "interrupted" | "input";

export interface RunJobResult {
  runId: string;
  outcome: RunOutcome;
  /** Why the run stopped early, when it did. */
  stopReason?: string;
  stopKind?: StopKind;
  done: number;
  failed: number;
  /** Items found in the output from earlier runs. */
  skipped: number;
  spend: Spend;
  output: string;
  rejects: string;
  /** The first few reject reasons, for the command's summary. */
  rejectSamples: string[];
  /** Critiques this process saw (every answer that must carry a score), and how many had none readable. */
  critiques: CritiqueCounts;
  /** The end-of-run line about unscored critiques (see unscored-watch.ts), when there were any. */
  unscored?: string;
  /** Batch mode only. */
  batch?: {
    dir: string;
    /** Rounds this command submitted (or wrote, offline). */
    rounds: number;
    /** Offline: the round written, whose results the next command imports. */
    awaiting?: Extract<FlushResult, { kind: "offline" }>;
  };
}
