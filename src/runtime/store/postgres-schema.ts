/**
 * The PostgreSQL schema of the run store and its migrations.
 *
 * `MIGRATIONS[i]` takes the schema from version i to i + 1; the version lives in our own table
 * `spri_schema`. Opening a store runs the missing migrations in one transaction under a
 * transaction-level advisory lock, so processes that start together migrate once and the others
 * wait and find it done. Add a migration, never edit a shipped one.
 *
 * Records, settings, inputs and other JSON values are TEXT, not jsonb: jsonb reorders keys, and an
 * output record must come back byte for byte as it was written. Times that leases compare are
 * epoch milliseconds (BIGINT) of the database's clock; the others are ISO 8601 text as in SQLite.
 */
import type pg from "pg";
import { type PostgresDb, sqlState } from "./postgres-db.ts";
import { StoreError } from "./run-store.ts";

/** Key of the advisory lock that serialises migrations ("SPRI" in ASCII). */
const MIGRATION_LOCK = 0x53505249;

/** MIGRATIONS[i] upgrades schema version i to i + 1. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id              TEXT PRIMARY KEY,
    created_seq     BIGINT GENERATED ALWAYS AS IDENTITY,
    key             TEXT NOT NULL,
    task            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stopped')),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    settings        TEXT NOT NULL,
    input_path      TEXT NOT NULL,
    output_path     TEXT,
    base_model      TEXT NOT NULL,
    critic_model    TEXT,
    input_complete  BOOLEAN NOT NULL DEFAULT false,
    -- Bumped by every completion in its transaction: the row lock orders completions of a run, so
    -- finish_seq grows in commit order.
    finished_count  BIGINT NOT NULL DEFAULT 0,
    -- The output role (claimOutput): who writes the run's output file, until when (epoch ms).
    output_owner    TEXT,
    output_expires  BIGINT
  );
  CREATE INDEX runs_by_key ON runs (key, created_at, created_seq);
  CREATE INDEX runs_by_created ON runs (created_at, created_seq);

  CREATE TABLE items (
    seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    reason         TEXT,
    attempts       INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT NOT NULL,
    -- The queued task item (JSON text) and its input line, for workers (WorkQueue.enqueueItems).
    input          TEXT,
    line           INTEGER,
    -- The lease: holder, fencing token (grows with every hand-out), expiry (epoch ms, database clock).
    lease_owner    TEXT,
    lease_token    BIGINT NOT NULL DEFAULT 0,
    lease_expires  BIGINT,
    finish_seq     BIGINT,
    UNIQUE (run_id, item_id)
  );
  -- Hand-out (pending items of a run in seq order), listItems by status, itemCounts.
  CREATE INDEX items_by_status ON items (run_id, status, seq);
  CREATE INDEX items_by_owner ON items (lease_owner) WHERE lease_owner IS NOT NULL;
  CREATE UNIQUE INDEX items_by_finish ON items (run_id, finish_seq) WHERE finish_seq IS NOT NULL;

  CREATE TABLE item_records (
    run_id   TEXT NOT NULL,
    item_id  TEXT NOT NULL,
    record   TEXT NOT NULL,
    -- The fields runStats reads ([iteration_principle, iteration_response, principles_critique_scores,
    -- response_critique_scores], JSON), extracted on write so the viewer's aggregates never parse records.
    summary  TEXT NOT NULL,
    PRIMARY KEY (run_id, item_id),
    FOREIGN KEY (run_id, item_id) REFERENCES items (run_id, item_id) ON DELETE CASCADE
  );

  CREATE TABLE calls (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
    latency_ms     DOUBLE PRECISION NOT NULL,
    finish_reason  TEXT,
    cache_hit      BOOLEAN NOT NULL,
    error          TEXT,
    cost_usd       DOUBLE PRECISION,
    started_at     TEXT NOT NULL
  );
  CREATE INDEX calls_by_item ON calls (run_id, item_id, id);
  CREATE INDEX calls_summary ON calls (run_id, step, (left(started_at, 16)));

  CREATE TABLE run_usage (
    run_id          TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    calls           BIGINT NOT NULL,
    cache_hits      BIGINT NOT NULL,
    errors          BIGINT NOT NULL,
    input_tokens    BIGINT NOT NULL,
    output_tokens   BIGINT NOT NULL,
    cost_usd        DOUBLE PRECISION NOT NULL,
    priced_calls    BIGINT NOT NULL,
    unpriced_calls  BIGINT NOT NULL
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
    latency_ms        DOUBLE PRECISION NOT NULL,
    created_at        TEXT NOT NULL
  );

  CREATE TABLE artifacts (
    run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, name)
  );

  CREATE TABLE workers (
    id             TEXT PRIMARY KEY,
    host           TEXT NOT NULL,
    pid            INTEGER NOT NULL,
    run_id         TEXT REFERENCES runs (id) ON DELETE CASCADE,
    status         TEXT NOT NULL CHECK (status IN ('active', 'stopped')),
    started_ms     BIGINT NOT NULL,
    heartbeat_ms   BIGINT NOT NULL,
    -- The lease time the worker last used: without a heartbeat for that long it is lost.
    lease_ms       BIGINT NOT NULL,
    items_done     BIGINT NOT NULL DEFAULT 0,
    items_failed   BIGINT NOT NULL DEFAULT 0
  );
  CREATE INDEX workers_by_run ON workers (run_id, heartbeat_ms);

  -- What each worker did in each run (a worker of every run works several).
  CREATE TABLE worker_runs (
    worker_id     TEXT NOT NULL,
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    items_done    BIGINT NOT NULL DEFAULT 0,
    items_failed  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, worker_id)
  );

  -- Provider rate limits shared by the workers (RateLedger): the current window of each endpoint.
  CREATE TABLE rate_windows (
    key           TEXT PRIMARY KEY,
    window_start  BIGINT NOT NULL,
    requests      BIGINT NOT NULL,
    tokens        BIGINT NOT NULL
  );
  `,
  // 1 → 2: the cache's key filter (postgres-cache.ts) reads key hashes, and other processes' new
  // rows by id (ids are drawn at insert and only grow). Keys that are sha256 hex get their first 12
  // hex digits as hash, as cacheKeyHash computes it; other keys stay NULL and the filter hashes them
  // itself. Item records (about 6 KB) stay in their row, uncompressed: TOAST's compression and
  // out-of-line chunks were most of a record insert's cost.
  `
  ALTER TABLE call_cache ADD COLUMN id BIGINT GENERATED BY DEFAULT AS IDENTITY;
  ALTER TABLE call_cache ADD COLUMN key_hash BIGINT;
  UPDATE call_cache SET key_hash = ('x' || substr(key, 1, 12))::bit(48)::bigint WHERE key ~ '^[0-9a-f]{12}';
  CREATE INDEX call_cache_by_id ON call_cache (id);
  ALTER TABLE item_records SET (toast_tuple_target = 8160);
  `,
  // 2 → 3: an item's calls as one row (call_groups, a JSON array per write, as in the SQLite store:
  // see callGroupJson), and the calls' per-minute sums that runStats reads kept as they are written
  // (call_minutes) instead of aggregated from one row per call. The calls already stored become one
  // group per item, in call order.
  `
  CREATE TABLE call_groups (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id  TEXT NOT NULL,
    calls    TEXT NOT NULL
  ) WITH (toast_tuple_target = 8160);
  CREATE INDEX call_groups_by_item ON call_groups (run_id, item_id, id);
  INSERT INTO call_groups (run_id, item_id, calls)
    SELECT run_id, item_id, json_agg(json_build_object(
      'step', step, 'iteration', iteration, 'attempt', attempt, 'role', role, 'model', model, 'endpoint', endpoint,
      'response', response, 'input_tokens', input_tokens, 'output_tokens', output_tokens, 'latency_ms', latency_ms,
      'finish_reason', finish_reason, 'cache_hit', cache_hit, 'error', error, 'cost_usd', cost_usd, 'started_at', started_at,
      'request', request::json, 'parsed', parsed::json) ORDER BY id)::text
    FROM calls GROUP BY run_id, item_id ORDER BY min(id);

  CREATE TABLE call_minutes (
    run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step           TEXT NOT NULL,
    minute         TEXT NOT NULL,
    calls          BIGINT NOT NULL,
    errors         BIGINT NOT NULL,
    cache_hits     BIGINT NOT NULL,
    input_tokens   BIGINT NOT NULL,
    output_tokens  BIGINT NOT NULL,
    cost_usd       DOUBLE PRECISION NOT NULL,
    latency_ms     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (run_id, step, minute)
  );
  INSERT INTO call_minutes
    SELECT run_id, step, left(started_at, 16), count(*), sum((error IS NOT NULL)::int), sum(cache_hit::int),
      sum(CASE WHEN cache_hit THEN 0 ELSE input_tokens END),
      sum(CASE WHEN cache_hit THEN 0 ELSE output_tokens END),
      sum(CASE WHEN cache_hit THEN 0 ELSE coalesce(cost_usd, 0) END),
      sum(latency_ms)
    FROM calls GROUP BY run_id, step, left(started_at, 16);
  DROP TABLE calls;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database's schema up to `SCHEMA_VERSION`. Refuses a database that has tables but no
 * `spri_schema` (it belongs to something else), and one written by a newer spri.
 */
