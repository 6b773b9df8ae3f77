/**
 * The PostgreSQL run store, for runs shared across machines: `--store postgres://user:pw@host/db`
 * (or `SPRI_STORE`). It implements the whole `RunStore` and the `WorkQueue`, so workers on many
 * machines work one run exactly once; SQLite stays the default for one machine.
 *
 * - `PostgresStore.open(url)` connects and creates or migrates the schema (`postgres-schema.ts`).
 * - Every write method is one transaction; driver errors become `StoreError`s (`postgres-db.ts`).
 * - The URL's password never appears in messages, logs, `RunMeta` or stored rows: the store is
 *   named by `redactUrl(url)` everywhere, and URL passwords in run settings are redacted on write.
 * - JSON values (records, settings, inputs, artifacts) are stored as TEXT so records round-trip
 *   byte for byte; many-row writes are single `unnest` statements, hot ones prepared (named).
 */
import { randomUUID } from "node:crypto";
import { redactUrl } from "../../base/util/redact-url.ts";
import { PostgresCallCache } from "./postgres-cache.ts";
import { PostgresDb, toNumber } from "./postgres-db.ts";
import { rounds } from "./postgres-rows.ts";
import { migrate } from "./postgres-schema.ts";
import { postgresRunStats } from "./postgres-stats.ts";
import { PostgresWorkQueue } from "./postgres-work-queue.ts";
import { insertCalls, noSuchRun, requireRuns, reserveFinishSeqs, writeRecords } from "./postgres-writes.ts";
import {
  assertItemStatus,
  assertRunStatus,
  callsFromGroup,
  itemFromRow,
  newRunMeta,
  now,
  pageOf,
  patchedRun,
  runFromRow,
  runInsertValues,
  runUpdateValues,
  usageFromRow,
} from "./store-rows.ts";
import {
  type ItemCounts,
  type ItemSort,
  type ItemState,
  type ItemStatus,
  type ItemUpdate,
  type NewRun,
  type Page,
  type RunMeta,
  type RunPatch,
  type RunStats,
  type RunStore,
  type RunUsage,
  type StoredCall,
  ITEM_SORTS,
  ITEM_STATUSES,
  StoreError,
} from "./run-store.ts";
import { WorkQueueDelegate } from "./work-queue-delegate.ts";

export { redactUrl };

/** True for locations that name a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

export interface PostgresStoreOptions {
  /** Most connections this process opens (default 10). */
  maxConnections?: number;
}

const ITEM_SELECT = "SELECT i.*, r.record FROM items i LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id";

export class PostgresStore extends WorkQueueDelegate implements RunStore {
  /** The store's URL with the password redacted (safe to print). */
  readonly location: string;
  readonly cache: PostgresCallCache;
  private readonly db: PostgresDb;
  protected readonly queue: PostgresWorkQueue;

  private constructor(db: PostgresDb) {
    super();
    this.db = db;
    this.location = db.location;
    this.cache = new PostgresCallCache(db);
    this.queue = new PostgresWorkQueue(db);
  }

  /** Connects to `url` and brings the schema up to date; rejects with a StoreError it can't. */
  static async open(url: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    if (!isPostgresUrl(url)) throw new StoreError(`${redactUrl(url)} is not a postgres:// URL`, { field: "store" });
    const db = new PostgresDb(url, { max: options.maxConnections });
    try {
      await migrate(db);
    } catch (error) {
      await db.close().catch(() => {});
      throw db.wrap(error);
    }
    return new PostgresStore(db);
  }

  async createRun(run: NewRun): Promise<RunMeta> {
    this.db.assertOpen();
    const meta = newRunMeta(run, randomUUID());
    const { rowCount } = await this.db.query(
      `INSERT INTO runs (id, key, task, status, created_at, updated_at, settings, input_path, output_path, base_model, critic_model, input_complete)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING`,
      runInsertValues(meta),
    );
    if (!rowCount) throw new StoreError(`a run with id "${meta.id}" already exists`);
    return meta;
  }

  async findRunByKey(key: string): Promise<RunMeta | undefined> {
    this.db.assertOpen();
    const { rows } = await this.db.query("SELECT * FROM runs WHERE key = $1 ORDER BY created_at DESC, created_seq DESC LIMIT 1", [key]);
    return rows[0] ? runFromRow(rows[0]) : undefined;
  }

  async getRun(id: string): Promise<RunMeta | undefined> {
    this.db.assertOpen();
    const { rows } = await this.db.query({ name: "spri_get_run", text: "SELECT * FROM runs WHERE id = $1" }, [id]);
    return rows[0] ? runFromRow(rows[0]) : undefined;
  }

