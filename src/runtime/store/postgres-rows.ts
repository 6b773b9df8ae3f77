/**
 * Rows of the PostgreSQL run store and the values written into them: the same field-for-field
 * mapping as the SQLite store (only CallRecord fields reach the database, absent optional fields
 * read back absent), in the column-array form that multi-row `unnest` inserts take.
 */
import type { ItemUpdate, StoredCall } from "./run-store.ts";
import { ADD_TO_CALL_MINUTES, ADD_TO_USAGE, CALL_MINUTE_SUMS, callGroupRows, callMinutesOf, USAGE_COLUMNS } from "./store-rows.ts";

/** An item's calls as one row each, keeping the order of the arrays (group ids grow in it). */
export const INSERT_CALL_GROUPS = `INSERT INTO call_groups (run_id, item_id, calls)
  SELECT run_id, item_id, calls FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS g(run_id, item_id, calls, n) ORDER BY n`;

/** `INSERT_CALL_GROUPS`' parameters: `callGroupRows` as three columns. */
export function callGroupColumns(calls: readonly StoredCall[]): [string[], string[], string[]] {
  const columns: [string[], string[], string[]] = [[], [], []];
  for (const row of callGroupRows(calls)) row.forEach((value, i) => columns[i]!.push(value));
  return columns;
}

/**
 * Adds the calls' per-minute sums (`callMinutesOf`); rows in key order, so concurrent writers lock
 * them in one order.
 */
export const ADD_CALL_MINUTES = `INSERT INTO call_minutes (run_id, step, minute, ${CALL_MINUTE_SUMS.join(", ")})
  SELECT run_id, step, minute, ${CALL_MINUTE_SUMS.join(", ")}
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::float8[], $10::float8[])
    AS m(run_id, step, minute, ${CALL_MINUTE_SUMS.join(", ")})
  ORDER BY run_id, step, minute
  ${ADD_TO_CALL_MINUTES}`;

/** `ADD_CALL_MINUTES`' parameters. */
export function callMinuteColumns(calls: readonly StoredCall[]): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 10 }, () => []);
  for (const row of callMinutesOf(calls)) row.forEach((value, i) => columns[i]!.push(value));
  return columns;
}

/** Adds one row of usage per run (`usageOf`'s columns after run_id). */
export const ADD_USAGE = `INSERT INTO run_usage (run_id, ${USAGE_COLUMNS.join(", ")})
  SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::float8[], $8::int8[], $9::int8[])
  ${ADD_TO_USAGE}`;

/** `ADD_USAGE`'s parameters, runs in id order (so concurrent writers lock usage rows in one order). */
export function usageColumns(usage: Map<string, number[]>): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 9 }, () => []);
  for (const runId of [...usage.keys()].sort()) {
    columns[0]!.push(runId);
    usage.get(runId)!.forEach((v, i) => columns[i + 1]!.push(v));
  }
  return columns;
}

/** Splits updates into rounds in which no item appears twice, keeping their order. */
export function rounds(updates: readonly ItemUpdate[]): ItemUpdate[][] {
  const out: ItemUpdate[][] = [];
  let current: ItemUpdate[] = [];
  let seen = new Set<string>();
  for (const update of updates) {
    if (seen.has(update.itemId)) {
      out.push(current);
      current = [];
      seen = new Set();
    }
    seen.add(update.itemId);
    current.push(update);
  }
  if (current.length > 0) out.push(current);
  return out;
}
