/**
 * The default run store: one SQLite file (`spri.db` in the working directory) through Node's
 * built-in `node:sqlite`, holding runs, item statuses, calls, usage and the call cache.
 *
 * Durability: WAL journal, `synchronous=NORMAL`, and every write method in one transaction
 * (`BEGIN IMMEDIATE`), so killing the process at any moment leaves the last committed state (a
 * power cut may lose the latest commits, never consistency). Several processes may share the file;
 * writers wait up to `busyTimeoutMs` for each other.
 *
 * Schema changes: `MIGRATIONS[i]` takes the schema from version i to i + 1 (`PRAGMA user_version`);
 * opening a file runs the missing ones in one transaction. Add a migration, never edit a shipped one.
 */
import { randomUUID } from "node:crypto";
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
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
  ITEM_STATUSES,
  StoreError,
} from "./run-store.ts";
import { summarizeRun } from "./run-stats.ts";
import { SqliteCallCache } from "./sqlite-call-cache.ts";
import { loadSqlite, whileLocked } from "./sqlite-module.ts";
import { migrate } from "./sqlite-schema.ts";
import { prepareStatements, type Statements, sortedItemsSql } from "./sqlite-statements.ts";
import { SqliteWorkQueue } from "./sqlite-work-queue.ts";
import {
  assertItemStatus,
  assertRunStatus,
  callGroupRows,
  callsFromGroup,
  itemFromRow,
  newRunMeta,
  now,
  num,
  orNull,
  pageOf,
  patchedRun,
  recordSummary,
  type Row,
  runFromRow,
  runInsertValues,
  runUpdateValues,
  str,
  usageFromRow,
  usageOf,
  callMinutesOf,
} from "./store-rows.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";
import { WorkQueueDelegate } from "./work-queue-delegate.ts";

export { APPLICATION_ID, MIGRATIONS, migrate, SCHEMA_VERSION } from "./sqlite-schema.ts";

export const DEFAULT_DB_FILE = "spri.db";

export interface SqliteStoreOptions {
  /** How long a write waits for another process's write to finish (default 10,000 ms). */
  busyTimeoutMs?: number;
  /**
   * WAL checkpoints on a thread of their own once the store writes often (see wal-checkpointer.ts).
   * Default true; a store in memory never has one.
   */
  backgroundCheckpoints?: boolean;
  /** Time between background checkpoints, in ms (default: wal-checkpointer.ts). */
  checkpointIntervalMs?: number;
  /** How stale the cache's view of other processes' puts may be (SqliteCallCacheOptions; default 20 ms). */
  cacheForeignPutsWithinMs?: number;
}

/** Write transactions after which a store starts its checkpoint thread: busy runs only, not short commands. */
const CHECKPOINT_THREAD_AFTER_WRITES = 64;

/** node:sqlite binds no booleans: flags are stored as 1 and 0. */
function sqliteValues(values: readonly unknown[]): SQLInputValue[] {
  return values.map((v) => (v === true ? 1 : v === false ? 0 : v)) as SQLInputValue[];
}

/** Runs `fn` in one write transaction; rolls back and rethrows when it throws. */
function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const value = fn();
    db.exec("COMMIT");
    return value;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

export class SqliteStore extends WorkQueueDelegate implements RunStore {
  readonly path: string;
  readonly cache: SqliteCallCache;
  /** Commits run on the event loop (see `WorkQueue.writesBlock`). */
  readonly writesBlock = true;
  private readonly db: DatabaseSync;
  private readonly sql: Statements;
  private closed = false;
  /** Write transactions so far (`Infinity` when the store never starts a checkpoint thread). */
  private writes: number;
  private checkpointer: WalCheckpointer | undefined;
  private readonly checkpointIntervalMs: number | undefined;