  async listRuns(page?: Page): Promise<RunMeta[]> {
    this.db.assertOpen();
    const { rows } = await this.db.query("SELECT * FROM runs ORDER BY created_at DESC, created_seq DESC LIMIT $1 OFFSET $2", pageOf(page));
    return rows.map(runFromRow);
  }

  async updateRun(id: string, patch: RunPatch): Promise<RunMeta> {
    this.db.assertOpen();
    if (patch.status !== undefined) assertRunStatus(patch.status);
    return this.db.transaction(async (client) => {
      const { rows } = await this.db.query("SELECT * FROM runs WHERE id = $1 FOR UPDATE", [id], client);
      if (!rows[0]) throw noSuchRun(this.db, id);
      const next = patchedRun(runFromRow(rows[0]), patch);
      await this.db.query(
        `UPDATE runs SET status = $1, settings = $2, output_path = $3, base_model = $4, critic_model = $5, input_complete = $6, updated_at = $7
         WHERE id = $8`,
        [...runUpdateValues(next), id],
        client,
      );
      return next;
    });
  }

  async setItemStatuses(runId: string, updates: readonly ItemUpdate[]): Promise<void> {
    this.db.assertOpen();
    for (const update of updates) assertItemStatus(update.status);
    const updatedAt = now();
    // Items whose last update here finishes them take finish numbers, like fenced completions, so
    // `finishedSince` sees them too; in the order of those last updates.
    const last = new Map<string, ItemUpdate>();
    for (const update of updates) {
      last.delete(update.itemId);
      last.set(update.itemId, update);
    }
    const finished = [...last.values()].filter((u) => u.status !== "pending");
    await this.db.transaction(async (client) => {
      // The run's counter first (a bulk write holds it to COMMIT), so the numbers go into the rows directly.
      const first = (await reserveFinishSeqs(this.db, client, runId, finished.length, updatedAt)) + 1;
      const finishSeq = new Map(finished.map((u, i) => [u, first + i]));
      // One upsert per round; an item named twice goes into the next round (ON CONFLICT may touch a row once).
      for (const round of rounds(updates)) {
        await this.db.query(
          {
            name: "spri_set_items",
            text: `INSERT INTO items (run_id, item_id, status, reason, attempts, updated_at, finish_seq)
                   SELECT $1, u.item_id, u.status, u.reason, u.attempts, $2, u.finish_seq
                   FROM unnest($3::text[], $4::text[], $5::text[], $6::int4[], $7::int8[]) WITH ORDINALITY
                     AS u(item_id, status, reason, attempts, finish_seq, n)
                   ORDER BY u.n
                   ON CONFLICT (run_id, item_id) DO UPDATE SET
                     status = excluded.status, reason = excluded.reason, attempts = items.attempts + excluded.attempts,
                     updated_at = excluded.updated_at, finish_seq = excluded.finish_seq,
                     lease_owner = CASE WHEN excluded.status = 'pending' THEN items.lease_owner END,
                     lease_expires = CASE WHEN excluded.status = 'pending' THEN items.lease_expires END`,
          },
          [
            runId,
            updatedAt,
            round.map((u) => u.itemId),
            round.map((u) => u.status),
            round.map((u) => u.reason ?? null),
            round.map((u) => (u.status === "pending" ? 0 : 1)),
            round.map((u) => finishSeq.get(u) ?? null),
          ],
          client,
        );
        await writeRecords(
          this.db,
          client,
          round.map((u) => ({ runId, itemId: u.itemId, record: u.record })),
        );
      }
    });
  }

  async itemStatuses(runId: string): Promise<Map<string, ItemStatus>> {
    this.db.assertOpen();
    const { rows } = await this.db.pool
      .query<[string, ItemStatus]>({
        text: "SELECT item_id, status FROM items WHERE run_id = $1",
        values: [runId],
        rowMode: "array",
      })
      .catch((error: unknown) => {
        throw this.db.wrap(error);
      });
    return new Map(rows.map((row) => [row[0], row[1]]));
  }

