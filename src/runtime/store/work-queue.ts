/**
 * The work queue of a run, kept in the run store so that many worker processes (on one machine or
 * many) work one run exactly once. Both backends implement it with the same semantics: SQLite for one
 * machine, PostgreSQL (`SELECT … FOR UPDATE SKIP LOCKED`) for many.
 *
 * Why not a job-queue library such as pg-boss: a result must be accepted only from the worker that
 * still holds the item (fencing), in the same transaction as the item's record, its calls and the
 * run's usage; and SQLite needs the very same semantics. A lease is therefore three columns of the
 * item's own row (owner, token, expiry), and a completion is one conditional UPDATE.
 *
 * Contracts every implementation keeps:
 * - An item is `pending` until a fenced completion sets it `done` or `failed`. A pending item is
 *   *leased* while its lease has not expired; only unleased pending items are handed out, in input
 *   order (`seq`), and each hand-out increments the item's fencing token.
 * - `completeItems` accepts a result only when the item is still pending and the token is the one
 *   the caller was given; a result from a worker whose lease expired and was re-leased is refused,
 *   and nothing of it (record, status, calls) is stored. Accepted results are written in one
 *   transaction with their calls and usage.
 * - Expiry times come from the database's clock where there is one (PostgreSQL), so workers'
 *   clocks need not agree.
 * - Finished items get a `finishSeq` that grows in commit order within a run, so a reader that
 *   remembers the last `finishSeq` it saw (`finishedSince`) misses none and sees none twice.
 */
import { hostname } from "node:os";
import type { ItemRecord } from "../../io/records.ts";
import type { StoredCall } from "./run-store.ts";

/** One input item as queued: its id, its position in the input, and what a worker needs to run it. */
export interface QueuedItem {
  itemId: string;
  /** The task item (JSON): whatever the run's algorithm needs, stored so workers need no input file. */
  input: unknown;
  /** 1-based line (or row) of the input, for messages. */
  line?: number;
}

/**
 * One string per (run, item), for sets and maps keyed by item: run ids hold no NUL (they are UUIDs,
 * and PostgreSQL text cannot hold one), so the first NUL ends the run id.
 */
export function itemKey(runId: string, itemId: string): string {
  return `${runId}\u0000${itemId}`;
}

export interface Lease {
  runId: string;
  itemId: string;
  /** The fencing token: pass it back with the result. */
  token: number;
  input: unknown;
  line?: number;
}

export interface ItemResult {
  runId: string;
  itemId: string;
  token: number;
  status: "done" | "failed";
  record?: ItemRecord;
  reason?: string;
  /** The calls the item made; stored only when the result is accepted. */
  calls: readonly StoredCall[];
}

/** What `completeItems` did with each result, by `runId`/`itemId`. */
export interface Completion {
  accepted: { runId: string; itemId: string }[];
  /** Results whose lease was lost (expired and re-leased, or the item is already finished). */
  refused: { runId: string; itemId: string }[];
}

export interface WorkerRegistration {
  /** Unique id of the worker (a UUID). */
  id: string;
  host: string;
  pid: number;
  /** The run it works, or none for a worker of every run in the store. */
  runId?: string;
}

export type WorkerStatus = "active" | "stopped" | "lost";

export interface WorkerInfo extends WorkerRegistration {
  startedAt: string;
  heartbeatAt: string;
  /** `stopped`: said goodbye; `lost`: no heartbeat for longer than its lease; `active` otherwise. */
  status: WorkerStatus;
  itemsDone: number;
  itemsFailed: number;
  /** Items it holds a live lease on now. */
  leased: number;
}

/** A finished item in commit order (see `finishedSince`). */
export interface FinishedItem {
  itemId: string;
  status: "done" | "failed";
  finishSeq: number;
  record?: ItemRecord;
  /**
   * The record as the store holds it (JSON text, one line): what the output file gets, written as
   * it is without parsing and serialising it again. Present exactly when `record` is.
   */
  recordJson?: string;
  reason?: string;
  line?: number;
}

/**
 * A finished item as the backends return it: `record` is parsed from `recordJson` on first read,
 * so a reader that only copies the text (the output tail) never pays for the parse.
 */
export class StoredFinishedItem implements FinishedItem {
  readonly itemId: string;
  readonly status: "done" | "failed";
  readonly finishSeq: number;
  readonly recordJson?: string;
  reason?: string;
  line?: number;
  private parsed: ItemRecord | undefined;

  constructor(itemId: string, status: "done" | "failed", finishSeq: number, recordJson: string | undefined) {
    this.itemId = itemId;
    this.status = status;
    this.finishSeq = finishSeq;
    if (recordJson !== undefined) this.recordJson = recordJson;
  }

  get record(): ItemRecord | undefined {
    if (this.parsed === undefined && this.recordJson !== undefined) this.parsed = JSON.parse(this.recordJson) as ItemRecord;
    return this.parsed;
  }
}

