/**
 * The run store: what `spri run` persists so that runs over tens of thousands of items can be
 * resumed, inspected and shared. `store/` is the only layer that persists; the runner, the server
 * and the viewer see it through this interface only. SQLite (`sqlite-store.ts`) implements it by
 * default; a PostgreSQL implementation for scale-out will satisfy the same contracts, so the API is
 * async and says nothing about SQL.
 *
 * Contracts every implementation keeps:
 * - Every write method is atomic: it takes effect entirely or not at all, also when the process is
 *   killed at any moment.
 * - Timestamps are ISO 8601 strings in UTC.
 * - Nothing stores credentials: runs hold settings that the caller has redacted (the store redacts
 *   credential-named fields again, as a last line of defence, see `redactSettings`), and calls hold
 *   the model id and endpoint id (`LanguageModel.id`, which never contains a key), never a key.
 * - Writes reject with `StoreError` when their run does not exist; reads of an unknown run give
 *   empty results (`getRun`/`findRunByKey`: undefined). Every method rejects once the store is closed.
 */
import { resolve } from "node:path";
import { type ErrorEvidence, SpriError } from "../../base/errors/errors.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import { canonicalHash } from "./canonical.ts";
import type { CallCache } from "./call-cache.ts";
import { redactUrl } from "../../base/util/redact-url.ts";
import type { RateLedger, WorkQueue } from "./work-queue.ts";

export type RunStatus = "running" | "completed" | "failed" | "stopped";
export const RUN_STATUSES: readonly RunStatus[] = ["running", "completed", "failed", "stopped"];

export type ItemStatus = "pending" | "done" | "failed";
export const ITEM_STATUSES: readonly ItemStatus[] = ["pending", "done", "failed"];

export interface RunMeta {
  /** Unique id of this run (a UUID unless the creator chose one). */
  id: string;
  /** `runKey(...)` of the command that started it: the same command finds the same run. Not unique. */
  key: string;
  /** Task or algorithm name, e.g. `spri`, `self-refine`. */
  task: string;
  status: RunStatus;
  createdAt: string;
  updatedAt: string;
  /** The command's effective settings, redacted (no keys). */
  settings: Record<string, unknown>;
  inputPath: string;
  outputPath?: string;
  /** `LanguageModel.id` of the base model. */
  baseModel: string;
  /** `LanguageModel.id` of the critic model, when there is one. */
  criticModel?: string;
  /** Every input item has been enqueued (`WorkQueue.enqueueItems`): once none is pending, the run is finished. */
  inputComplete?: boolean;
}

/** What `createRun` takes: `id` defaults to a random UUID, `status` to `running`, times to now. */
export type NewRun = Omit<RunMeta, "id" | "status" | "createdAt" | "updatedAt"> & Partial<Pick<RunMeta, "id" | "status" | "createdAt">>;

/** The fields `updateRun` may change; `updatedAt` is set by the store. */
export type RunPatch = Partial<Pick<RunMeta, "status" | "settings" | "outputPath" | "baseModel" | "criticModel" | "inputComplete">>;

export interface ItemState {
  runId: string;
  itemId: string;
  status: ItemStatus;
  /** Why it failed (or any note the runner left); absent when none. */
  reason?: string;
  /** How many times the item reached `done` or `failed` in this run. */
  attempts: number;
  updatedAt: string;
  /** The output record, when one was stored with the status. */
  record?: ItemRecord;
}

export interface ItemUpdate {
  itemId: string;
  status: ItemStatus;
  reason?: string;
  record?: ItemRecord;
}

export interface ItemCounts {
  pending: number;
  done: number;
  failed: number;
  total: number;
}

/** A call as stored: a CallRecord that belongs to a run, with its price when the caller knew it. */
export type StoredCall = CallRecord & { runId: string; costUsd?: number };

/**
 * Aggregate usage of a run. Calls answered from the cache are counted in `cacheHits` (and `calls`)
 * only: their tokens and cost are not added, because nothing was paid for them.
 */
