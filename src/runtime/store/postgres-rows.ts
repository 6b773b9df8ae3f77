/**
 * Rows of the PostgreSQL run store and the values written into them: the same field-for-field
 * mapping as the SQLite store (only CallRecord fields reach the database, absent optional fields
 * read back absent), in the column-array form that multi-row `unnest` inserts take.
 */
import type { ItemUpdate, StoredCall } from "./run-store.ts";
import { ADD_TO_USAGE, callValues, USAGE_COLUMNS } from "./store-rows.ts";

/** The call columns, in insert order, with their PostgreSQL array types for `unnest`. */
export const CALL_COLUMNS = [
  ["run_id", "text"],
  ["item_id", "text"],
  ["step", "text"],
  ["iteration", "int4"],
  ["attempt", "int4"],
  ["role", "text"],
  ["model", "text"],
  ["endpoint", "text"],
  ["request", "text"],
  ["response", "text"],
  ["parsed", "text"],
  ["input_tokens", "int4"],
  ["output_tokens", "int4"],
  ["latency_ms", "float8"],
  ["finish_reason", "text"],
  ["cache_hit", "bool"],
  ["error", "text"],
  ["cost_usd", "float8"],
  ["started_at", "text"],
] as const;

/** `INSERT INTO calls … SELECT * FROM unnest(…)`, keeping the order of the arrays (call ids grow in it). */
export const INSERT_CALLS = `INSERT INTO calls (${CALL_COLUMNS.map(([c]) => c).join(", ")})
  SELECT ${CALL_COLUMNS.map(([c]) => c).join(", ")} FROM unnest(${CALL_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(", ")})
    WITH ORDINALITY AS c(${CALL_COLUMNS.map(([c]) => c).join(", ")}, n) ORDER BY n`;

/** The calls as one array per column (the parameters of `INSERT_CALLS`). */
export function callColumns(calls: readonly StoredCall[]): unknown[][] {
  const columns: unknown[][] = CALL_COLUMNS.map(() => []);
  for (const call of calls) {
    const values = callValues(call);
    values.forEach((value, i) => columns[i]!.push(value === undefined ? null : value));
  }
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
