/**
 * The work queue of the PostgreSQL run store (see `work-queue.ts` for the contract).
 *
 * - Hand-out: `SELECT … ORDER BY seq LIMIT n FOR UPDATE SKIP LOCKED` picks unleased pending items
 *   in input order; concurrent workers skip each other's rows instead of waiting, and a row another
 *   worker leased meanwhile is re-checked under its lock (READ COMMITTED), so no item goes to two.
 * - Fencing: each hand-out increments the item's `lease_token`; `completeItems` is one transaction
 *   that writes the results' records, calls and usage and then, last, finishes only the items still
 *   pending under the caller's token; if one is not, the transaction is rolled back and written
 *   again without the results whose lease is lost, so only accepted results leave anything behind.
 * - Clock: lease and heartbeat times are epoch milliseconds of the database's clock
 *   (`clock_timestamp()`), so the workers' clocks need not agree.
 */
import type pg from "pg";
import { NOW_MS, type PostgresDb, sqlState, toNumber } from "./postgres-db.ts";
import { now, type Row } from "./store-rows.ts";
import { insertCalls, noSuchRun, requireRuns, writeRecords } from "./postgres-writes.ts";
import { StoreError } from "./run-store.ts";
import { takePostgresRate } from "./postgres-rate.ts";
import { itemKey, StoredFinishedItem } from "./work-queue.ts";
import type {
  RateLedger,
  Completion,
  FinishedItem,
  ItemResult,
  Lease,
  QueuedItem,
  WorkerInfo,
  WorkerRegistration,
  WorkerStatus,
  WorkQueue,
} from "./work-queue.ts";

/** How long a registered worker that never said its lease time may stay silent before it counts as lost. */
export const DEFAULT_WORKER_LEASE_MS = 60_000;

const ENQUEUE = {
  name: "spri_enqueue",
  text: `INSERT INTO items (run_id, item_id, status, attempts, updated_at, input, line)
         SELECT $1, u.item_id, 'pending', 0, $2, u.input, u.line
         FROM unnest($3::text[], $4::text[], $5::int4[]) WITH ORDINALITY AS u(item_id, input, line, n)
         ORDER BY u.n
         ON CONFLICT (run_id, item_id) DO NOTHING`,
};
/** The results' items still pending under their lease token, as of now (not locked: FINISH_ITEMS fences). */
const STILL_LEASED = {
  name: "spri_still_leased",
  text: `SELECT i.run_id, i.item_id
         FROM unnest($1::text[], $2::text[], $3::int8[]) AS u(run_id, item_id, token)
         JOIN items i ON i.run_id = u.run_id AND i.item_id = u.item_id
         WHERE i.lease_token = u.token AND i.status = 'pending'`,
};
/**
 * The fence and the finish of one run's results ($4, with their tokens): the items still pending
 * under their token are finished and numbered in input order after the run's counter, which the
 * statement bumps by every result ($3). One update of each item: setting the status and the
 * number apart moved every index entry of the row twice.
 */
const FINISH_ITEMS = {
  name: "spri_finish_items",
  text: `WITH bump AS (
           UPDATE runs SET finished_count = finished_count + $3, updated_at = $2 WHERE id = $1
           RETURNING finished_count - $3 AS before
         )
         UPDATE items i SET status = w.status, reason = w.reason, attempts = i.attempts + 1, updated_at = $2,
           lease_owner = NULL, lease_expires = NULL, finish_seq = bump.before + w.n
         FROM (SELECT i2.seq, u.token, u.status, u.reason, row_number() OVER (ORDER BY i2.seq) AS n
               FROM unnest($4::text[], $5::int8[], $6::text[], $7::text[]) AS u(item_id, token, status, reason)
               JOIN items i2 ON i2.run_id = $1 AND i2.item_id = u.item_id) w, bump
         WHERE i.seq = w.seq AND i.lease_token = w.token AND i.status = 'pending'`,
};

/**
 * Thrown inside a completion whose fence turned a result away, to roll it back (a StoreError, so
 * the transaction rethrows it as it is).
 */
