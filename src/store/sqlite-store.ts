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
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from "node:sqlite";
import type { ItemRecord } from "../io/records.ts";
import { storedRequestJson } from "../models/messages-json.ts";
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
  type RunStatus,
  type RunStore,
  type RunUsage,
  type StoredCall,
  ITEM_SORTS,
  ITEM_STATUSES,
  RUN_STATUSES,
  StoreError,
  redactSettings,
} from "./run-store.ts";
import { SqliteCallCache } from "./sqlite-call-cache.ts";
import { loadSqlite } from "./sqlite-module.ts";
import { SqliteWorkQueue, WORK_QUEUE_MIGRATION } from "./sqlite-work-queue.ts";
import { WalCheckpointer } from "./wal-checkpointer.ts";
import { WorkQueueDelegate } from "./work-queue-delegate.ts";

export const DEFAULT_DB_FILE = "spri.db";

/** `PRAGMA application_id` of spri databases ("SPRI" in ASCII), so we never write into a stranger's file. */
export const APPLICATION_ID = 0x53505249;

/** The record fields `runStats` reads, as indexed by migration 2 (and queried with the same text). */
const RECORD_SUMMARY =
  "json_extract(record, '$.iteration_principle'), json_extract(record, '$.iteration_response'), json_extract(record, '$.principles_critique_scores'), json_extract(record, '$.response_critique_scores')";
/** The call columns `runStats` reads, as indexed by migration 2. */
const CALL_SUMMARY = "step, substr(started_at, 1, 16), cache_hit, input_tokens, output_tokens, cost_usd, latency_ms, error IS NOT NULL";

/** MIGRATIONS[i] upgrades schema version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id            TEXT PRIMARY KEY,
    key           TEXT NOT NULL,
    task          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stopped')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    settings      TEXT NOT NULL,
    input_path    TEXT NOT NULL,
    output_path   TEXT,
    base_model    TEXT NOT NULL,
    critic_model  TEXT
  );
  CREATE INDEX runs_by_key ON runs (key, created_at);
  CREATE INDEX runs_by_created ON runs (created_at);

  -- Small rows: resuming reads every item's status, so records live in item_records.
  CREATE TABLE items (
    seq         INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    reason      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    updated_at  TEXT NOT NULL
  );
  CREATE UNIQUE INDEX items_by_key ON items (run_id, item_id);
  -- Covers itemStatuses; with the implicit seq, also listItems by status in first-seen order.
  CREATE INDEX items_by_status ON items (run_id, status, item_id);
  CREATE INDEX items_by_run ON items (run_id, seq);

  CREATE TABLE item_records (
    run_id   TEXT NOT NULL,
    item_id  TEXT NOT NULL,
    record   TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id),
    FOREIGN KEY (run_id, item_id) REFERENCES items (run_id, item_id) ON DELETE CASCADE
  );

  CREATE TABLE calls (
    id             INTEGER PRIMARY KEY,
    run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id        TEXT NOT NULL,
    step           TEXT NOT NULL,
    iteration      INTEGER NOT NULL,
    attempt        INTEGER NOT NULL,
    role           TEXT NOT NULL,
    model          TEXT NOT NULL,
    endpoint       TEXT NOT NULL,
    request        TEXT NOT NULL,
    response       TEXT,
    parsed         TEXT,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    latency_ms     REAL NOT NULL,
    finish_reason  TEXT,
    cache_hit      INTEGER NOT NULL CHECK (cache_hit IN (0, 1)),
    error          TEXT,
    cost_usd       REAL,
    started_at     TEXT NOT NULL
  );
  CREATE INDEX calls_by_item ON calls (run_id, item_id, id);

  CREATE TABLE run_usage (
    run_id          TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    calls           INTEGER NOT NULL,
    cache_hits      INTEGER NOT NULL,
    errors          INTEGER NOT NULL,
    input_tokens    INTEGER NOT NULL,
    output_tokens   INTEGER NOT NULL,
    cost_usd        REAL NOT NULL,
    priced_calls    INTEGER NOT NULL,
    unpriced_calls  INTEGER NOT NULL
  );

  CREATE TABLE call_cache (
    key               TEXT PRIMARY KEY,
    endpoint          TEXT NOT NULL,
    model_id          TEXT NOT NULL,
    template_version  TEXT,
    text              TEXT NOT NULL,
    finish_reason     TEXT NOT NULL,
    model             TEXT NOT NULL,
    input_tokens      INTEGER NOT NULL,
    output_tokens     INTEGER NOT NULL,
    latency_ms        REAL NOT NULL,
    created_at        TEXT NOT NULL
  );
  `,
  // 1 → 2: the viewer's aggregates (runStats) read these indexes only, never the records or the
  // calls' texts, so they stay fast for runs of 100,000 items. The statements name them (INDEXED
  // BY) and use the same expressions.
  `
  CREATE INDEX item_records_summary ON item_records (run_id, ${RECORD_SUMMARY});
  CREATE INDEX calls_summary ON calls (run_id, ${CALL_SUMMARY});
  `,
  // 2 → 3: named JSON artifacts of a run (e.g. a discovery run's constitution and map).
  `
  CREATE TABLE artifacts (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  `,
  // 3 → 4: the work queue (leases, fencing tokens, finish order, workers).
  WORK_QUEUE_MIGRATION,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

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
}

/** Write transactions after which a store starts its checkpoint thread: busy runs only, not short commands. */
const CHECKPOINT_THREAD_AFTER_WRITES = 64;

