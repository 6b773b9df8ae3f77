/**
 * The work queue (`work-queue.ts`) on SQLite: leases, fencing and workers as columns and tables of
 * the run store's own database. SQLite has one writer at a time, so every method here is one
 * `BEGIN IMMEDIATE` transaction and needs no row locks; lease times are this machine's clock (every
 * process sharing a SQLite file shares it too).
 */
import type { DatabaseSync, SQLOutputValue } from "node:sqlite";
import { StoreError, type StoredCall } from "./run-store.ts";
import { recordStatements } from "./sqlite-statements.ts";
import { RecordTexts } from "./record-texts.ts";
import { recordSummary } from "./store-rows.ts";
import type {
  Completion,
  FinishedItem,
  ItemResult,
  Lease,
  QueuedItem,
  RateLedger,
  WorkerInfo,
  WorkerRegistration,
  WorkQueue,
} from "./work-queue.ts";
import { grantRate, StoredFinishedItem } from "./work-queue.ts";

type Row = Record<string, SQLOutputValue>;
const str = (value: SQLOutputValue | undefined): string => (value === null || value === undefined ? "" : String(value));
const num = (value: SQLOutputValue | undefined): number => (value === null || value === undefined ? 0 : Number(value));
const iso = (ms: number) => new Date(ms).toISOString();

/** What the queue needs of the store it lives in. */
export interface QueueHost {
  db: DatabaseSync;
  assertOpen(): void;
  /** Throws StoreError for an unknown run. */
  requireRun(runId: string): void;
  /** Inserts calls and their usage; the caller holds the transaction. */
  writeCalls(calls: readonly StoredCall[]): void;
  transaction<T>(fn: () => T): T;
}

export class SqliteWorkQueue implements WorkQueue, RateLedger {
  private readonly host: QueueHost;
  private readonly sql;
  /** Records this connection committed, for the output of the runs it holds (see record-texts.ts). */
  private readonly ownRecords = new RecordTexts();

