/**
 * Rows of the PostgreSQL run store and the values written into them: the same field-for-field
 * mapping as the SQLite store (only CallRecord fields reach the database, absent optional fields
 * read back absent), in the forms multi-row inserts take: column arrays for `unnest`, or rows
 * holding large texts as one JSON parameter (`jsonRows`).
 */
import type { ItemUpdate, StoredCall } from "./run-store.ts";
import { ADD_TO_CALL_MINUTES, ADD_TO_USAGE, CALL_MINUTE_SUMS, callGroupRows, callMinutesOf, USAGE_COLUMNS } from "./store-rows.ts";

/**
 * An item's calls as one row each, in the order given (group ids grow in it). `$1` is a JSON array
 * of `[run_id, item_id, calls]` rows (`jsonRows`).
 */
export const INSERT_CALL_GROUPS = `INSERT INTO call_groups (run_id, item_id, calls)
  SELECT g->>0, g->>1, ${embeddedText("g", 2)} FROM json_array_elements($1::json) WITH ORDINALITY AS u(g, n) ORDER BY n`;

/** `INSERT_CALL_GROUPS`' parameter: `callGroupRows`, each group's JSON embedded as it is. */
export function callGroupsJson(calls: readonly StoredCall[]): [string] {
  return [jsonRows(callGroupRows(calls).map(([runId, itemId, group]) => [runId, itemId, { json: group }]))];
}

/** A value of a `jsonRows` row: a string, a number, null, or a JSON text to embed as it is. */
export type JsonRowValue = string | number | null | { json: string };

/**
 * Rows for a statement that reads them with `json_array_elements($n::json)` (`row->>i`, cast as
 * its column needs; null is SQL NULL, a number that is not finite goes as its name): strings are quoted,
 * `{ json }` values (JSON texts: a record, a call group) are embedded as they are and read back by
 * `embeddedText`, byte for byte as written. Passed as `text[]` columns instead, pg escaped every
 * quote of those JSON texts with two regex passes per element (~4 % of a worker's CPU in a shared
 * run, bench (g)) and PostgreSQL unescaped them again.
 *
 * PostgreSQL refuses two escapes that JSON.stringify writes (NUL's and a lone surrogate's; model
 * output may hold either): a JSON text with any `\u` escape goes quoted, as a string. Strings are
 * made well-formed, as pg's UTF-8 encoding of a lone surrogate made it U+FFFD.
 */
export function jsonRows(rows: readonly (readonly JsonRowValue[])[]): string {
  let out = "[";
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    out += r > 0 ? ",[" : "[";
    for (let i = 0; i < row.length; i++) {
      const value = row[i] ?? null;
      if (i > 0) out += ",";
      if (typeof value === "string") out += JSON.stringify(wellFormed(value));
      else if (typeof value === "number") out += Number.isFinite(value) ? String(value) : `"${value}"`;
      else if (value === null) out += "null";
      else out += value.json.includes("\\u") ? JSON.stringify(value.json) : value.json;
    }
    out += "]";
  }
  return `${out}]`;
}

/** SQL for the text of the `{ json }` value at `i` of a `jsonRows` row: as written, or unquoted. */
export function embeddedText(row: string, i: number): string {
  return `CASE json_typeof(${row}->${i}) WHEN 'string' THEN ${row}->>${i} ELSE (${row}->${i})::text END`;
}

/** `String#toWellFormed` (ES2024, in every Node spri runs on; the project's TypeScript lib is ES2023). */
function wellFormed(value: string): string {
  return (value as string & { toWellFormed(): string }).toWellFormed();
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