export interface RunUsage {
  /** All recorded calls, cache hits and failures included. */
  calls: number;
  cacheHits: number;
  /** Calls that ended in an error. */
  errors: number;
  /** Tokens of the calls a backend answered (cache hits excluded). */
  inputTokens: number;
  outputTokens: number;
  /** Sum of `costUsd` over backend-answered calls that had one; null when none had one. */
  costUsd: number | null;
  /** Backend-answered calls recorded without a price (so `costUsd` is a lower bound when > 0). */
  unpricedCalls: number;
}

/** Orders of `listItems`: first-seen (`seq`), item id, last update; `-` for descending. */
export type ItemSort = "seq" | "-seq" | "id" | "-id" | "updated" | "-updated";
export const ITEM_SORTS: readonly ItemSort[] = ["seq", "-seq", "id", "-id", "updated", "-updated"];

/**
 * Aggregates of one run for the viewer, computed in the database so they stay cheap for runs of
 * 100,000 items. Scores and iteration counts come from the items' output records (the reference
 * fields `principles_critique_scores`, `response_critique_scores`, `iteration_principle`,
 * `iteration_response`), so they describe each finished item's final pass; the rest from the calls.
 */
export interface RunStats {
  /** How many critiques at each iteration (1-based) of each stage gave each score (`null`: unscored). */
  critiqueScores: { stage: "principles" | "response"; iteration: number; score: number | null; count: number }[];
  /** How many items took n critique iterations in each stage. */
  iterations: { stage: "principles" | "response"; iterations: number; items: number }[];
  /** Failed items by reason, most frequent first (at most 50 reasons). */
  failures: { reason: string; count: number }[];
  /** Calls per step, in the order the steps first occurred. */
  steps: {
    step: string;
    calls: number;
    errors: number;
    cacheHits: number;
    inputTokens: number;
    outputTokens: number;
    costUsd: number;
    latencyMs: number;
  }[];
  /** Calls started per minute (UTC, `YYYY-MM-DDTHH:MM`), in time order; cache hits add no tokens or cost. */
  timeline: { minute: string; calls: number; inputTokens: number; outputTokens: number; costUsd: number }[];
}

export interface Page {
  /** At most this many rows (default 100). */
  limit?: number;
  /** Skip this many rows first (default 0). */
  offset?: number;
}

export interface RunStore extends WorkQueue, RateLedger {
  /** The call cache kept beside the runs (same database). */
  readonly cache: CallCache;

  /** Creates a run. Rejects if a run with the same id exists. Settings are redacted again. */
  createRun(run: NewRun): Promise<RunMeta>;
  /** The most recently created run with this key, to resume it; undefined when none. */
  findRunByKey(key: string): Promise<RunMeta | undefined>;
  getRun(id: string): Promise<RunMeta | undefined>;
  /** Runs, newest first. */
  listRuns(page?: Page): Promise<RunMeta[]>;
  /** Changes the given fields, sets `updatedAt`, returns the updated run. Rejects for an unknown id. */
  updateRun(id: string, patch: RunPatch): Promise<RunMeta>;

  /**
   * Sets an item's status, reason and record exactly as given (an absent reason or record clears
   * the stored one), creating the row on first sight. `attempts` grows by one when the status is
   * `done` or `failed`. Also marks the run as updated.
   */
  setItemStatus(runId: string, itemId: string, status: ItemStatus, options?: { reason?: string; record?: ItemRecord }): Promise<void>;
  /** `setItemStatus` for many items, in one transaction (register pending items in bulk). */
  setItemStatuses(runId: string, updates: readonly ItemUpdate[]): Promise<void>;
  /** Every item's status in one read; meant for resuming runs of 100,000 items and more. */
  itemStatuses(runId: string): Promise<Map<string, ItemStatus>>;
  /** Items in the order they were first seen (or `sort`), optionally of one status, with their records. */
  listItems(runId: string, options?: Page & { status?: ItemStatus; sort?: ItemSort }): Promise<ItemState[]>;
  itemCounts(runId: string): Promise<ItemCounts>;
  /** One item with its record; undefined when the run has no such item. */
  getItem(runId: string, itemId: string): Promise<ItemState | undefined>;