class LeaseLost extends StoreError {
  constructor() {
    super("a result's lease was lost");
  }
}
/** PostgreSQL's SQLSTATE for a row whose foreign key has no match (here: an item of an unknown run). */
const FOREIGN_KEY_VIOLATION = "23503";

/**
 * A lease in one statement (one round trip): the worker's proof of life, then the hand-out. The
 * proof of life does not wait for the worker's row: while the worker's own completion holds it
 * (that transaction stamps the heartbeat itself, first), the lease goes on without it; waiting made
 * each lease wait out a whole completion (about 30 ms a lease in a (g) round, pg_stat_statements),
 * with the freed slots idle meanwhile. A worker the store does not have leases nothing.
 */
const LEASE_ITEMS = (byRun: boolean) => ({
  name: byRun ? "spri_lease_run" : "spri_lease_any",
  text: `WITH touched AS (
      UPDATE workers SET heartbeat_ms = ${NOW_MS}, lease_ms = $3
      WHERE id = (SELECT id FROM workers WHERE id = $1 FOR UPDATE SKIP LOCKED)),
    clock AS (SELECT ${NOW_MS} AS ms),
    picked AS (
      SELECT i.seq FROM items i
      ${byRun ? "" : "JOIN runs r ON r.id = i.run_id AND r.status = 'running'"}
      WHERE i.status = 'pending' ${byRun ? "AND i.run_id = $4" : ""}
        AND (i.lease_expires IS NULL OR i.lease_expires <= (SELECT ms FROM clock))
        AND EXISTS (SELECT 1 FROM workers WHERE id = $1)
      ORDER BY i.seq LIMIT $2
      FOR UPDATE OF i SKIP LOCKED)
    UPDATE items SET lease_owner = $1, lease_token = items.lease_token + 1, lease_expires = clock.ms + $3
    FROM picked, clock WHERE items.seq = picked.seq
    RETURNING items.seq, items.run_id, items.item_id, items.lease_token, items.input, items.line`,
});

const WORKER_COLUMNS = `w.*, ${NOW_MS} AS now_ms,
  (SELECT count(*) FROM items i WHERE i.lease_owner = w.id AND i.status = 'pending' AND i.lease_expires > ${NOW_MS}) AS leased`;

export class PostgresWorkQueue implements WorkQueue, RateLedger {
  private readonly db: PostgresDb;

  constructor(db: PostgresDb) {
    this.db = db;
  }

  async enqueueItems(runId: string, items: readonly QueuedItem[]): Promise<number> {
    this.db.assertOpen();
    if (items.length === 0) {
      await requireRuns(this.db, this.db.pool, [runId]);
      return 0;
    }
    const ids: string[] = [];
    const inputs: string[] = [];
    const lines: (number | null)[] = [];
    for (const item of items) {
      ids.push(item.itemId);
      inputs.push(JSON.stringify(item.input ?? null));
      lines.push(item.line ?? null);
    }
    // One statement, so one round trip: its foreign key stands for requireRuns (a run deleted
    // meanwhile fails it). Identity values follow the ORDER BY, so seq keeps input order; items
    // already there stay as they are.
    try {
      const { rowCount } = await this.db.query(ENQUEUE, [runId, now(), ids, inputs, lines]);
      return rowCount ?? 0;
    } catch (error) {
      if (sqlState(error) === FOREIGN_KEY_VIOLATION) {
        throw noSuchRun(this.db, runId);
      }
      throw error;
    }
  }

  async retryFailed(runId: string): Promise<number> {
    this.db.assertOpen();
    const { rowCount } = await this.db.query(
      `UPDATE items SET status = 'pending', reason = NULL, finish_seq = NULL, lease_owner = NULL, lease_expires = NULL, updated_at = $2
       WHERE run_id = $1 AND status = 'failed'`,
      [runId, now()],
    );
    return rowCount ?? 0;
  }