  async listItems(runId: string, options: Page & { status?: ItemStatus; sort?: ItemSort } = {}): Promise<ItemState[]> {
    this.db.assertOpen();
    const [limit, offset] = pageOf(options);
    if (options.status !== undefined) assertItemStatus(options.status);
    const sort = options.sort ?? "seq";
    if (!ITEM_SORTS.includes(sort)) throw new StoreError(`unknown item sort "${sort}"`, { hint: `use one of ${ITEM_SORTS.join(", ")}` });
    const direction = sort.startsWith("-") ? "DESC" : "ASC";
    const field = sort.replace("-", "");
    const column = field === "id" ? `i.item_id COLLATE "C"` : field === "updated" ? "i.updated_at" : "i.seq";
    const order = `ORDER BY ${column} ${direction}, i.seq ${direction}`;
    const byStatus = options.status !== undefined;
    // The page is chosen among the small item rows first; only its records are read.
    const { rows } = await this.db.query(
      `SELECT i.*, r.record FROM (SELECT * FROM items i WHERE i.run_id = $1${byStatus ? " AND i.status = $4" : ""} ${order} LIMIT $2 OFFSET $3) i
       LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id ${order}`,
      byStatus ? [runId, limit, offset, options.status] : [runId, limit, offset],
    );
    return rows.map(itemFromRow);
  }

  async itemCounts(runId: string): Promise<ItemCounts> {
    this.db.assertOpen();
    const counts: ItemCounts = { pending: 0, done: 0, failed: 0, total: 0 };
    const { rows } = await this.db.query("SELECT status, count(*) AS n FROM items WHERE run_id = $1 GROUP BY status", [runId]);
    for (const row of rows) {
      const status = String(row.status) as ItemStatus;
      const n = toNumber(row.n);
      if (ITEM_STATUSES.includes(status)) counts[status] = n;
      counts.total += n;
    }
    return counts;
  }

  async getItem(runId: string, itemId: string): Promise<ItemState | undefined> {
    this.db.assertOpen();
    const { rows } = await this.db.query(`${ITEM_SELECT} WHERE i.run_id = $1 AND i.item_id = $2`, [runId, itemId]);
    return rows[0] ? itemFromRow(rows[0]) : undefined;
  }

  async recordCalls(calls: readonly StoredCall[]): Promise<void> {
    this.db.assertOpen();
    if (calls.length === 0) return;
    const updatedAt = now();
    await this.db.transaction(async (client) => {
      await insertCalls(this.db, client, calls);
      const runIds = [...new Set(calls.map((c) => c.runId))].sort();
      await this.db.query("UPDATE runs SET updated_at = $1 WHERE id = ANY($2::text[])", [updatedAt, runIds], client);
    });
  }

  async listCalls(runId: string, itemId: string): Promise<StoredCall[]> {
    this.db.assertOpen();
    const { rows } = await this.db.query(
      { name: "spri_list_call_groups", text: "SELECT calls FROM call_groups WHERE run_id = $1 AND item_id = $2 ORDER BY id" },
      [runId, itemId],
    );
    return rows.flatMap((row) => callsFromGroup(runId, itemId, String(row.calls)));
  }

  async runUsage(runId: string): Promise<RunUsage> {
    this.db.assertOpen();
    const { rows } = await this.db.query("SELECT * FROM run_usage WHERE run_id = $1", [runId]);
    return usageFromRow(rows[0]);
  }

  async runStats(runId: string): Promise<RunStats> {
    this.db.assertOpen();
    return postgresRunStats(this.db, runId);
  }

  async putArtifact(runId: string, name: string, value: unknown): Promise<void> {
    this.db.assertOpen();
    if (typeof name !== "string" || name === "") throw new StoreError("an artifact needs a name", { field: "name" });
    const text = JSON.stringify(value);
    if (text === undefined) throw new StoreError(`artifact "${name}" is not JSON-serialisable`, { field: "value" });
    const updatedAt = now();
    await this.db.transaction(async (client) => {
      await requireRuns(this.db, client, [runId]);
      await this.db.query(
        `INSERT INTO artifacts (run_id, name, value, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
        [runId, name, text, updatedAt],
        client,
      );
      await this.db.query("UPDATE runs SET updated_at = $1 WHERE id = $2", [updatedAt, runId], client);
    });
  }

  async getArtifact(runId: string, name: string): Promise<unknown | undefined> {
    this.db.assertOpen();
    const { rows } = await this.db.query("SELECT value FROM artifacts WHERE run_id = $1 AND name = $2", [runId, name]);
    return rows[0] ? (JSON.parse(String(rows[0].value)) as unknown) : undefined;
  }

  /** Commits queued cache puts, then closes the pool. Safe to call twice; other methods reject afterwards. */
  async close(): Promise<void> {
    try {
      await this.cache.flush();
    } finally {
      await this.db.close();
    }
  }
}