  /**
   * Appends calls, all in one transaction, and adds them to their runs' usage. Every call needs a
   * `runId` of an existing run; one bad call rejects the whole batch. Only the CallRecord fields
   * (and `costUsd`) are stored; anything else on the objects is ignored.
   */
  recordCalls(calls: readonly StoredCall[]): Promise<void>;
  /** The calls of one item, in the order they were recorded. */
  listCalls(runId: string, itemId: string): Promise<StoredCall[]>;
  /** Aggregate usage of a run (zeros for a run without calls). Cheap: kept up to date on write. */
  runUsage(runId: string): Promise<RunUsage>;
  /** Score distributions, critique counts, failure reasons and a timeline (for the viewer). */
  runStats(runId: string): Promise<RunStats>;

  /**
   * Stores a named JSON artifact of a run (e.g. `constitution` for `discover/cluster` runs),
   * replacing any artifact of that name. `value` must survive `JSON.stringify`. Also marks the run
   * as updated.
   */
  putArtifact(runId: string, name: string, value: unknown): Promise<void>;
  /** The artifact as stored (parsed JSON); undefined when the run has none of that name. */
  getArtifact(runId: string, name: string): Promise<unknown | undefined>;

  /** Releases the database. Safe to call twice; other methods reject afterwards. */
  close(): Promise<void>;
}

/** A store failure the user can act on: a missing run, a database from a newer spri, a foreign file. */
export class StoreError extends SpriError {
  /** A failed PostgreSQL statement's SQLSTATE (e.g. "42P01"), kept even where the driver's error is not. */
  readonly sqlState?: string;

  constructor(message: string, evidence: ErrorEvidence & { sqlState?: string } = {}) {
    super(message, evidence);
    this.sqlState = evidence.sqlState;
  }
}

/**
 * The stable key of a run: the same task, settings, input file (and output file, for runs that write
 * one) give the same key, so re-running a command finds (and resumes) its run. Paths are resolved
 * against the working directory;
 * settings are hashed canonically (key order does not matter) and should hold only what changes the
 * outputs (not concurrency or display options) and no credentials.
 */
export function runKey(parts: { task: string; settings: Record<string, unknown>; inputPath: string; outputPath?: string }): string {
  const output = parts.outputPath === undefined ? {} : { outputPath: resolve(parts.outputPath) };
  return canonicalHash({ v: 1, task: parts.task, settings: parts.settings, inputPath: resolve(parts.inputPath), ...output });
}

const CREDENTIAL_NAME =
  /^(api[-_]?key|x[-_]api[-_]key|apikey|authorization|proxy[-_]authorization|password|passwd|secret|client[-_]?secret|(access|auth|bearer|refresh|session)[-_]?token|cookie)$/i;
export const REDACTED = "[redacted]";

/**
 * A deep copy of `settings` with the values of credential-named fields (`apiKey`, `api_key`,
 * `Authorization`, `password`, `secret`, `accessToken`, ...) replaced by `[redacted]`, and the
 * passwords of URLs (`https://user:password@host`, `?api_key=`) likewise. Callers redact before
 * handing settings over; stores apply this again so a slip never reaches the disk.
 */
export function redactSettings(settings: Record<string, unknown>): Record<string, unknown> {
  return redact(settings) as Record<string, unknown>;
}

function redact(value: unknown): unknown {
  if (typeof value === "string") return redactUrl(value);
  if (Array.isArray(value)) return value.map(redact);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value)) {
    out[name] = CREDENTIAL_NAME.test(name) && field !== undefined && field !== null && field !== "" ? REDACTED : redact(field);
  }
  return out;
}
