/**
 * The SQLite store's schema: `MIGRATIONS[i]` takes it from version i to i + 1 (`PRAGMA
 * user_version`); opening a file runs the missing ones in one transaction. Add a migration, never
 * edit a shipped one.
 */
import type { DatabaseSync } from "node:sqlite";
import { cacheKeyHash } from "./cache-key-filter.ts";
import { StoreError } from "./run-store.ts";

/** `PRAGMA application_id` of spri databases ("SPRI" in ASCII), so we never write into a stranger's file. */
export const APPLICATION_ID = 0x53505249;

/** The record fields `runStats` read through migration 2's index, until migration 5 stored them beside the record. */
const RECORD_SUMMARY =
  "json_extract(record, '$.iteration_principle'), json_extract(record, '$.iteration_response'), json_extract(record, '$.principles_critique_scores'), json_extract(record, '$.response_critique_scores')";
/** The call columns `runStats` reads, as indexed by migration 2. */
const CALL_SUMMARY = "step, substr(started_at, 1, 16), cache_hit, input_tokens, output_tokens, cost_usd, latency_ms, error IS NOT NULL";

/** Schema 3 → 4: the work queue. Items finished before it get their first-seen order as finish order. */
const WORK_QUEUE_MIGRATION = `
  ALTER TABLE runs ADD COLUMN input_complete INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN finished_count INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN output_owner TEXT;
  ALTER TABLE runs ADD COLUMN output_expires INTEGER;
  ALTER TABLE items ADD COLUMN lease_owner TEXT;
  ALTER TABLE items ADD COLUMN lease_fence INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE items ADD COLUMN lease_expires INTEGER;
  ALTER TABLE items ADD COLUMN finish_seq INTEGER;
  UPDATE items SET finish_seq = seq WHERE status IN ('done', 'failed');
  UPDATE runs SET finished_count = coalesce((SELECT max(finish_seq) FROM items WHERE items.run_id = runs.id), 0);
  CREATE INDEX items_queue ON items (run_id, status, seq);
  CREATE INDEX items_finished ON items (run_id, finish_seq) WHERE finish_seq IS NOT NULL;
  CREATE INDEX items_by_owner ON items (lease_owner) WHERE lease_owner IS NOT NULL;

  -- What a worker needs to run an item, apart from the small status rows.
  CREATE TABLE item_inputs (
    run_id   TEXT NOT NULL,
    item_id  TEXT NOT NULL,
    input    TEXT NOT NULL,
    line     INTEGER,
    PRIMARY KEY (run_id, item_id),
    FOREIGN KEY (run_id, item_id) REFERENCES items (run_id, item_id) ON DELETE CASCADE
  );

  CREATE TABLE workers (
    id            TEXT PRIMARY KEY,
    host          TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    run_id        TEXT,
    started_at    TEXT NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    -- The lease time it last used (a minute until it leases or beats): no heartbeat for that long and it is lost.
    lease_ms      INTEGER NOT NULL DEFAULT 60000,
    stopped_at    TEXT,
    items_done    INTEGER NOT NULL DEFAULT 0,
    items_failed  INTEGER NOT NULL DEFAULT 0
  );

  -- Provider rate limits shared by the workers (RateLedger): the current window of each endpoint.
  CREATE TABLE rate_windows (
    key           TEXT PRIMARY KEY,
    window_start  INTEGER NOT NULL,
    requests      INTEGER NOT NULL,
    tokens        INTEGER NOT NULL
  );

  -- What each worker did in each run (a worker of every run works several).
  CREATE TABLE worker_runs (
    worker_id     TEXT NOT NULL,
    run_id        TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    items_done    INTEGER NOT NULL DEFAULT 0,
    items_failed  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, worker_id)
  );
`;

/**
 * Schema 5 → 6: the call cache keyed by a small integer hash (`key_hash`, see cache-key-filter.ts)
 * beside the key, with ids that only grow (AUTOINCREMENT, so other connections' new rows are
 * `id > last seen`). The 64-character text primary key made every put dirty its own index page.
 * The key stays unique: the cache writes it by update-else-insert in one write transaction.
 */
function cacheByHashMigration(db: DatabaseSync): void {
  db.function("spri_cache_key_hash", { deterministic: true }, (key) => cacheKeyHash(String(key)));
  const columns = "endpoint, model_id, template_version, text, finish_reason, model, input_tokens, output_tokens, latency_ms, created_at";
  db.exec(`
    CREATE TABLE call_cache_6 (
      id                INTEGER PRIMARY KEY AUTOINCREMENT,
      key_hash          INTEGER NOT NULL,
      key               TEXT NOT NULL,
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
    INSERT INTO call_cache_6 (key_hash, key, ${columns})
      SELECT spri_cache_key_hash(key), key, ${columns} FROM call_cache ORDER BY rowid;
    DROP TABLE call_cache;
    ALTER TABLE call_cache_6 RENAME TO call_cache;
    CREATE INDEX call_cache_by_hash ON call_cache (key_hash);
  `);
  db.exec(CALL_MINUTES_MIGRATION);
}

