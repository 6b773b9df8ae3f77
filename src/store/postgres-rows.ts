/**
 * Rows of the PostgreSQL run store and the values written into them: the same field-for-field
 * mapping as the SQLite store (only CallRecord fields reach the database, absent optional fields
 * read back absent), in the column-array form that multi-row `unnest` inserts take.
 */
import type { ItemRecord } from "../io/records.ts";
import { storedRequestJson } from "../models/messages-json.ts";
import { toNumber } from "./postgres-db.ts";
import { redactUrl } from "../util/redact-url.ts";
import {
  type ItemState,
  type ItemStatus,
  type ItemUpdate,
  type Page,
  type RunMeta,
  type RunStatus,
  type StoredCall,
  ITEM_STATUSES,
  RUN_STATUSES,
  StoreError,
  redactSettings,
} from "./run-store.ts";

export type Row = Record<string, unknown>;

const str = (value: unknown): string => (value === null || value === undefined ? "" : String(value));
const optStr = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));
export const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
export const now = () => new Date().toISOString();

export function runFromRow(row: Row): RunMeta {
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
  if (row.input_complete === true) run.inputComplete = true;
  return run;
}

export function itemFromRow(row: Row): ItemState {
  const item: ItemState = {
    runId: str(row.run_id),
    itemId: str(row.item_id),
    status: str(row.status) as ItemStatus,
    attempts: toNumber(row.attempts),
    updatedAt: str(row.updated_at),
  };
  const reason = optStr(row.reason);
  if (reason !== undefined) item.reason = reason;
  const record = optStr(row.record);
  if (record !== undefined) item.record = JSON.parse(record) as ItemRecord;
  return item;
}

/** The record fields runStats aggregates, as JSON text (see `item_records.summary`). */
export function recordSummary(record: ItemRecord): string {
  const r = record as Record<string, unknown>;
  const pick = (name: string) => (r[name] === undefined ? null : r[name]);
  return JSON.stringify([
    pick("iteration_principle"),
    pick("iteration_response"),
    pick("principles_critique_scores"),
    pick("response_critique_scores"),
  ]);
}

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

/** Only the fields a CallRecord defines reach the database; anything else on the object is dropped. */
function callValues(call: StoredCall): unknown[] {
  if (typeof call.runId !== "string" || call.runId === "") {
    throw new StoreError(`call for item "${call.itemId}" (${call.step}) has no runId`, { field: "runId" });
  }
  const s = call.request.sampling ?? {};
  const request = storedRequestJson(call.request.messages, {
    sampling: { temperature: s.temperature, topP: s.topP, topK: s.topK, maxTokens: s.maxTokens, seed: s.seed, stop: s.stop },
    schema: call.request.schema,
  });
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
    call.cacheHit === true,
    orNull(call.error),
    orNull(call.costUsd),
    call.startedAt,
  ];
}

/** The calls as one array per column (the parameters of `INSERT_CALLS`). */
export function callColumns(calls: readonly StoredCall[]): unknown[][] {
  const columns: unknown[][] = CALL_COLUMNS.map(() => []);
  for (const call of calls) {
    const values = callValues(call);
    values.forEach((value, i) => columns[i]!.push(value === undefined ? null : value));
  }
  return columns;
}

export function callFromRow(row: Row): StoredCall {
  const call: StoredCall = {
    runId: str(row.run_id),
    itemId: str(row.item_id),
    step: str(row.step),
    iteration: toNumber(row.iteration),
    attempt: toNumber(row.attempt),
    role: str(row.role) as StoredCall["role"],
    model: str(row.model),
    endpoint: str(row.endpoint),
    request: JSON.parse(str(row.request)) as StoredCall["request"],
    response: optStr(row.response) ?? null,
    usage: { inputTokens: toNumber(row.input_tokens), outputTokens: toNumber(row.output_tokens) },
    latencyMs: toNumber(row.latency_ms),
    cacheHit: row.cache_hit === true,
    startedAt: str(row.started_at),
  };
  const parsed = optStr(row.parsed);
  if (parsed !== undefined) call.parsed = JSON.parse(parsed) as StoredCall["parsed"];
  const finishReason = optStr(row.finish_reason);
  if (finishReason !== undefined) call.finishReason = finishReason;
  const error = optStr(row.error);
  if (error !== undefined) call.error = error;
  if (row.cost_usd !== null && row.cost_usd !== undefined) call.costUsd = Number(row.cost_usd);
  return call;
}

/** Per-run usage of a batch of calls: [calls, cache hits, errors, input, output, cost, priced, unpriced]. */
export function usageOf(calls: readonly StoredCall[]): Map<string, number[]> {
  const usage = new Map<string, number[]>();
  for (const call of calls) {
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
  return usage;
}

/** Adds one row of usage per run (`usageOf`'s columns after run_id). */
export const ADD_USAGE = `INSERT INTO run_usage (run_id, calls, cache_hits, errors, input_tokens, output_tokens, cost_usd, priced_calls, unpriced_calls)
  SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[], $7::float8[], $8::int8[], $9::int8[])
  ON CONFLICT (run_id) DO UPDATE SET
    calls = run_usage.calls + excluded.calls,
    cache_hits = run_usage.cache_hits + excluded.cache_hits,
    errors = run_usage.errors + excluded.errors,
    input_tokens = run_usage.input_tokens + excluded.input_tokens,
    output_tokens = run_usage.output_tokens + excluded.output_tokens,
    cost_usd = run_usage.cost_usd + excluded.cost_usd,
    priced_calls = run_usage.priced_calls + excluded.priced_calls,
    unpriced_calls = run_usage.unpriced_calls + excluded.unpriced_calls`;

/** `ADD_USAGE`'s parameters, runs in id order (so concurrent writers lock usage rows in one order). */
export function usageColumns(usage: Map<string, number[]>): unknown[][] {
  const columns: unknown[][] = Array.from({ length: 9 }, () => []);
  for (const runId of [...usage.keys()].sort()) {
    columns[0]!.push(runId);
    usage.get(runId)!.forEach((v, i) => columns[i + 1]!.push(v));
  }
  return columns;
}

export function pageOf(page: Page | undefined): [number, number] {
  return [Math.max(0, Math.floor(page?.limit ?? 100)), Math.max(0, Math.floor(page?.offset ?? 0))];
}

/** Settings as stored: credential-named fields redacted, and the passwords of URLs in any string. */
export function storedSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const scrub = (value: unknown): unknown => {
    if (typeof value === "string") return redactUrl(value);
    if (Array.isArray(value)) return value.map(scrub);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
  };
  return scrub(redactSettings(settings)) as Record<string, unknown>;
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

export function assertRunStatus(status: string): void {
  if (!RUN_STATUSES.includes(status as RunStatus)) {
    throw new StoreError(`unknown run status "${status}"`, { hint: `use one of ${RUN_STATUSES.join(", ")}` });
  }
}

export function assertItemStatus(status: string): void {
  if (!ITEM_STATUSES.includes(status as ItemStatus)) {
    throw new StoreError(`unknown item status "${status}"`, { hint: `use one of ${ITEM_STATUSES.join(", ")}` });
  }
}