  async registerWorker(worker: WorkerRegistration): Promise<void> {
    this.db.assertOpen();
    if (worker.runId !== undefined) await requireRuns(this.db, this.db.pool, [worker.runId]);
    await this.db.query(
      `INSERT INTO workers (id, host, pid, run_id, status, started_ms, heartbeat_ms, lease_ms)
       VALUES ($1, $2, $3, $4, 'active', ${NOW_MS}, ${NOW_MS}, $5)
       ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, run_id = excluded.run_id,
         status = 'active', heartbeat_ms = excluded.heartbeat_ms`,
      [worker.id, worker.host, worker.pid, worker.runId ?? null, DEFAULT_WORKER_LEASE_MS],
    );
  }

  async heartbeat(workerId: string, leaseMs: number): Promise<{ runId: string; itemId: string }[]> {
    this.db.assertOpen();
    const ms = leaseTime(leaseMs);
    return this.db.transaction(async (client) => {
      await this.touchWorker(client, workerId, ms);
      // Leases still held (the token moves on with any re-lease, and the owner with it) are extended.
      const { rows } = await this.db.query(
        {
          name: "spri_heartbeat",
          text: `UPDATE items SET lease_expires = ${NOW_MS} + $2
                 WHERE lease_owner = $1 AND status = 'pending' RETURNING run_id, item_id, seq`,
        },
        [workerId, ms],
        client,
      );
      return rows.sort((a, b) => toNumber(a.seq) - toNumber(b.seq)).map((r) => ({ runId: String(r.run_id), itemId: String(r.item_id) }));
    });
  }

  async stopWorker(workerId: string): Promise<void> {
    this.db.assertOpen();
    await this.db.transaction(async (client) => {
      // Worker row, then run rows, then items: the lock order of completions (completeItems).
      await this.db.query(`UPDATE workers SET status = 'stopped', heartbeat_ms = ${NOW_MS} WHERE id = $1`, [workerId], client);
      await this.db.query("UPDATE runs SET output_owner = NULL, output_expires = NULL WHERE output_owner = $1", [workerId], client);
      await this.db.query(
        "UPDATE items SET lease_owner = NULL, lease_expires = NULL WHERE lease_owner = $1 AND status = 'pending'",
        [workerId],
        client,
      );
    });
  }

  async listWorkers(runId?: string): Promise<WorkerInfo[]> {
    this.db.assertOpen();
    const { rows } =
      runId === undefined
        ? await this.db.query(`SELECT ${WORKER_COLUMNS} FROM workers w ORDER BY w.heartbeat_ms DESC, w.id`)
        : // A run's workers: registered for it, worked on it, or live workers of every run; counts are the run's own.
          await this.db.query(
            `SELECT w.id, w.host, w.pid, w.run_id, w.status, w.started_ms, w.heartbeat_ms, w.lease_ms, ${NOW_MS} AS now_ms,
               coalesce(wr.items_done, 0) AS items_done, coalesce(wr.items_failed, 0) AS items_failed,
               (SELECT count(*) FROM items i WHERE i.lease_owner = w.id AND i.run_id = $1 AND i.status = 'pending' AND i.lease_expires > ${NOW_MS}) AS leased
             FROM workers w LEFT JOIN worker_runs wr ON wr.worker_id = w.id AND wr.run_id = $1
             WHERE w.run_id = $1 OR wr.worker_id IS NOT NULL OR (w.run_id IS NULL AND w.status = 'active')
             ORDER BY w.heartbeat_ms DESC, w.id`,
            [runId],
          );
    return rows.map(workerFromRow);
  }

  async leaseItems(workerId: string, options: { runId?: string; max: number; leaseMs: number }): Promise<Lease[]> {
    this.db.assertOpen();
    const ms = leaseTime(options.leaseMs);
    const max = Math.max(0, Math.floor(options.max));
    const byRun = options.runId !== undefined;
    const { rows } = await this.db.query(LEASE_ITEMS(byRun), byRun ? [workerId, max, ms, options.runId] : [workerId, max, ms]);
    // An empty hand-out may be an unknown worker's: that is an error, not "nothing to do".
    if (rows.length === 0) await this.requireWorker(workerId);
    return rows
      .sort((a, b) => toNumber(a.seq) - toNumber(b.seq))
      .map((r) => {
        const lease: Lease = {
          runId: String(r.run_id),
          itemId: String(r.item_id),
          token: toNumber(r.lease_token),
          input: r.input === null ? null : (JSON.parse(String(r.input)) as unknown),
        };
        if (r.line !== null) lease.line = toNumber(r.line);
        return lease;
      });
  }

