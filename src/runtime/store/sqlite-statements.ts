/**
 * The SQL of the SQLite run store (sqlite-store.ts), prepared once per connection. The column
 * orders of `insertRun` and `updateRun` are those of store-rows.ts's value lists.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ITEM_SORTS, type ItemSort, StoreError } from "./run-store.ts";
import { ADD_TO_CALL_MINUTES, ADD_TO_USAGE, CALL_MINUTE_SUMS, USAGE_COLUMNS } from "./store-rows.ts";

/** The statements on an item's record and the run's finish count, which the store and its work queue both run. */
export function recordStatements(p: (text: string) => StatementSync) {
  return {
    finishedCount: p("SELECT finished_count FROM runs WHERE id = ?"),
    upsertRecord: p(
      `INSERT INTO item_records (run_id, item_id, record, summary) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, item_id) DO UPDATE SET record = excluded.record, summary = excluded.summary`,
    ),
    deleteRecord: p("DELETE FROM item_records WHERE run_id = ? AND item_id = ?"),
  };
}

/** The store's statements, prepared once per connection. */
export function prepareStatements(db: DatabaseSync) {
  const p = (text: string) => db.prepare(text);
  return {
    insertRun: p(
      `INSERT INTO runs (id, key, task, status, created_at, updated_at, settings, input_path, output_path, base_model, critic_model, input_complete)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getRun: p("SELECT * FROM runs WHERE id = ?"),
    runExists: p("SELECT 1 AS found FROM runs WHERE id = ?"),
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
    ...recordStatements(p),
    setFinishedCount: p("UPDATE runs SET finished_count = ? WHERE id = ?"),
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
    insertCallGroup: p("INSERT INTO call_groups (run_id, item_id, calls) VALUES (?, ?, ?)"),
    addUsage: p(
      `INSERT INTO run_usage (run_id, ${USAGE_COLUMNS.join(", ")}) VALUES (?, ${USAGE_COLUMNS.map(() => "?").join(", ")}) ${ADD_TO_USAGE}`,
    ),
    listCallGroups: p("SELECT calls FROM call_groups WHERE run_id = ? AND item_id = ? ORDER BY id"),
    recordSummary: p(
      "SELECT summary, count(*) AS n FROM item_records INDEXED BY item_records_by_summary WHERE run_id = ? GROUP BY summary",
    ),
    failures: p(
      `SELECT coalesce(reason, '') AS reason, count(*) AS n FROM items WHERE run_id = ? AND status = 'failed'
       GROUP BY reason ORDER BY n DESC, reason LIMIT 50`,
    ),
    callSummary: p(
      `SELECT step, minute, calls, errors, cache_hits, input_tokens, output_tokens, cost_usd, latency_ms
       FROM call_minutes WHERE run_id = ?`,
    ),
    addCallMinute: p(
      `INSERT INTO call_minutes (run_id, step, minute, ${CALL_MINUTE_SUMS.join(", ")})
       VALUES (?, ?, ?, ${CALL_MINUTE_SUMS.map(() => "?").join(", ")}) ${ADD_TO_CALL_MINUTES}`,
    ),
    runUsage: p("SELECT * FROM run_usage WHERE run_id = ?"),
    putArtifact: p(
      `INSERT INTO artifacts (run_id, name, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id, name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    getArtifact: p("SELECT value FROM artifacts WHERE run_id = ? AND name = ?"),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

/** `listItems` in another order than first seen: the page is chosen among the small item rows first; only its records are read. */
export function sortedItemsSql(sort: ItemSort, byStatus: boolean): string {
  if (!ITEM_SORTS.includes(sort)) {
    throw new StoreError(`unknown item sort "${sort}"`, { hint: `use one of ${ITEM_SORTS.join(", ")}` });
  }
  const direction = sort.startsWith("-") ? "DESC" : "ASC";
  const column = sort.replace("-", "") === "id" ? "i.item_id" : sort.replace("-", "") === "updated" ? "i.updated_at" : "i.seq";
  const order = `ORDER BY ${column} ${direction}, i.seq ${direction}`;
  return `SELECT i.*, r.record FROM (
      SELECT * FROM items i WHERE i.run_id = ?${byStatus ? " AND i.status = ?" : ""} ${order} LIMIT ? OFFSET ?) i
    LEFT JOIN item_records r ON r.run_id = i.run_id AND r.item_id = i.item_id ${order}`;
}
