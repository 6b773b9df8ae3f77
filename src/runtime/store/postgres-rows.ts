/**
 * Rows of the PostgreSQL run store and the values written into them: the same field-for-field
 * mapping as the SQLite store (only CallRecord fields reach the database, absent optional fields
 * read back absent), in the forms multi-row inserts take: column arrays for `unnest` (numbers and
 * short texts), or rows bound value by value (`RowsInsert`: large texts).
 */
import type { ItemUpdate, StoredCall } from "./run-store.ts";
import { ADD_TO_CALL_MINUTES, ADD_TO_USAGE, CALL_MINUTE_SUMS, callMinutesOf, USAGE_COLUMNS } from "./store-rows.ts";

/** The most rows one `RowsInsert` statement binds (a batch beyond it takes several). */
const MAX_ROWS_PER_STATEMENT = 1024;
/** PostgreSQL's limit on a statement's parameters: wide rows go fewer a statement. */
const MAX_PARAMETERS = 65_535;

/**
 * A multi-row INSERT whose values are bound one by one as plain parameters (texts as they are, byte
 * for byte): `INSERT INTO t (…) SELECT … FROM (VALUES ($1::text, …), …) AS v(…) WHERE … IS NOT NULL`.
 *
 * Why not one parameter for all rows: as a JSON array read with `json_array_elements` and `row->>i`,
 * PostgreSQL lexed each row's whole JSON again for every column it took (a call group's 8 KB seven
 * times), and those three INSERTs (cache, call groups, records) took 60 % of the server's time in a
 * shared run (bench (g), pg_stat_statements); as `text[]` columns, pg escaped every quote of the JSON
 * texts and PostgreSQL unescaped them again. Bound values cost neither: the same rows took half the
 * server CPU. A statement is prepared once per connection and row count, so batches are padded with
 * rows of NULLs (skipped by the WHERE) to a power of two: at most 11 statements per kind.
 *
 * PostgreSQL text cannot hold NUL: a value with one fails the statement (a JSON text escapes it; the
 * cache does not store answers that hold one). pg sends a lone surrogate as U+FFFD.
 */
export class RowsInsert {
  private readonly texts = new Map<number, string>();
  private readonly name: string;
  private readonly into: string;
  private readonly columns: readonly (readonly [name: string, type: string])[];
  private readonly ordered: boolean;
  private readonly tail: string;

  /**
   * `columns` in the order of each row's values, the first never null; `ordered`: rows are inserted in
   * the order given (identity values follow it); `tail`: what follows the SELECT (`ON CONFLICT …`).
   */
  constructor(spec: {
    name: string;
    into: string;
    columns: readonly (readonly [name: string, type: string])[];
    ordered?: boolean;
    tail?: string;
  }) {
    this.name = spec.name;
    this.into = spec.into;
    this.columns = spec.columns;
    this.ordered = spec.ordered ?? false;
    this.tail = spec.tail ?? "";
  }

  /** The statements that insert `rows`, with their parameters; one per `MAX_ROWS_PER_STATEMENT` rows (fewer when wide). */
  statements(rows: readonly (readonly unknown[])[]): { statement: { name: string; text: string }; values: unknown[] }[] {
    const out: { statement: { name: string; text: string }; values: unknown[] }[] = [];
    const width = this.columns.length;
    let perStatement = MAX_ROWS_PER_STATEMENT;
    while (perStatement * width > MAX_PARAMETERS) perStatement /= 2;
    for (let from = 0; from < rows.length; from += perStatement) {
      const chunk = rows.slice(from, from + perStatement);
      let size = 1;
      while (size < chunk.length) size *= 2;
      const values: unknown[] = new Array(size * width).fill(null);
      chunk.forEach((row, r) => {
        if (row.length !== width) throw new Error(`${this.name}: a row of ${row.length} values for ${width} columns`);
        // The WHERE that skips the padding would skip such a row too, silently.
        if (row[0] === null || row[0] === undefined) throw new Error(`${this.name}: a row without its ${this.columns[0]![0]}`);
        for (let c = 0; c < width; c++) values[r * width + c] = row[c] ?? null;
      });
      out.push({ statement: { name: `${this.name}_${size}`, text: this.text(size) }, values });
    }
    return out;
  }

  private text(size: number): string {
    let text = this.texts.get(size);
    if (text !== undefined) return text;
    const names = this.columns.map(([name]) => name);
    const width = names.length;
    const tuples: string[] = [];
    for (let r = 0; r < size; r++) {
      const params = this.columns.map(([, type], c) => `$${r * width + c + 1}::${type}`);
      tuples.push(`(${this.ordered ? `${r}, ` : ""}${params.join(", ")})`);
    }
    const aliases = `${this.ordered ? "spri_row_order, " : ""}${names.join(", ")}`;
    text = `INSERT INTO ${this.into} (${names.join(", ")}) SELECT ${names.map((n) => `v.${n}`).join(", ")}
  FROM (VALUES ${tuples.join(", ")}) AS v(${aliases})
  WHERE v.${names[0]} IS NOT NULL${this.ordered ? " ORDER BY v.spri_row_order" : ""} ${this.tail}`;
    this.texts.set(size, text);
    return text;
  }
}

/** An item's calls as one row each, in the order given (group ids grow in it): rows of `callGroupRows`. */
export const INSERT_CALL_GROUPS = new RowsInsert({
  name: "spri_insert_call_groups",
  into: "call_groups",
  columns: [
    ["run_id", "text"],
    ["item_id", "text"],
    ["calls", "text"],
  ],
  ordered: true,
});

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