export async function migrate(db: PostgresDb): Promise<void> {
  // A store that is current, the usual case, costs one round trip (every process opens the store
  // as it starts; the checks below take four, on a connection that is still cold).
  if ((await storedVersion(db)) === SCHEMA_VERSION) return;
  const current = await db.transaction(async (client) => check(db, client));
  if (current === SCHEMA_VERSION) return;
  await db.transaction(async (client) => {
    await db.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK], client);
    // Another process may have migrated while we waited for the lock.
    let version = await check(db, client);
    if (version === 0) {
      await db.query("CREATE TABLE spri_schema (version INTEGER NOT NULL)", [], client);
      await db.query("INSERT INTO spri_schema (version) VALUES (0)", [], client);
    }
    for (; version < SCHEMA_VERSION; version++) {
      await db.query(MIGRATIONS[version]!, [], client);
      await db.query("UPDATE spri_schema SET version = $1", [version + 1], client);
    }
  });
}

/** PostgreSQL's SQLSTATE for a table that does not exist. */
const UNDEFINED_TABLE = "42P01";

/** The version `spri_schema` holds; undefined where there is no such table. */
async function storedVersion(db: PostgresDb): Promise<number | undefined> {
  try {
    const { rows } = await db.query<{ version: number }>("SELECT version FROM spri_schema");
    return rows.length === 1 ? Number(rows[0]!.version) : undefined;
  } catch (error) {
    if (sqlState(error) === UNDEFINED_TABLE) return undefined;
    throw error;
  }
}

async function check(db: PostgresDb, client: pg.PoolClient): Promise<number> {
  const { rows } = await db.query<{ ours: string | null; tables: string }>(
    `SELECT to_regclass('spri_schema')::text AS ours,
            (SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()) AS tables`,
    [],
    client,
  );
  const row = rows[0]!;
  if (row.ours === null) {
    if (Number(row.tables) > 0) {
      throw new StoreError(`${db.location} is not a spri database: it has tables but no spri_schema`, {
        hint: "point --store at a new, empty database (or at one spri created)",
      });
    }
    return 0;
  }
  const version = Number((await db.query<{ version: number }>("SELECT version FROM spri_schema", [], client)).rows[0]?.version ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`${db.location} has schema version ${version}; this spri knows up to ${SCHEMA_VERSION}`, {
      hint: "upgrade spri on this machine (every worker of a shared store needs the same or a newer spri)",
    });
  }
  return version;
}