  constructor(host: QueueHost) {
    this.host = host;
    const p = (text: string) => host.db.prepare(text);
    this.sql = {
      insertItem: p(
        `INSERT INTO items (run_id, item_id, status, attempts, updated_at) VALUES (?, ?, 'pending', 0, ?)
         ON CONFLICT (run_id, item_id) DO NOTHING`,
      ),
      insertInput: p("INSERT INTO item_inputs (run_id, item_id, input, line) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"),
      retryFailed: p(
        `UPDATE items SET status = 'pending', lease_owner = NULL, lease_expires = NULL, finish_seq = NULL, updated_at = ?
         WHERE run_id = ? AND status = 'failed'`,
      ),
      registerWorker: p(
        `INSERT INTO workers (id, host, pid, run_id, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, run_id = excluded.run_id,
           heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`,
      ),
      beat: p("UPDATE workers SET heartbeat_at = ?, lease_ms = ? WHERE id = ?"),
      extend: p("UPDATE items SET lease_expires = ? WHERE lease_owner = ? AND status = 'pending' RETURNING run_id, item_id"),
      stopWorker: p("UPDATE workers SET stopped_at = ?, heartbeat_at = ? WHERE id = ?"),
      releaseAll: p("UPDATE items SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = ? AND status = 'pending'"),
      releaseOutputs: p("UPDATE runs SET output_owner = NULL, output_expires = NULL WHERE output_owner = ?"),
      release: p(
        `UPDATE items SET lease_owner = NULL, lease_expires = NULL
         WHERE run_id = ? AND item_id = ? AND lease_owner = ? AND lease_fence = ? AND status = 'pending'`,
      ),
      // The first items in seq order among those never leased (or released) and those whose lease
      // expired; each source is read through its own partial index (schema 5) up to the limit.
      leaseOfRun: p(
        `UPDATE items SET lease_owner = :worker, lease_fence = lease_fence + 1, lease_expires = :expires
         WHERE seq IN (
           SELECT seq FROM (
             SELECT seq FROM items INDEXED BY items_unleased
             WHERE run_id = :run AND status = 'pending' AND lease_owner IS NULL ORDER BY seq LIMIT :max)
           UNION ALL
           SELECT seq FROM (
             SELECT seq FROM items INDEXED BY items_lease_expiry
             WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_expires < :now AND run_id = :run ORDER BY seq LIMIT :max)
           ORDER BY seq LIMIT :max)
         RETURNING seq, run_id, item_id, lease_fence`,
      ),
      leaseAny: p(
        `UPDATE items SET lease_owner = ?, lease_fence = lease_fence + 1, lease_expires = ?
         WHERE seq IN (SELECT i.seq FROM items i JOIN runs r ON r.id = i.run_id
                       WHERE r.status = 'running' AND i.status = 'pending' AND (i.lease_expires IS NULL OR i.lease_expires < ?)
                       ORDER BY i.seq LIMIT ?)
         RETURNING seq, run_id, item_id, lease_fence`,
      ),
      input: p("SELECT input, line FROM item_inputs WHERE run_id = ? AND item_id = ?"),
      finish: p(
        `UPDATE items SET status = ?, reason = ?, attempts = attempts + 1, updated_at = ?, lease_owner = NULL, lease_expires = NULL,
           finish_seq = ?
         WHERE run_id = ? AND item_id = ? AND status = 'pending' AND lease_fence = ? AND lease_owner = ?`,
      ),
      ...recordStatements(p),
      setFinishedCount: p("UPDATE runs SET finished_count = ?, updated_at = ? WHERE id = ?"),
      countWork: p("UPDATE workers SET items_done = items_done + ?, items_failed = items_failed + ? WHERE id = ?"),
      countRunWork: p(
        `INSERT INTO worker_runs (worker_id, run_id, items_done, items_failed) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id, worker_id) DO UPDATE SET
           items_done = worker_runs.items_done + excluded.items_done, items_failed = worker_runs.items_failed + excluded.items_failed`,
      ),
      finishedSince: p(
        `SELECT i.item_id, i.status, i.reason, i.finish_seq, r.record, n.line FROM items i INDEXED BY items_finished
         LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id
         LEFT JOIN item_inputs n ON n.run_id = i.run_id AND n.item_id = i.item_id
         WHERE i.run_id = ? AND i.finish_seq > ? ORDER BY i.finish_seq LIMIT ?`,
      ),
      /** `finishedSince` without the record texts, for a run whose texts this connection keeps. */
      finishedSinceBare: p(
        `SELECT i.item_id, i.status, i.reason, i.finish_seq, n.line FROM items i INDEXED BY items_finished
         LEFT JOIN item_inputs n ON n.run_id = i.run_id AND n.item_id = i.item_id
         WHERE i.run_id = ? AND i.finish_seq > ? ORDER BY i.finish_seq LIMIT ?`,
      ),
      leasedCount: p("SELECT count(*) AS n FROM items WHERE run_id = ? AND status = 'pending' AND lease_expires >= ?"),
      hasPending: p("SELECT EXISTS (SELECT 1 FROM items WHERE run_id = ? AND status = 'pending') AS p"),
      hasUnleased: p(
        `SELECT EXISTS (SELECT 1 FROM items WHERE run_id = ? AND status = 'pending' AND (lease_owner IS NULL OR lease_expires < ?)) AS p`,
      ),
      // A run's workers: those registered for it, those that worked on it, and every live worker of all runs;
      // their counts are the run's own.
      workersOfRun: p(
        `SELECT w.id, w.host, w.pid, w.run_id, w.started_at, w.heartbeat_at, w.lease_ms, w.stopped_at,
           coalesce(wr.items_done, 0) AS items_done, coalesce(wr.items_failed, 0) AS items_failed,
           (SELECT count(*) FROM items i WHERE i.lease_owner = w.id AND i.run_id = ?2 AND i.status = 'pending' AND i.lease_expires >= ?1) AS leased
         FROM workers w LEFT JOIN worker_runs wr ON wr.worker_id = w.id AND wr.run_id = ?2
         WHERE w.run_id = ?2 OR wr.worker_id IS NOT NULL OR (w.run_id IS NULL AND w.stopped_at IS NULL)
         ORDER BY w.heartbeat_at DESC, w.id`,
      ),
      allWorkers: p(
        `SELECT w.*, (SELECT count(*) FROM items i WHERE i.lease_owner = w.id AND i.status = 'pending' AND i.lease_expires >= ?) AS leased
         FROM workers w ORDER BY w.heartbeat_at DESC, w.id`,
      ),
      worker: p("SELECT w.*, 0 AS leased FROM workers w WHERE id = ?"),
      claimOutput: p(
        `UPDATE runs SET output_owner = ?, output_expires = ?
         WHERE id = ? AND (output_owner IS NULL OR output_owner = ? OR output_expires < ?)`,
      ),
      outputOwner: p("SELECT output_owner FROM runs WHERE id = ?"),
      releaseOutput: p("UPDATE runs SET output_owner = NULL, output_expires = NULL WHERE id = ? AND output_owner = ?"),
      rateWindow: p("SELECT window_start, requests, tokens FROM rate_windows WHERE key = ?"),
      setRateWindow: p(
        `INSERT INTO rate_windows (key, window_start, requests, tokens) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET window_start = excluded.window_start, requests = excluded.requests, tokens = excluded.tokens`,
      ),
    };
  }