export interface WorkQueue {
  /**
   * Adds items to a run as pending, keeping input order. Items the run already has are left as
   * they are (whatever their state). Returns how many were new.
   */
  enqueueItems(runId: string, items: readonly QueuedItem[]): Promise<number>;
  /** Sets failed items of the run back to pending (a re-run retries them); returns how many. */
  retryFailed(runId: string): Promise<number>;

  /** Records a worker (or refreshes its registration); its heartbeat starts now. */
  registerWorker(worker: WorkerRegistration): Promise<void>;
  /**
   * Proves the worker alive and extends every lease it still holds by `leaseMs`. Returns the items
   * it still holds; a leased item missing from the answer was lost and must not be worked on.
   */
  heartbeat(workerId: string, leaseMs: number): Promise<{ runId: string; itemId: string }[]>;
  /** Marks the worker stopped and releases its leases (their items go back to the queue). */
  stopWorker(workerId: string): Promise<void>;
  /** Workers of a run (or of the whole store), most recent heartbeat first. */
  listWorkers(runId?: string): Promise<WorkerInfo[]>;

  /**
   * Leases up to `max` unleased pending items (of `runId`, or of any running run) for `leaseMs`,
   * oldest first. Never hands an item to two workers at once.
   */
  leaseItems(workerId: string, options: { runId?: string; max: number; leaseMs: number }): Promise<Lease[]>;
  /** Gives leases back early (the worker stops without finishing them). */
  releaseItems(workerId: string, leases: readonly Pick<Lease, "runId" | "itemId" | "token">[]): Promise<void>;
  /** Fenced completion of many items in one transaction (see the contracts above). */
  completeItems(workerId: string, results: readonly ItemResult[]): Promise<Completion>;
  /**
   * Whether a write transaction runs on the caller's thread (SQLite) rather than waiting on a
   * server (PostgreSQL): every call in flight waits while it commits, so writers commit smaller
   * batches (see completer.ts and enqueue.ts).
   */
  readonly writesBlock?: boolean;

  /** Finished items with `finishSeq > after`, in commit order, at most `limit` (default 500). */
  finishedSince(runId: string, after: number, limit?: number): Promise<FinishedItem[]>;
  /** Pending items that hold a live lease now. */
  leasedCount(runId: string): Promise<number>;
  /**
   * Whether the run has a pending item, leased or not; with `unleased`, one that no live lease holds
   * (a worker could lease it now). For loops that poll a run: it reads the run's pending items only,
   * up to the first that counts, where `itemCounts` counts every item of the run (~5 ms at 6,000
   * items in PostgreSQL).
   */
  hasPending(runId: string, options?: { unleased?: boolean }): Promise<boolean>;

  /**
   * Takes (or renews) the run's output role for `leaseMs`: the one process that writes the run's
   * output file. Returns the holder after the call: this worker when it got or kept it.
   */
  claimOutput(runId: string, workerId: string, leaseMs: number): Promise<WorkerInfo | undefined>;
  /** Gives the output role back (the holder is done with it). */
  releaseOutput(runId: string, workerId: string): Promise<void>;
}

/** This process as a worker: host name and pid, under the given id. */
export function thisWorker(id: string, runId?: string): WorkerRegistration {
  return { id, host: hostname(), pid: process.pid, ...(runId === undefined ? {} : { runId }) };
}

/**
 * Provider rate limits shared by every worker of a store (requests and tokens per minute of one API
 * endpoint): workers take small allowances from a window kept in the store, so N workers on one key
 * stay within its limits together.
 */
export interface RateLedger {
  /**
   * Takes up to `want` requests and tokens from the current fixed window of `key` (`windowMs` long,
   * on the store's clock), never more than `limits` allow in that window (an absent limit grants all
   * that is wanted; a negative amount gives back what was taken). Returns what was granted and how
   * long until the window ends.
   */
  takeRate(
    key: string,
    want: { requests: number; tokens: number },
    limits: { requests?: number; tokens?: number },
    windowMs: number,
  ): Promise<{ requests: number; tokens: number; resetInMs: number }>;
}

/** What a rate window still grants of `want` after `used`, under `limits` (absent: no limit). */
export function grantRate(
  used: { requests: number; tokens: number },
  want: { requests: number; tokens: number },
  limits: { requests?: number; tokens?: number },
): { requests: number; tokens: number } {
  // A negative want gives back what was taken and not used (never more than the window holds).
  const room = (limit: number | undefined, spent: number, wanted: number) =>
    wanted < 0 ? Math.max(wanted, -spent) : Math.max(0, Math.min(wanted, limit === undefined ? wanted : limit - spent));
  return { requests: room(limits.requests, used.requests, want.requests), tokens: room(limits.tokens, used.tokens, want.tokens) };
}