  async releaseItems(workerId: string, leases: readonly Pick<Lease, "runId" | "itemId" | "token">[]): Promise<void> {
    this.db.assertOpen();
    if (leases.length === 0) return;
    await this.db.query(
      `UPDATE items i SET lease_owner = NULL, lease_expires = NULL
       FROM unnest($2::text[], $3::text[], $4::int8[]) AS u(run_id, item_id, token)
       WHERE i.run_id = u.run_id AND i.item_id = u.item_id AND i.lease_token = u.token
         AND i.lease_owner = $1 AND i.status = 'pending'`,
      [workerId, leases.map((l) => l.runId), leases.map((l) => l.itemId), leases.map((l) => l.token)],
    );
  }

  async completeItems(workerId: string, results: readonly ItemResult[]): Promise<Completion> {
    this.db.assertOpen();
    const completion: Completion = { accepted: [], refused: [] };
    if (results.length === 0) return completion;
    // One result per item: a second result for the same item in one batch is refused.
    const byKey = new Map<string, ItemResult>();
    for (const result of results) {
      if (result.status !== "done" && result.status !== "failed") {
        throw new StoreError(`a result must be done or failed, got "${String(result.status)}"`, { field: "status" });
      }
      const key = itemKey(result.runId, result.itemId);
      if (byKey.has(key)) completion.refused.push({ runId: result.runId, itemId: result.itemId });
      else byKey.set(key, result);
    }
    const unique = [...byKey.values()];
    const updatedAt = now();
    // Optimistic first: every result is written and the fence comes last, in the one update that
    // finishes the items (a result whose lease was lost rolls it all back). The usual batch, where
    // every lease still holds, costs one update of each item instead of two (bench (g): a third of
    // the server's CPU for finishing 6,000 items). After a rollback, the results whose lease is
    // already lost are left out first; a lease lost meanwhile rolls back again, and each time one
    // result less can be tried, so this ends.
    let accepted: readonly ItemResult[] = [];
    for (let attempt = 0, claim = false; ; attempt++) {
      try {
        accepted = await this.db.transaction((client) => this.writeResults(client, workerId, unique, updatedAt, claim));
        break;
      } catch (error) {
        const lost = error instanceof LeaseLost || sqlState(error) === FOREIGN_KEY_VIOLATION;
        if (!lost || attempt > unique.length) throw error;
        claim = true;
      }
    }
    const acceptedKeys = new Set(accepted.map((r) => itemKey(r.runId, r.itemId)));
    for (const r of unique) {
      (acceptedKeys.has(itemKey(r.runId, r.itemId)) ? completion.accepted : completion.refused).push({
        runId: r.runId,
        itemId: r.itemId,
      });
    }
    return completion;
  }