  async enqueueItems(runId: string, items: readonly QueuedItem[]): Promise<number> {
    this.host.assertOpen();
    if (items.length === 0) return 0;
    const at = new Date().toISOString();
    return this.host.transaction(() => {
      this.host.requireRun(runId);
      let added = 0;
      for (const item of items) {
        if (this.sql.insertItem.run(runId, item.itemId, at).changes === 0) continue;
        this.sql.insertInput.run(runId, item.itemId, JSON.stringify(item.input ?? null), item.line ?? null);
        added++;
      }
      return added;
    });
  }

  async retryFailed(runId: string): Promise<number> {
    this.host.assertOpen();
    return this.host.transaction(() => Number(this.sql.retryFailed.run(new Date().toISOString(), runId).changes));
  }

  async registerWorker(worker: WorkerRegistration): Promise<void> {
    this.host.assertOpen();
    const at = Date.now();
    this.host.transaction(() => {
      if (worker.runId !== undefined) this.host.requireRun(worker.runId);
      this.sql.registerWorker.run(worker.id, worker.host, worker.pid, worker.runId ?? null, iso(at), at);
    });
  }

  async heartbeat(workerId: string, leaseMs: number): Promise<{ runId: string; itemId: string }[]> {
    this.host.assertOpen();
    const at = Date.now();
    return this.host.transaction(() => {
      if (this.sql.beat.run(at, leaseMs, workerId).changes === 0) throw unknownWorker(workerId);
      return this.sql.extend.all(at + leaseMs, workerId).map((row) => ({ runId: str(row.run_id), itemId: str(row.item_id) }));
    });
  }

  async stopWorker(workerId: string): Promise<void> {
    this.host.assertOpen();
    const at = Date.now();
    this.host.transaction(() => {
      this.sql.releaseAll.run(workerId);
      this.sql.releaseOutputs.run(workerId);
      this.sql.stopWorker.run(iso(at), at, workerId);
    });
    this.ownRecords.releaseAll(workerId);
  }

  async listWorkers(runId?: string): Promise<WorkerInfo[]> {
    this.host.assertOpen();
    const at = Date.now();
    const rows = runId === undefined ? this.sql.allWorkers.all(at) : this.sql.workersOfRun.all(at, runId);
    return rows.map((row) => workerFromRow(row, at));
  }