/**
 * Also schema 5 → 6: the calls' per-minute sums that `runStats` reads, kept as the calls are written
 * (like run_usage) instead of read through an index of nine columns on every call row (a third of
 * a call row's insert cost). Filled from the calls already stored.
 */
const CALL_MINUTES_MIGRATION = `
  CREATE TABLE call_minutes (
    run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step           TEXT NOT NULL,
    minute         TEXT NOT NULL,
    calls          INTEGER NOT NULL,
    errors         INTEGER NOT NULL,
    cache_hits     INTEGER NOT NULL,
    input_tokens   INTEGER NOT NULL,
    output_tokens  INTEGER NOT NULL,
    cost_usd       REAL NOT NULL,
    latency_ms     REAL NOT NULL,
    PRIMARY KEY (run_id, step, minute)
  );
  INSERT INTO call_minutes
    SELECT run_id, step, substr(started_at, 1, 16), count(*), sum(error IS NOT NULL), sum(cache_hit),
      sum(CASE WHEN cache_hit = 0 THEN input_tokens ELSE 0 END),
      sum(CASE WHEN cache_hit = 0 THEN output_tokens ELSE 0 END),
      sum(CASE WHEN cache_hit = 0 THEN coalesce(cost_usd, 0) ELSE 0 END),
      sum(latency_ms)
    FROM calls GROUP BY run_id, step, substr(started_at, 1, 16);
  DROP INDEX calls_summary;
`;

/**
 * Schema 6 → 7: an item's calls as one row (`call_groups`, a JSON array per write, see
 * `callGroupJson`) instead of one row each. Per-row work (twenty bound values, a table and an index
 * entry) was most of a completion's cost: six call rows took longer than the item's record. The
 * calls already stored become one group per item, in call order.
 */
const CALL_GROUPS_MIGRATION = `
  CREATE TABLE call_groups (
    id       INTEGER PRIMARY KEY,
    run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    item_id  TEXT NOT NULL,
    calls    TEXT NOT NULL
  );
  CREATE INDEX call_groups_by_item ON call_groups (run_id, item_id, id);
  INSERT INTO call_groups (run_id, item_id, calls)
    SELECT run_id, item_id, json_group_array(json_object(
      'step', step, 'iteration', iteration, 'attempt', attempt, 'role', role, 'model', model, 'endpoint', endpoint,
      'response', response, 'input_tokens', input_tokens, 'output_tokens', output_tokens, 'latency_ms', latency_ms,
      'finish_reason', finish_reason, 'cache_hit', cache_hit, 'error', error, 'cost_usd', cost_usd, 'started_at', started_at,
      'request', json(request), 'parsed', json(parsed)) ORDER BY id)
    FROM calls GROUP BY run_id, item_id ORDER BY min(id);
  DROP TABLE calls;
`;

/** MIGRATIONS[i] upgrades schema version i to i + 1: SQL, or a function for what SQL cannot compute. */
export const MIGRATIONS: readonly (string | ((db: DatabaseSync) => void))[] = [
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
  // 4 → 5: the record summary `runStats` reads is written beside each record (\`recordSummary\`, as the
  // PostgreSQL store does) instead of indexed by expression: that index parsed every 6 KB record
  // four times per write. The text equals JSON.stringify of the same four fields.
  // And the lease query's two sources, so a lease reads only the rows it takes: leasing in seq
  // order over (run_id, status, seq) stepped over every item already leased, one table row each
  // (256 at 256 in flight) per query.
  `
  ALTER TABLE item_records ADD COLUMN summary TEXT;
  UPDATE item_records SET summary = json_array(
    record -> '$.iteration_principle', record -> '$.iteration_response',
    record -> '$.principles_critique_scores', record -> '$.response_critique_scores');
  DROP INDEX item_records_summary;
  CREATE INDEX item_records_by_summary ON item_records (run_id, summary);
  CREATE INDEX items_unleased ON items (run_id, seq) WHERE status = 'pending' AND lease_owner IS NULL;
  CREATE INDEX items_lease_expiry ON items (lease_expires) WHERE status = 'pending' AND lease_owner IS NOT NULL;
  `,
  // 5 → 6: the call cache by key hash; the calls' per-minute sums as a table.
  cacheByHashMigration,
  // 6 → 7: an item's calls in one row.
  CALL_GROUPS_MIGRATION,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

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
      const migration = MIGRATIONS[version]!;
      if (typeof migration === "string") db.exec(migration);
      else migration(db);
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