  constructor(path: string = DEFAULT_DB_FILE, options: SqliteStoreOptions = {}) {
    super();
    const { DatabaseSync } = loadSqlite();
    this.path = path;
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path);
    } catch (error) {
      throw new StoreError(`cannot open the run store ${path}: ${(error as Error).message}`, {
        file: path,
        hint: "check that the directory exists and is writable",
        cause: error,
      });
    }
    this.db = db;
    this.writes = options.backgroundCheckpoints === false || isInMemory(path) ? Infinity : 0;
    this.checkpointIntervalMs = options.checkpointIntervalMs;
    try {
      const busyTimeoutMs = Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000));
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
      const mode = str(whileLocked(busyTimeoutMs, () => db.prepare("PRAGMA journal_mode = WAL").get())?.journal_mode);
      if (mode !== "wal" && mode !== "memory") {
        throw new StoreError(`${path} could not switch to WAL journaling (got ${mode})`, { file: path });
      }
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec("PRAGMA foreign_keys = ON");
      migrate(db, path);
      this.sql = prepareStatements(db);
    } catch (error) {
      db.close();
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot use the run store ${path}: ${(error as Error).message}`, {
        file: path,
        hint: "point --db at a spri database or a new file",
        cause: error,
      });
    }
    this.cache = new SqliteCallCache(db, {
      assertOpen: () => this.assertOpen(),
      onCommit: () => this.wrote(),
      foreignPutsWithinMs: options.cacheForeignPutsWithinMs,
    });
    this.queue = new SqliteWorkQueue({
      db,
      assertOpen: () => this.assertOpen(),
      requireRun: (id) => this.assertRun(id),
      writeCalls: (calls) => this.writeCalls(calls),
      transaction: (fn) => {
        const value = inTransaction(db, fn);
        this.wrote();
        return value;
      },
    });
  }

  /** The thread that runs WAL checkpoints, once started (until then, commits run them). */
  get backgroundCheckpointer(): WalCheckpointer | undefined {
    return this.checkpointer;
  }

  private wrote(): void {
    if (++this.writes !== CHECKPOINT_THREAD_AFTER_WRITES) return;
    this.db.exec("PRAGMA wal_autocheckpoint = 0");
    this.checkpointer = new WalCheckpointer(this.path, {
      intervalMs: this.checkpointIntervalMs,
      onFailure: () => {
        this.checkpointer = undefined;
        if (!this.closed) this.db.exec("PRAGMA wal_autocheckpoint = 1000");
      },
    });
  }

  protected readonly queue: SqliteWorkQueue;

  private assertOpen(): void {
    if (this.closed) throw new StoreError(`the run store ${this.path} is closed`);
  }

  private requireRun(id: string): RunMeta {
    const row = this.sql.getRun.get(id);
    if (!row) throw this.noRun(id);
    return runFromRow(row);
  }

  /** `requireRun` for writes that need the run to exist, not its settings (read and parsed at every commit before). */
  private assertRun(id: string): void {
    if (!this.sql.runExists.get(id)) throw this.noRun(id);
  }

  private noRun(id: string): StoreError {
    return new StoreError(`no run with id "${id}" in ${this.path}`);
  }

  async createRun(run: NewRun): Promise<RunMeta> {
    this.assertOpen();
    const meta = newRunMeta(run, randomUUID());
    inTransaction(this.db, () => {
      if (this.sql.getRun.get(meta.id)) throw new StoreError(`a run with id "${meta.id}" already exists`);
      this.sql.insertRun.run(...sqliteValues(runInsertValues(meta)));
    });
    return meta;
  }

  async findRunByKey(key: string): Promise<RunMeta | undefined> {
    this.assertOpen();
    const row = this.sql.findRunByKey.get(key);
    return row ? runFromRow(row) : undefined;
  }

  async getRun(id: string): Promise<RunMeta | undefined> {
    this.assertOpen();
    const row = this.sql.getRun.get(id);
    return row ? runFromRow(row) : undefined;
  }

  async listRuns(page?: Page): Promise<RunMeta[]> {
    this.assertOpen();
    return this.sql.listRuns.all(...pageOf(page)).map(runFromRow);
  }

  async updateRun(id: string, patch: RunPatch): Promise<RunMeta> {
    this.assertOpen();
    if (patch.status !== undefined) assertRunStatus(patch.status);
    return inTransaction(this.db, () => {
      const next = patchedRun(this.requireRun(id), patch);
      this.sql.updateRun.run(...sqliteValues(runUpdateValues(next)), id);
      return next;
    });
  }

  async setItemStatuses(runId: string, updates: readonly ItemUpdate[]): Promise<void> {
    this.assertOpen();
    for (const update of updates) assertItemStatus(update.status);
    const updatedAt = now();
    inTransaction(this.db, () => {
      this.assertRun(runId);
      // Finished items join the run's finish order (see WorkQueue.finishedSince) like fenced completions.
      let finished = num(this.sql.finishedCount.get(runId)?.finished_count);
      for (const { itemId, status, reason, record } of updates) {
        const finishSeq = status === "pending" ? null : ++finished;
        this.sql.upsertItem.run(runId, itemId, status, orNull(reason), status === "pending" ? 0 : 1, updatedAt, finishSeq);
        if (record === undefined) this.sql.deleteRecord.run(runId, itemId);
        else this.sql.upsertRecord.run(runId, itemId, JSON.stringify(record), recordSummary(record));
      }
      this.sql.setFinishedCount.run(finished, runId);
      this.sql.touchRun.run(updatedAt, runId);
    });
  }

  async itemStatuses(runId: string): Promise<Map<string, ItemStatus>> {
    this.assertOpen();
    const statement = this.sql.itemStatuses;
    const statuses = new Map<string, ItemStatus>();
    if (typeof statement.setReturnArrays === "function") {
      statement.setReturnArrays(true);
      try {
        for (const row of statement.all(runId) as unknown as [string, ItemStatus][]) statuses.set(row[0], row[1]);
      } finally {
        statement.setReturnArrays(false);
      }
    } else {
      for (const row of statement.all(runId)) statuses.set(str(row.item_id), str(row.status) as ItemStatus);
    }
    return statuses;
  }

  async listItems(runId: string, options: Page & { status?: ItemStatus; sort?: ItemSort } = {}): Promise<ItemState[]> {
    this.assertOpen();
    const [limit, offset] = pageOf(options);
    if (options.status !== undefined) assertItemStatus(options.status);
    let rows: Row[];
    if (options.sort !== undefined && options.sort !== "seq") {
      rows = this.sortedItems(options.sort, options.status !== undefined).all(
        ...(options.status === undefined ? [runId, limit, offset] : [runId, options.status, limit, offset]),
      );
    } else if (options.status === undefined) rows = this.sql.listItems.all(runId, limit, offset);
    else rows = this.sql.listItemsByStatus.all(runId, options.status, limit, offset);
    return rows.map(itemFromRow);
  }

  async getItem(runId: string, itemId: string): Promise<ItemState | undefined> {
    this.assertOpen();
    const row = this.sql.getItem.get(runId, itemId);
    return row ? itemFromRow(row) : undefined;
  }

  private readonly sortedStatements = new Map<string, StatementSync>();

  /** The `listItems` statement for a sort other than first-seen order (prepared once per shape). */
  private sortedItems(sort: ItemSort, byStatus: boolean): StatementSync {
    const key = `${sort}/${byStatus}`;
    let statement = this.sortedStatements.get(key);
    if (!statement) this.sortedStatements.set(key, (statement = this.db.prepare(sortedItemsSql(sort, byStatus))));
    return statement;
  }

  async itemCounts(runId: string): Promise<ItemCounts> {
    this.assertOpen();
    const counts: ItemCounts = { pending: 0, done: 0, failed: 0, total: 0 };
    for (const row of this.sql.itemCounts.all(runId)) {
      const status = str(row.status) as ItemStatus;
      const n = num(row.n);
      if (ITEM_STATUSES.includes(status)) counts[status] = n;
      counts.total += n;
    }
    return counts;
  }

  async recordCalls(calls: readonly StoredCall[]): Promise<void> {
    this.assertOpen();
    if (calls.length === 0) return;
    inTransaction(this.db, () => this.writeCalls(calls));
  }

  /** Inserts calls and adds them to their runs' usage; the caller holds the write transaction. */
  private writeCalls(calls: readonly StoredCall[]): void {
    if (calls.length === 0) return;
    const groups = callGroupRows(calls);
    const usage = usageOf(calls);
    const updatedAt = now();
    for (const runId of usage.keys()) this.assertRun(runId);
    for (const group of groups) this.sql.insertCallGroup.run(...group);
    for (const [runId, u] of usage) {
      this.sql.addUsage.run(runId, ...u);
      this.sql.touchRun.run(updatedAt, runId);
    }
    for (const minute of callMinutesOf(calls)) this.sql.addCallMinute.run(...minute);
  }

  async listCalls(runId: string, itemId: string): Promise<StoredCall[]> {
    this.assertOpen();
    return this.sql.listCallGroups.all(runId, itemId).flatMap((row) => callsFromGroup(runId, itemId, str(row.calls)));
  }

  async runUsage(runId: string): Promise<RunUsage> {
    this.assertOpen();
    return usageFromRow(this.sql.runUsage.get(runId));
  }

  async runStats(runId: string): Promise<RunStats> {
    this.assertOpen();
    return summarizeRun(this.sql.recordSummary.all(runId), this.sql.callSummary.all(runId), this.sql.failures.all(runId));
  }

  async putArtifact(runId: string, name: string, value: unknown): Promise<void> {
    this.assertOpen();
    if (typeof name !== "string" || name === "") throw new StoreError("an artifact needs a name", { field: "name" });
    const text = JSON.stringify(value);
    if (text === undefined) throw new StoreError(`artifact "${name}" is not JSON-serialisable`, { field: "value" });
    const updatedAt = now();
    inTransaction(this.db, () => {
      this.assertRun(runId);
      this.sql.putArtifact.run(runId, name, text, updatedAt);
      this.sql.touchRun.run(updatedAt, runId);
    });
  }

  async getArtifact(runId: string, name: string): Promise<unknown | undefined> {
    this.assertOpen();
    const row = this.sql.getArtifact.get(runId, name);
    return row ? (JSON.parse(str(row.value)) as unknown) : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      this.cache.flushNow();
    } finally {
      this.closed = true;
      const checkpointer = this.checkpointer;
      this.checkpointer = undefined;
      try {
        await checkpointer?.stop();
      } finally {
        this.db.close();
      }
    }
  }
}

function isInMemory(path: string): boolean {
  return path === ":memory:" || path === "" || path.startsWith("file::memory:") || /[?&]mode=memory\b/.test(path);
}