  async leaseItems(workerId: string, options: { runId?: string; max: number; leaseMs: number }): Promise<Lease[]> {
    this.host.assertOpen();
    const max = Math.max(0, Math.floor(options.max));
    if (max === 0) return [];
    const at = Date.now();
    // The inputs are read in the lease's own transaction: outside it, each read would be a
    // transaction of its own (a lock and unlock of the WAL index per item).
    const leased = this.host.transaction(() => {
      // Leasing proves the worker alive, like a heartbeat.
      if (this.sql.beat.run(at, options.leaseMs, workerId).changes === 0) throw unknownWorker(workerId);
      const rows =
        options.runId === undefined
          ? this.sql.leaseAny.all(workerId, at + options.leaseMs, at, max)
          : this.sql.leaseOfRun.all({ worker: workerId, expires: at + options.leaseMs, run: options.runId, now: at, max });
      return rows.map((row) => ({ row, input: this.sql.input.get(str(row.run_id), str(row.item_id)) }));
    });
    leased.sort((a, b) => num(a.row.seq) - num(b.row.seq));
    return leased.map(({ row, input }) => {
      const lease: Lease = {
        runId: str(row.run_id),
        itemId: str(row.item_id),
        token: num(row.lease_fence),
        input: input ? JSON.parse(str(input.input)) : null,
      };
      if (input && input.line !== null && input.line !== undefined) lease.line = num(input.line);
      return lease;
    });
  }

  async releaseItems(workerId: string, leases: readonly Pick<Lease, "runId" | "itemId" | "token">[]): Promise<void> {
    this.host.assertOpen();
    if (leases.length === 0) return;
    this.host.transaction(() => {
      for (const lease of leases) this.sql.release.run(lease.runId, lease.itemId, workerId, lease.token);
    });
  }

  async completeItems(workerId: string, results: readonly ItemResult[]): Promise<Completion> {
    this.host.assertOpen();
    const completion: Completion = { accepted: [], refused: [] };
    if (results.length === 0) return completion;
    const at = new Date().toISOString();
    // Texts of the records written, kept for the output once they are committed (see RecordTexts).
    const committed: [runId: string, itemId: string, json: string][] = [];
    this.host.transaction(() => {
      const nextSeq = new Map<string, number>();
      const calls: StoredCall[] = [];
      const perRun = new Map<string, [number, number]>();
      let done = 0;
      let failed = 0;
      for (const result of results) {
        let seq = nextSeq.get(result.runId);
        if (seq === undefined) {
          this.host.requireRun(result.runId);
          seq = num(this.sql.finishedCount.get(result.runId)?.finished_count);
        }
        const changes = this.sql.finish.run(
          result.status,
          result.reason ?? null,
          at,
          seq + 1,
          result.runId,
          result.itemId,
          result.token,
          workerId,
        ).changes;
        if (changes === 0) {
          completion.refused.push({ runId: result.runId, itemId: result.itemId });
          continue;
        }
        nextSeq.set(result.runId, seq + 1);
        if (result.record === undefined) this.sql.deleteRecord.run(result.runId, result.itemId);
        else {
          const json = JSON.stringify(result.record);
          this.sql.upsertRecord.run(result.runId, result.itemId, json, recordSummary(result.record));
          if (result.status === "done") committed.push([result.runId, result.itemId, json]);
        }
        calls.push(...result.calls);
        const counts = perRun.get(result.runId) ?? [0, 0];
        if (result.status === "done") {
          done++;
          counts[0]++;
        } else {
          failed++;
          counts[1]++;
        }
        perRun.set(result.runId, counts);
        completion.accepted.push({ runId: result.runId, itemId: result.itemId });
      }
      for (const [runId, seq] of nextSeq) this.sql.setFinishedCount.run(seq, at, runId);
      this.host.writeCalls(calls);
      if (done + failed > 0) this.sql.countWork.run(done, failed, workerId);
      for (const [runId, [runDone, runFailed]] of perRun) this.sql.countRunWork.run(workerId, runId, runDone, runFailed);
    });
    for (const [runId, itemId, json] of committed) this.ownRecords.keep(runId, itemId, json);
    return completion;
  }

  /**
   * With record texts of the run kept here (`ownRecords`), the page is read without them first; a
   * page that holds any other item (another connection's, a failed one) is read again whole.
   */
  async finishedSince(runId: string, after: number, limit = 500): Promise<FinishedItem[]> {
    this.host.assertOpen();
    const max = Math.max(1, Math.floor(limit));
    if (this.ownRecords.holds(runId)) {
      const rows = this.sql.finishedSinceBare.all(runId, after, max);
      const texts = this.ownRecords.takeAll(
        runId,
        rows.map((row) => str(row.item_id)),
      );
      if (texts) return rows.map((row, i) => finishedItem(row, texts[i]));
    }
    return this.sql.finishedSince.all(runId, after, max).map((row) => {
      this.ownRecords.forget(runId, str(row.item_id));
      return finishedItem(row, row.record === null || row.record === undefined ? undefined : str(row.record));
    });
  }