  /**
   * Writes the results the fence lets through and returns them; throws LeaseLost (the caller rolls
   * back) when the fence, which comes last, turns one away. With `claim`, the results whose lease
   * is already lost are left out first.
   */
  private async writeResults(
    client: pg.PoolClient,
    workerId: string,
    results: readonly ItemResult[],
    updatedAt: string,
    claim: boolean,
  ): Promise<readonly ItemResult[]> {
    // Lock order of every writer: worker row, then records and calls, then usage, then the run
    // row, then the items' rows.
    await this.db.query(`UPDATE workers SET heartbeat_ms = ${NOW_MS} WHERE id = $1`, [workerId], client);
    let taken = results;
    if (claim) {
      const { rows } = await this.db.query(
        STILL_LEASED,
        [results.map((r) => r.runId), results.map((r) => r.itemId), results.map((r) => r.token)],
        client,
      );
      const won = new Set(rows.map((r) => itemKey(String(r.run_id), String(r.item_id))));
      taken = results.filter((r) => won.has(itemKey(r.runId, r.itemId)));
      if (taken.length === 0) return taken;
    }
    // Records in one order for every writer: a stale result's record is locked until its
    // completion rolls back, so two completions that race on the same items must not take them
    // in opposite orders.
    taken = [...taken].sort((a, b) => compare(a.runId, b.runId) || compare(a.itemId, b.itemId));
    await writeRecords(this.db, client, taken);
    const done = taken.filter((r) => r.status === "done").length;
    await this.db.query(
      "UPDATE workers SET items_done = items_done + $2, items_failed = items_failed + $3 WHERE id = $1",
      [workerId, done, taken.length - done],
      client,
    );
    const perRun = new Map<string, ItemResult[]>();
    for (const r of taken) {
      const ofRun = perRun.get(r.runId);
      if (ofRun) ofRun.push(r);
      else perRun.set(r.runId, [r]);
    }
    const runIds = [...perRun.keys()].sort();
    for (const runId of runIds) {
      const ofRun = perRun.get(runId)!;
      const runDone = ofRun.filter((r) => r.status === "done").length;
      await this.db.query(
        `INSERT INTO worker_runs (worker_id, run_id, items_done, items_failed) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id, worker_id) DO UPDATE SET
           items_done = worker_runs.items_done + excluded.items_done, items_failed = worker_runs.items_failed + excluded.items_failed`,
        [workerId, runId, runDone, ofRun.length - runDone],
        client,
      );
    }
    // The rows other workers write too (usage, per-minute sums, the run's counter) come last, so
    // their locks are held briefly.
    await insertCalls(
      this.db,
      client,
      taken.flatMap((r) => r.calls),
    );
    // Last, in run id order, each run's items are finished and numbered in the statement that bumps
    // the run's counter: its row lock orders the completions of a run, so finish numbers grow in
    // commit order.
    for (const runId of runIds) {
      const ofRun = perRun.get(runId)!;
      const { rowCount } = await this.db.query(
        FINISH_ITEMS,
        [
          runId,
          updatedAt,
          ofRun.length,
          ofRun.map((r) => r.itemId),
          ofRun.map((r) => r.token),
          ofRun.map((r) => r.status),
          ofRun.map((r) => r.reason ?? null),
        ],
        client,
      );
      if (rowCount !== ofRun.length) throw new LeaseLost();
    }
    return taken;
  }

  async finishedSince(runId: string, after: number, limit = 500): Promise<FinishedItem[]> {
    this.db.assertOpen();
    const { rows } = await this.db.query(
      {
        name: "spri_finished_since",
        text: `SELECT i.item_id, i.status, i.finish_seq, i.reason, i.line, r.record
               FROM items i LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id
               WHERE i.run_id = $1 AND i.finish_seq > $2 ORDER BY i.finish_seq LIMIT $3`,
      },
      [runId, Math.floor(after), Math.max(0, Math.floor(limit))],
    );
    return rows.map((r) => {
      const item = new StoredFinishedItem(
        String(r.item_id),
        r.status as "done" | "failed",
        toNumber(r.finish_seq),
        r.record === null ? undefined : String(r.record),
      );
      if (r.reason !== null) item.reason = String(r.reason);
      if (r.line !== null) item.line = toNumber(r.line);
      return item;
    });
  }

  async leasedCount(runId: string): Promise<number> {
    this.db.assertOpen();
    const { rows } = await this.db.query(
      `SELECT count(*) AS n FROM items WHERE run_id = $1 AND status = 'pending' AND lease_expires > ${NOW_MS}`,
      [runId],
    );
    return toNumber(rows[0]?.n);
  }

  async hasPending(runId: string, options: { unleased?: boolean } = {}): Promise<boolean> {
    this.db.assertOpen();
    // Unleased as LEASE_ITEMS picks them: no lease, or one that has expired.
    const { rows } = await this.db.query(
      options.unleased
        ? {
            name: "spri_has_unleased",
            text: `SELECT EXISTS (SELECT 1 FROM items WHERE run_id = $1 AND status = 'pending'
                     AND (lease_expires IS NULL OR lease_expires <= ${NOW_MS})) AS p`,
          }
        : { name: "spri_has_pending", text: "SELECT EXISTS (SELECT 1 FROM items WHERE run_id = $1 AND status = 'pending') AS p" },
      [runId],
    );
    return rows[0]?.p === true;
  }