/**
 * Brings the schema of `db` up to `SCHEMA_VERSION`. Refuses files that belong to another
 * application, and files written by a newer spri (their schema is unknown to this one).
 */
export function migrate(db: DatabaseSync, location = "the database"): void {
  const check = () => {
    const version = pragmaNumber(db, "user_version");
    const appId = pragmaNumber(db, "application_id");
    const foreign =
      (appId !== 0 && appId !== APPLICATION_ID) ||
      (appId === 0 && version === 0 && db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").get()?.n !== 0);
    if (foreign) {
      throw new StoreError(`${location} is not a spri database`, {
        file: location,
        hint: "point --db at a new file or at a database spri created",
      });
    }
    if (version > SCHEMA_VERSION) {
      throw new StoreError(`${location} has schema version ${version}; this spri knows up to ${SCHEMA_VERSION}`, {
        file: location,
        hint: "upgrade spri, or use another database file",
      });
    }
    return version;
  };
  if (check() === SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    // Another process may have migrated while we waited for the write lock.
    for (let version = check(); version < SCHEMA_VERSION; version++) {
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
    }
    db.exec(`PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function pragmaNumber(db: DatabaseSync, name: string): number {
  const row = db.prepare(`PRAGMA ${name}`).get();
  return Number(row?.[name] ?? 0);
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

type Row = Record<string, SQLOutputValue>;

const str = (value: SQLOutputValue | undefined): string => (value === null || value === undefined ? "" : String(value));
const optStr = (value: SQLOutputValue | undefined): string | undefined =>
  value === null || value === undefined ? undefined : String(value);
const num = (value: SQLOutputValue | undefined): number => (value === null || value === undefined ? 0 : Number(value));
const optNum = (value: SQLOutputValue | undefined): number | undefined =>
  value === null || value === undefined ? undefined : Number(value);
const orNull = <T extends SQLInputValue>(value: T | undefined): T | null => (value === undefined ? null : value);
const now = () => new Date().toISOString();

function pageOf(page: Page | undefined): [number, number] {
  const limit = Math.max(0, Math.floor(page?.limit ?? 100));
  const offset = Math.max(0, Math.floor(page?.offset ?? 0));
  return [limit, offset];
}

function runFromRow(row: Row): RunMeta {
  const run: RunMeta = {
    id: str(row.id),
    key: str(row.key),
    task: str(row.task),
    status: str(row.status) as RunStatus,
    createdAt: str(row.created_at),
    updatedAt: str(row.updated_at),
    settings: JSON.parse(str(row.settings)) as Record<string, unknown>,
    inputPath: str(row.input_path),
    baseModel: str(row.base_model),
  };
  const outputPath = optStr(row.output_path);
  if (outputPath !== undefined) run.outputPath = outputPath;
  const criticModel = optStr(row.critic_model);
  if (criticModel !== undefined) run.criticModel = criticModel;
  if (num(row.input_complete) === 1) run.inputComplete = true;
  return run;
}

/** The call columns, in insert order. */
const CALL_COLUMNS = [
  "run_id",
  "item_id",
  "step",
  "iteration",
  "attempt",
  "role",
  "model",
  "endpoint",
  "request",
  "response",
  "parsed",
  "input_tokens",
  "output_tokens",
  "latency_ms",
  "finish_reason",
  "cache_hit",
  "error",
  "cost_usd",
  "started_at",
] as const;

/** Only the fields a CallRecord defines reach the database; anything else on the object is dropped. */
function callValues(call: StoredCall): SQLInputValue[] {
  if (typeof call.runId !== "string" || call.runId === "") {
    throw new StoreError(`call for item "${call.itemId}" (${call.step}) has no runId`, { field: "runId" });
  }
  const request = storedRequestJson(call.request.messages, { sampling: pickSampling(call.request.sampling), schema: call.request.schema });
  return [
    call.runId,
    call.itemId,
    call.step,
    call.iteration,
    call.attempt ?? 0,
    call.role,
    call.model,
    call.endpoint,
    request,
    call.response,
    call.parsed === undefined ? null : JSON.stringify(call.parsed),
    call.usage.inputTokens,
    call.usage.outputTokens,
    call.latencyMs,
    orNull(call.finishReason),
    call.cacheHit ? 1 : 0,
    orNull(call.error),
    orNull(call.costUsd),
    call.startedAt,
  ];
}

function pickSampling(sampling: StoredCall["request"]["sampling"] | undefined): StoredCall["request"]["sampling"] {
  const s = sampling ?? {};
  return {
    temperature: s.temperature,
    topP: s.topP,
    topK: s.topK,
    maxTokens: s.maxTokens,
    seed: s.seed,
    stop: s.stop,
  };
}

function callFromRow(row: Row): StoredCall {
  const call: StoredCall = {
    runId: str(row.run_id),
    itemId: str(row.item_id),
    step: str(row.step),
    iteration: num(row.iteration),
    attempt: num(row.attempt),
    role: str(row.role) as StoredCall["role"],
    model: str(row.model),
    endpoint: str(row.endpoint),
    request: JSON.parse(str(row.request)) as StoredCall["request"],
    response: optStr(row.response) ?? null,
    usage: { inputTokens: num(row.input_tokens), outputTokens: num(row.output_tokens) },
    latencyMs: num(row.latency_ms),
    cacheHit: num(row.cache_hit) === 1,
    startedAt: str(row.started_at),
  };
  const parsed = optStr(row.parsed);
  if (parsed !== undefined) call.parsed = JSON.parse(parsed) as StoredCall["parsed"];
  const finishReason = optStr(row.finish_reason);
  if (finishReason !== undefined) call.finishReason = finishReason;
  const error = optStr(row.error);
  if (error !== undefined) call.error = error;
  const costUsd = optNum(row.cost_usd);
  if (costUsd !== undefined) call.costUsd = costUsd;
  return call;
}

/** A record's score list as indexed (JSON text): numbers, and null for unscored critiques. */
function parseScores(value: SQLOutputValue | undefined): (number | null)[] {
  if (typeof value !== "string") return [];
  try {
    const list = JSON.parse(value) as unknown;
    return Array.isArray(list) ? list.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null)) : [];
  } catch {
    return [];
  }
}

const STEP_ORDER = [
  "principle.generate",
  "principle.critique",
  "principle.refine",
  "response.generate",
  "response.critique",
  "response.refine",
];
function stepRank(step: string): number {
  const rank = STEP_ORDER.indexOf(step);
  return rank < 0 ? STEP_ORDER.length : rank;
}

function itemFromRow(row: Row): ItemState {
  const item: ItemState = {
    runId: str(row.run_id),
    itemId: str(row.item_id),
    status: str(row.status) as ItemStatus,
    attempts: num(row.attempts),
    updatedAt: str(row.updated_at),
  };
  const reason = optStr(row.reason);
  if (reason !== undefined) item.reason = reason;
  const record = optStr(row.record);
  if (record !== undefined) item.record = JSON.parse(record) as ItemRecord;
  return item;
}

function prepareStatements(db: DatabaseSync) {
  const p = (text: string) => db.prepare(text);
  return {
    insertRun: p(
      `INSERT INTO runs (id, key, task, status, created_at, updated_at, settings, input_path, output_path, base_model, critic_model)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getRun: p("SELECT * FROM runs WHERE id = ?"),
    findRunByKey: p("SELECT * FROM runs WHERE key = ? ORDER BY created_at DESC, rowid DESC LIMIT 1"),
    listRuns: p("SELECT * FROM runs ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"),
    updateRun: p(
      `UPDATE runs SET status = ?, settings = ?, output_path = ?, base_model = ?, critic_model = ?, input_complete = ?, updated_at = ?
       WHERE id = ?`,
    ),
    touchRun: p("UPDATE runs SET updated_at = ? WHERE id = ?"),
    upsertItem: p(
      `INSERT INTO items (run_id, item_id, status, reason, attempts, updated_at, finish_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id, item_id) DO UPDATE SET
         status = excluded.status, reason = excluded.reason,
         attempts = items.attempts + excluded.attempts, updated_at = excluded.updated_at, finish_seq = excluded.finish_seq,
         lease_owner = NULL, lease_expires = NULL`,
    ),
    finishedCount: p("SELECT finished_count FROM runs WHERE id = ?"),
    setFinishedCount: p("UPDATE runs SET finished_count = ? WHERE id = ?"),
    upsertRecord: p(
      `INSERT INTO item_records (run_id, item_id, record) VALUES (?, ?, ?)
       ON CONFLICT (run_id, item_id) DO UPDATE SET record = excluded.record`,
    ),
    deleteRecord: p("DELETE FROM item_records WHERE run_id = ? AND item_id = ?"),
    itemStatuses: p("SELECT item_id, status FROM items WHERE run_id = ?"),
    listItems: p(
      `SELECT i.*, r.record FROM items i LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id
       WHERE i.run_id = ? ORDER BY i.seq LIMIT ? OFFSET ?`,
    ),
    listItemsByStatus: p(
      `SELECT i.*, r.record FROM items i LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id
       WHERE i.run_id = ? AND i.status = ? ORDER BY i.seq LIMIT ? OFFSET ?`,
    ),
    itemCounts: p("SELECT status, count(*) AS n FROM items WHERE run_id = ? GROUP BY status"),
    getItem: p(
      `SELECT i.*, r.record FROM items i LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id
       WHERE i.run_id = ? AND i.item_id = ?`,
    ),
    insertCall: p(`INSERT INTO calls (${CALL_COLUMNS.join(", ")}) VALUES (${CALL_COLUMNS.map(() => "?").join(", ")})`),
    addUsage: p(
      `INSERT INTO run_usage (run_id, calls, cache_hits, errors, input_tokens, output_tokens, cost_usd, priced_calls, unpriced_calls)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET
         calls = run_usage.calls + excluded.calls,
         cache_hits = run_usage.cache_hits + excluded.cache_hits,
         errors = run_usage.errors + excluded.errors,
         input_tokens = run_usage.input_tokens + excluded.input_tokens,
         output_tokens = run_usage.output_tokens + excluded.output_tokens,
         cost_usd = run_usage.cost_usd + excluded.cost_usd,
         priced_calls = run_usage.priced_calls + excluded.priced_calls,
         unpriced_calls = run_usage.unpriced_calls + excluded.unpriced_calls`,
    ),
    listCalls: p("SELECT * FROM calls WHERE run_id = ? AND item_id = ? ORDER BY id"),
    recordSummary: p(
      `SELECT ${RECORD_SUMMARY}, count(*) AS n FROM item_records INDEXED BY item_records_summary WHERE run_id = ? GROUP BY 1, 2, 3, 4`,
    ),
    failures: p(
      `SELECT coalesce(reason, '') AS reason, count(*) AS n FROM items WHERE run_id = ? AND status = 'failed'
       GROUP BY reason ORDER BY n DESC, reason LIMIT 50`,
    ),
    callSummary: p(
      `SELECT step, substr(started_at, 1, 16) AS minute, count(*) AS calls, sum(error IS NOT NULL) AS errors, sum(cache_hit) AS cache_hits,
         sum(CASE WHEN cache_hit = 0 THEN input_tokens ELSE 0 END) AS input_tokens,
         sum(CASE WHEN cache_hit = 0 THEN output_tokens ELSE 0 END) AS output_tokens,
         sum(CASE WHEN cache_hit = 0 THEN coalesce(cost_usd, 0) ELSE 0 END) AS cost_usd,
         sum(latency_ms) AS latency_ms
       FROM calls INDEXED BY calls_summary WHERE run_id = ? GROUP BY step, substr(started_at, 1, 16)`,
    ),
    runUsage: p("SELECT * FROM run_usage WHERE run_id = ?"),
    putArtifact: p(
      `INSERT INTO artifacts (run_id, name, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    getArtifact: p("SELECT value FROM artifacts WHERE run_id = ? AND name = ?"),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

export class SqliteStore extends WorkQueueDelegate implements RunStore {
  readonly path: string;
  readonly cache: SqliteCallCache;
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
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10_000))}`);
      const mode = str(db.prepare("PRAGMA journal_mode = WAL").get()?.journal_mode);
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
    this.cache = new SqliteCallCache(db, { assertOpen: () => this.assertOpen(), onCommit: () => this.wrote() });
    this.queue = new SqliteWorkQueue({
      db,
      assertOpen: () => this.assertOpen(),
      requireRun: (id) => void this.requireRun(id),
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
    if (!row) throw new StoreError(`no run with id "${id}" in ${this.path}`);
    return runFromRow(row);
  }

  async createRun(run: NewRun): Promise<RunMeta> {
    this.assertOpen();
    const createdAt = run.createdAt ?? now();
    const meta: RunMeta = {
      id: run.id ?? randomUUID(),
      key: run.key,
      task: run.task,
      status: run.status ?? "running",
      createdAt,
      updatedAt: createdAt,
      settings: redactSettings(run.settings),
      inputPath: run.inputPath,
      baseModel: run.baseModel,
    };
    if (run.outputPath !== undefined) meta.outputPath = run.outputPath;
    if (run.criticModel !== undefined) meta.criticModel = run.criticModel;
    assertRunStatus(meta.status);
    inTransaction(this.db, () => {
      if (this.sql.getRun.get(meta.id)) throw new StoreError(`a run with id "${meta.id}" already exists`);
      this.sql.insertRun.run(
        meta.id,
        meta.key,
        meta.task,
        meta.status,
        meta.createdAt,
        meta.updatedAt,
        JSON.stringify(meta.settings),
        meta.inputPath,
        orNull(meta.outputPath),
        meta.baseModel,
        orNull(meta.criticModel),
      );
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
      const run = this.requireRun(id);
      const next: RunMeta = { ...run, updatedAt: now() };
      if (patch.status !== undefined) next.status = patch.status;
      if (patch.settings !== undefined) next.settings = redactSettings(patch.settings);
      if (patch.outputPath !== undefined) next.outputPath = patch.outputPath;
      if (patch.baseModel !== undefined) next.baseModel = patch.baseModel;
      if (patch.criticModel !== undefined) next.criticModel = patch.criticModel;
      if (patch.inputComplete !== undefined) {
        if (patch.inputComplete) next.inputComplete = true;
        else delete next.inputComplete;
      }
      this.sql.updateRun.run(
        next.status,
        JSON.stringify(next.settings),
        orNull(next.outputPath),
        next.baseModel,
        orNull(next.criticModel),
        next.inputComplete ? 1 : 0,
        next.updatedAt,
        id,
      );
      return next;
    });
  }

  async setItemStatus(
    runId: string,
    itemId: string,
    status: ItemStatus,
    options: { reason?: string; record?: ItemRecord } = {},
  ): Promise<void> {
    await this.setItemStatuses(runId, [{ itemId, status, reason: options.reason, record: options.record }]);
  }

  async setItemStatuses(runId: string, updates: readonly ItemUpdate[]): Promise<void> {
    this.assertOpen();
    for (const update of updates) assertItemStatus(update.status);
    const updatedAt = now();
    inTransaction(this.db, () => {
      this.requireRun(runId);
      // Finished items join the run's finish order (see WorkQueue.finishedSince) like fenced completions.
      let finished = num(this.sql.finishedCount.get(runId)?.finished_count);
      for (const { itemId, status, reason, record } of updates) {
        const finishSeq = status === "pending" ? null : ++finished;
        this.sql.upsertItem.run(runId, itemId, status, orNull(reason), status === "pending" ? 0 : 1, updatedAt, finishSeq);
        if (record === undefined) this.sql.deleteRecord.run(runId, itemId);
        else this.sql.upsertRecord.run(runId, itemId, JSON.stringify(record));
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
    if (!ITEM_SORTS.includes(sort)) {
      throw new StoreError(`unknown item sort "${sort}"`, { hint: `use one of ${ITEM_SORTS.join(", ")}` });
    }
    const key = `${sort}/${byStatus}`;
    let statement = this.sortedStatements.get(key);
    if (!statement) {
      const direction = sort.startsWith("-") ? "DESC" : "ASC";
      const column = sort.replace("-", "") === "id" ? "i.item_id" : sort.replace("-", "") === "updated" ? "i.updated_at" : "i.seq";
      // The page is chosen among the small item rows first; only its records are read.
      const order = `ORDER BY ${column} ${direction}, i.seq ${direction}`;
      statement = this.db.prepare(
        `SELECT i.*, r.record FROM (
           SELECT * FROM items i WHERE i.run_id = ?${byStatus ? " AND i.status = ?" : ""} ${order} LIMIT ? OFFSET ?) i
         LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id ${order}`,
      );
      this.sortedStatements.set(key, statement);
    }
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
    const rows = calls.map(callValues);
    const usage = new Map<string, number[]>();
    for (const call of calls) {
      // calls, cache hits, errors, input, output, cost, priced, unpriced
      const u = usage.get(call.runId) ?? [0, 0, 0, 0, 0, 0, 0, 0];
      u[0]! += 1;
      if (call.error !== undefined) u[2]! += 1;
      if (call.cacheHit) u[1]! += 1;
      else {
        u[3]! += call.usage.inputTokens;
        u[4]! += call.usage.outputTokens;
        if (call.costUsd === undefined) u[7]! += 1;
        else {
          u[5]! += call.costUsd;
          u[6]! += 1;
        }
      }
      usage.set(call.runId, u);
    }
    const updatedAt = now();
    for (const runId of usage.keys()) this.requireRun(runId);
    for (const row of rows) this.sql.insertCall.run(...row);
    for (const [runId, u] of usage) {
      this.sql.addUsage.run(runId, ...u);
      this.sql.touchRun.run(updatedAt, runId);
    }
  }

  async listCalls(runId: string, itemId: string): Promise<StoredCall[]> {
    this.assertOpen();
    return this.sql.listCalls.all(runId, itemId).map(callFromRow);
  }

  async runUsage(runId: string): Promise<RunUsage> {
    this.assertOpen();
    const row = this.sql.runUsage.get(runId);
    if (!row) return { calls: 0, cacheHits: 0, errors: 0, inputTokens: 0, outputTokens: 0, costUsd: null, unpricedCalls: 0 };
    return {
      calls: num(row.calls),
      cacheHits: num(row.cache_hits),
      errors: num(row.errors),
      inputTokens: num(row.input_tokens),
      outputTokens: num(row.output_tokens),
      costUsd: num(row.priced_calls) > 0 ? num(row.cost_usd) : null,
      unpricedCalls: num(row.unpriced_calls),
    };
  }

  async runStats(runId: string): Promise<RunStats> {
    this.assertOpen();
    const scores = new Map<string, RunStats["critiqueScores"][number]>();
    const iterations = new Map<string, RunStats["iterations"][number]>();
    const stageNames = ["principles", "response"] as const;
    for (const row of this.sql.recordSummary.all(runId)) {
      const values = Object.values(row);
      const n = num(values[4]);
      stageNames.forEach((stage, s) => {
        const count = values[s];
        if (typeof count === "number") {
          const key = `${stage}/${count}`;
          const entry = iterations.get(key) ?? { stage, iterations: count, items: 0 };
          entry.items += n;
          iterations.set(key, entry);
        }
        const list = parseScores(values[2 + s]);
        list.forEach((score, i) => {
          const key = `${stage}/${i + 1}/${score}`;
          const entry = scores.get(key) ?? { stage, iteration: i + 1, score, count: 0 };
          entry.count += n;
          scores.set(key, entry);
        });
      });
    }
    const steps = new Map<string, RunStats["steps"][number]>();
    const minutes = new Map<string, RunStats["timeline"][number]>();
    for (const row of this.sql.callSummary.all(runId)) {
      const step = str(row.step);
      const minute = str(row.minute);
      const s = steps.get(step) ?? { step, calls: 0, errors: 0, cacheHits: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, latencyMs: 0 };
      const m = minutes.get(minute) ?? { minute, calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
      s.calls += num(row.calls);
      s.errors += num(row.errors);
      s.cacheHits += num(row.cache_hits);
      s.inputTokens += num(row.input_tokens);
      s.outputTokens += num(row.output_tokens);
      s.costUsd += num(row.cost_usd);
      s.latencyMs += num(row.latency_ms);
      m.calls += num(row.calls);
      m.inputTokens += num(row.input_tokens);
      m.outputTokens += num(row.output_tokens);
      m.costUsd += num(row.cost_usd);
      steps.set(step, s);
      minutes.set(minute, m);
    }
    const stageOrder = (stage: string) => (stage === "principles" ? 0 : 1);
    const scoreOrder = (score: number | null) => (score === null ? Number.POSITIVE_INFINITY : score);
    return {
      critiqueScores: [...scores.values()].sort(
        (a, b) => stageOrder(a.stage) - stageOrder(b.stage) || a.iteration - b.iteration || scoreOrder(a.score) - scoreOrder(b.score),
      ),
      iterations: [...iterations.values()].sort((a, b) => stageOrder(a.stage) - stageOrder(b.stage) || a.iterations - b.iterations),
      failures: this.sql.failures.all(runId).map((row) => ({ reason: str(row.reason), count: num(row.n) })),
      // Steps in SPRI's order where known, others after them by name; average latency per call.
      steps: [...steps.values()]
        .sort((a, b) => stepRank(a.step) - stepRank(b.step) || a.step.localeCompare(b.step))
        .map((s) => ({ ...s, latencyMs: s.calls > 0 ? s.latencyMs / s.calls : 0 })),
      timeline: [...minutes.values()].sort((a, b) => a.minute.localeCompare(b.minute)),
    };
  }

  async putArtifact(runId: string, name: string, value: unknown): Promise<void> {
    this.assertOpen();
    if (typeof name !== "string" || name === "") throw new StoreError("an artifact needs a name", { field: "name" });
    const text = JSON.stringify(value);
    if (text === undefined) throw new StoreError(`artifact "${name}" is not JSON-serialisable`, { field: "value" });
    const updatedAt = now();
    inTransaction(this.db, () => {
      this.requireRun(runId);
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

function assertRunStatus(status: string): void {
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    throw new StoreError(`unknown run status "${status}"`, { hint: `use one of ${RUN_STATUSES.join(", ")}` });
  }
}

function assertItemStatus(status: string): void {
  if (!ITEM_STATUSES.includes(status as ItemStatus)) {
    throw new StoreError(`unknown item status "${status}"`, { hint: `use one of ${ITEM_STATUSES.join(", ")}` });
  }
}