  async leasedCount(runId: string): Promise<number> {
    this.host.assertOpen();
    return num(this.sql.leasedCount.get(runId, Date.now())?.n);
  }

  async hasPending(runId: string, options: { unleased?: boolean } = {}): Promise<boolean> {
    this.host.assertOpen();
    const row = options.unleased ? this.sql.hasUnleased.get(runId, Date.now()) : this.sql.hasPending.get(runId);
    return num(row?.p) === 1;
  }

  async claimOutput(runId: string, workerId: string, leaseMs: number): Promise<WorkerInfo | undefined> {
    this.host.assertOpen();
    const at = Date.now();
    return this.host.transaction(() => {
      this.host.requireRun(runId);
      this.sql.claimOutput.run(workerId, at + leaseMs, runId, workerId, at);
      const owner = this.sql.outputOwner.get(runId)?.output_owner;
      if (owner === workerId) this.ownRecords.hold(runId, workerId);
      else this.ownRecords.release(runId, workerId);
      if (owner === null || owner === undefined) return undefined;
      const row = this.sql.worker.get(str(owner));
      return row
        ? workerFromRow(row, at)
        : { id: str(owner), host: "", pid: 0, startedAt: "", heartbeatAt: "", status: "active", itemsDone: 0, itemsFailed: 0, leased: 0 };
    });
  }

  async takeRate(
    key: string,
    want: { requests: number; tokens: number },
    limits: { requests?: number; tokens?: number },
    windowMs: number,
  ): Promise<{ requests: number; tokens: number; resetInMs: number }> {
    this.host.assertOpen();
    const at = Date.now();
    const start = at - (at % windowMs);
    return this.host.transaction(() => {
      const row = this.sql.rateWindow.get(key);
      const used =
        row && num(row.window_start) === start ? { requests: num(row.requests), tokens: num(row.tokens) } : { requests: 0, tokens: 0 };
      const granted = grantRate(used, want, limits);
      this.sql.setRateWindow.run(key, start, used.requests + granted.requests, used.tokens + granted.tokens);
      return { ...granted, resetInMs: start + windowMs - at };
    });
  }

  async releaseOutput(runId: string, workerId: string): Promise<void> {
    this.host.assertOpen();
    this.host.transaction(() => this.sql.releaseOutput.run(runId, workerId));
    this.ownRecords.release(runId, workerId);
  }
}

function finishedItem(row: Row, record: string | undefined): FinishedItem {
  const item = new StoredFinishedItem(str(row.item_id), str(row.status) as FinishedItem["status"], num(row.finish_seq), record);
  if (row.reason !== null && row.reason !== undefined) item.reason = str(row.reason);
  if (row.line !== null && row.line !== undefined) item.line = num(row.line);
  return item;
}

function workerFromRow(row: Row, at: number): WorkerInfo {
  const heartbeat = num(row.heartbeat_at);
  const leaseMs = num(row.lease_ms);
  const stopped = row.stopped_at !== null && row.stopped_at !== undefined;
  const worker: WorkerInfo = {
    id: str(row.id),
    host: str(row.host),
    pid: num(row.pid),
    startedAt: str(row.started_at),
    heartbeatAt: iso(heartbeat),
    status: stopped ? "stopped" : at - heartbeat > leaseMs ? "lost" : "active",
    itemsDone: num(row.items_done),
    itemsFailed: num(row.items_failed),
    leased: num(row.leased),
  };
  if (row.run_id !== null && row.run_id !== undefined) worker.runId = str(row.run_id);
  return worker;
}

function unknownWorker(workerId: string): StoreError {
  return new StoreError(`no worker "${workerId}" is registered in the store`, {
    hint: "register the worker (registerWorker) before it leases or beats",
  });
}