  async claimOutput(runId: string, workerId: string, leaseMs: number): Promise<WorkerInfo | undefined> {
    this.db.assertOpen();
    const ms = leaseTime(leaseMs);
    return this.db.transaction(async (client) => {
      // Taken when free or expired, renewed by its holder; the row lock makes the check-and-set atomic.
      const { rows } = await this.db.query(
        `UPDATE runs SET output_owner = CASE WHEN output_owner IS NULL OR output_owner = $2 OR output_expires <= ${NOW_MS}
                                           THEN $2 ELSE output_owner END,
                         output_expires = CASE WHEN output_owner IS NULL OR output_owner = $2 OR output_expires <= ${NOW_MS}
                                           THEN ${NOW_MS} + $3 ELSE output_expires END
         WHERE id = $1 RETURNING output_owner`,
        [runId, workerId, ms],
        client,
      );
      if (rows.length === 0) throw noSuchRun(this.db, runId);
      const owner = rows[0]!.output_owner as string | null;
      if (owner === null) return undefined;
      const holder = await this.db.query(`SELECT ${WORKER_COLUMNS} FROM workers w WHERE w.id = $1`, [owner], client);
      return holder.rows[0] ? workerFromRow(holder.rows[0]) : undefined;
    });
  }

  takeRate(
    key: string,
    want: { requests: number; tokens: number },
    limits: { requests?: number; tokens?: number },
    windowMs: number,
  ): Promise<{ requests: number; tokens: number; resetInMs: number }> {
    return takePostgresRate(this.db, key, want, limits, windowMs);
  }

  async releaseOutput(runId: string, workerId: string): Promise<void> {
    this.db.assertOpen();
    await this.db.query("UPDATE runs SET output_owner = NULL, output_expires = NULL WHERE id = $1 AND output_owner = $2", [
      runId,
      workerId,
    ]);
  }

  private async requireWorker(workerId: string): Promise<void> {
    const { rowCount } = await this.db.query({ name: "spri_worker_known", text: "SELECT 1 FROM workers WHERE id = $1" }, [workerId]);
    if (!rowCount) throw this.noSuchWorker(workerId);
  }

  private noSuchWorker(workerId: string): StoreError {
    return new StoreError(`no worker with id "${workerId}" in ${this.db.location}`, { hint: "register the worker first" });
  }

  /** Records a sign of life of a registered worker and the lease time it now uses. */
  private async touchWorker(client: Parameters<PostgresDb["query"]>[2], workerId: string, leaseMs: number): Promise<void> {
    const { rowCount } = await this.db.query(
      { name: "spri_touch_worker", text: `UPDATE workers SET heartbeat_ms = ${NOW_MS}, lease_ms = $2 WHERE id = $1` },
      [workerId, leaseMs],
      client,
    );
    if (!rowCount) throw this.noSuchWorker(workerId);
  }
}

function leaseTime(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0)
    throw new StoreError(`a lease time must be a positive number of milliseconds, got ${ms}`, { field: "leaseMs" });
  return Math.ceil(ms);
}

function workerFromRow(row: Row): WorkerInfo {
  const nowMs = toNumber(row.now_ms);
  const heartbeat = toNumber(row.heartbeat_ms);
  const status: WorkerStatus = row.status === "stopped" ? "stopped" : nowMs - heartbeat > toNumber(row.lease_ms) ? "lost" : "active";
  const info: WorkerInfo = {
    id: String(row.id),
    host: String(row.host),
    pid: toNumber(row.pid),
    startedAt: new Date(toNumber(row.started_ms)).toISOString(),
    heartbeatAt: new Date(heartbeat).toISOString(),
    status,
    itemsDone: toNumber(row.items_done),
    itemsFailed: toNumber(row.items_failed),
    leased: toNumber(row.leased),
  };
  if (row.run_id !== null && row.run_id !== undefined) info.runId = String(row.run_id);
  return info;
}

/** Code-unit order, as `Array.prototype.sort` orders strings by default (the run ids above). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
