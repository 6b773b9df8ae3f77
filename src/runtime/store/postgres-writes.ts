/**
 * Writes that several PostgreSQL store operations share, each meant to run inside the caller's
 * transaction: item records, calls with their usage, and finish sequence numbers.
 */
import type pg from "pg";
import type { ItemRecord } from "../../io/records.ts";
import { type PostgresDb, toNumber } from "./postgres-db.ts";
import { ADD_CALL_MINUTES, ADD_USAGE, callMinuteColumns, INSERT_CALL_GROUPS, RowsInsert, usageColumns } from "./postgres-rows.ts";
import { callGroupRows, recordSummary, usageOf } from "./store-rows.ts";
import { type StoredCall, StoreError } from "./run-store.ts";

const SET_RECORDS = new RowsInsert({
  name: "spri_set_records",
  into: "item_records",
  columns: [
    ["run_id", "text"],
    ["item_id", "text"],
    ["record", "text"],
    ["summary", "text"],
  ],
  tail: "ON CONFLICT (run_id, item_id) DO UPDATE SET record = excluded.record, summary = excluded.summary",
});

/** Sets (or, where `record` is undefined, clears) the records of the given items. */
export async function writeRecords(
  db: PostgresDb,
  client: pg.PoolClient,
  items: readonly { runId: string; itemId: string; record?: ItemRecord }[],
): Promise<void> {
  const set: [string, string, string, string][] = [];
  const clear: [string[], string[]] = [[], []];
  for (const { runId, itemId, record } of items) {
    if (record === undefined) {
      clear[0].push(runId);
      clear[1].push(itemId);
    } else set.push([runId, itemId, JSON.stringify(record), recordSummary(record)]);
  }
  if (clear[0].length > 0) {
    await db.query(
      {
        name: "spri_clear_records",
        text: `DELETE FROM item_records r USING unnest($1::text[], $2::text[]) AS u(run_id, item_id)
               WHERE r.run_id = u.run_id AND r.item_id = u.item_id`,
      },
      clear,
      client,
    );
  }
  for (const { statement, values } of SET_RECORDS.statements(set)) await db.query(statement, values, client);
}

/** The error for a run the store does not have. */
export function noSuchRun(db: Pick<PostgresDb, "location">, runId: string): StoreError {
  return new StoreError(`no run with id "${runId}" in ${db.location}`);
}

/** Fails with a StoreError naming the first of `runIds` that does not exist. */
export async function requireRuns(db: PostgresDb, client: pg.PoolClient | pg.Pool, runIds: readonly string[]): Promise<void> {
  const { rows } = await db.query<{ id: string }>(
    { name: "spri_existing_runs", text: "SELECT id FROM runs WHERE id = ANY($1::text[])" },
    [runIds],
    client,
  );
  const found = new Set(rows.map((r) => r.id));
  const missing = runIds.find((id) => !found.has(id));
  if (missing !== undefined) throw noSuchRun(db, missing);
}

/** Appends calls (one multi-row insert, in order) and adds them to their runs' usage. */
export async function insertCalls(db: PostgresDb, client: pg.PoolClient, calls: readonly StoredCall[]): Promise<void> {
  if (calls.length === 0) return;
  const groups = INSERT_CALL_GROUPS.statements(callGroupRows(calls)); // validates every call before anything is written
  const usage = usageOf(calls);
  await requireRuns(db, client, [...usage.keys()]);
  for (const { statement, values } of groups) await db.query(statement, values, client);
  await db.query({ name: "spri_add_usage", text: ADD_USAGE }, usageColumns(usage), client);
  await db.query({ name: "spri_add_call_minutes", text: ADD_CALL_MINUTES }, callMinuteColumns(calls), client);
}

/**
 * Takes the next `count` finish sequence numbers of a run and marks it updated; returns the number
 * before the first one taken. Bumping the run's counter locks its row until the caller's
 * transaction ends, so completions of a run take their numbers in commit order. Rejects for an
 * unknown run.
 */
export async function reserveFinishSeqs(
  db: PostgresDb,
  client: pg.PoolClient,
  runId: string,
  count: number,
  updatedAt: string,
): Promise<number> {
  const { rows } = await db.query(
    {
      name: "spri_bump_finished",
      text: "UPDATE runs SET finished_count = finished_count + $2, updated_at = $3 WHERE id = $1 RETURNING finished_count",
    },
    [runId, count, updatedAt],
    client,
  );
  if (rows.length === 0) throw noSuchRun(db, runId);
  return toNumber(rows[0]!.finished_count) - count;
}
