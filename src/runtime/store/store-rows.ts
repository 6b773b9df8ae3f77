/**
 * Rows of the run store and the values written into them, for both backends: only the fields a
 * record type defines reach the database, and absent optional fields read back absent. SQLite hands
 * back flags as 0/1 and PostgreSQL as booleans, counts as numbers or (int8) strings: the readers
 * here take either, so one mapping serves both stores.
 */
import type { ItemRecord } from "../../io/records.ts";
import type { SamplingOptions } from "../../models/language-model.ts";
import { storedRequestJson } from "../../models/messages-json.ts";
import { perObjectAnd } from "../../base/util/per-object.ts";
import { itemKey } from "./work-queue.ts";
import {
  type ItemState,
  type ItemStatus,
  type NewRun,
  type Page,
  type RunMeta,
  type RunPatch,
  type RunStatus,
  type RunUsage,
  type StoredCall,
  ITEM_STATUSES,
  RUN_STATUSES,
  StoreError,
  redactSettings,
} from "./run-store.ts";

export type Row = Record<string, unknown>;

export const str = (value: unknown): string => (value === null || value === undefined ? "" : String(value));
export const optStr = (value: unknown): string | undefined => (value === null || value === undefined ? undefined : String(value));
export const num = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value));
export const optNum = (value: unknown): number | undefined => (value === null || value === undefined ? undefined : Number(value));
/** A boolean column: SQLite's 1 or PostgreSQL's true. */
export const flag = (value: unknown): boolean => value === true || value === 1 || value === 1n;
export const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value);
export const now = () => new Date().toISOString();

/** `[limit, offset]` of a page: 100 from the start unless asked otherwise. */
export function pageOf(page: Page | undefined): [number, number] {
  return [Math.max(0, Math.floor(page?.limit ?? 100)), Math.max(0, Math.floor(page?.offset ?? 0))];
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

/** The run `createRun` stores: defaults filled in, settings redacted, status checked. */
export function newRunMeta(run: NewRun, id: string): RunMeta {
  const createdAt = run.createdAt ?? now();
  const meta: RunMeta = {
    id: run.id ?? id,
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
  if (run.inputComplete === true) meta.inputComplete = true;
  assertRunStatus(meta.status);
  return meta;
}

/** `run` with `patch` applied, as `updateRun` stores it. */
export function patchedRun(run: RunMeta, patch: RunPatch): RunMeta {
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
  return next;
}

/**
 * The values of the `runs` columns that `updateRun` writes, in this order: status, settings,
 * output_path, base_model, critic_model, input_complete, updated_at.
 */
export function runUpdateValues(run: RunMeta): [string, string, string | null, string, string | null, boolean, string] {
  return [
    run.status,
    JSON.stringify(run.settings),
    orNull(run.outputPath),
    run.baseModel,
    orNull(run.criticModel),
    run.inputComplete === true,
    run.updatedAt,
  ];
}

/**
 * The values of the `runs` columns that `createRun` writes, in this order: id, key, task, status,
 * created_at, updated_at, settings, input_path, output_path, base_model, critic_model, input_complete.
 */
export function runInsertValues(run: RunMeta): unknown[] {
  return [
    run.id,
    run.key,
    run.task,
    run.status,
    run.createdAt,
    run.updatedAt,
    JSON.stringify(run.settings),
    run.inputPath,
    orNull(run.outputPath),
    run.baseModel,
    orNull(run.criticModel),
    run.inputComplete === true,
  ];
}

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
  if (flag(row.input_complete)) run.inputComplete = true;
  return run;
}

export function itemFromRow(row: Row): ItemState {
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

/**
 * The record fields `runStats` aggregates, as JSON text, stored beside each record (column
 * `item_records.summary`) so a run is summarised without parsing its records.
 */
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

/** The call columns, in the order of `callValues`. */
export const CALL_COLUMN_NAMES = [
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

/** The call fields every stored call has, and their types (the columns' NOT NULL, for a store without them). */
const REQUIRED_CALL_FIELDS: readonly [keyof StoredCall, "string" | "number"][] = [
  ["itemId", "string"],
  ["step", "string"],
  ["iteration", "number"],
  ["role", "string"],
  ["model", "string"],
  ["endpoint", "string"],
  ["latencyMs", "number"],
  ["startedAt", "string"],
];

/**
 * One call's column values (`CALL_COLUMN_NAMES`'s order; `cache_hit` as a boolean). Only the
 * fields a CallRecord defines reach the database; anything else on the object is dropped.
 */
export function callValues(call: StoredCall): unknown[] {
  checkCall(call);
  return [
    call.runId,
    call.itemId,
    call.step,
    call.iteration,
    call.attempt ?? 0,
    call.role,
    call.model,
    call.endpoint,
    storedRequest(call),
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

/** Throws a StoreError naming the first required field (the columns' NOT NULL) a call lacks. */
function checkCall(call: StoredCall): void {
  if (typeof call.runId !== "string" || call.runId === "") {
    throw new StoreError(`call for item "${call.itemId}" (${call.step}) has no runId`, { field: "runId" });
  }
  for (const [field, type] of REQUIRED_CALL_FIELDS) {
    const value = call[field];
    if (typeof value !== type || (type === "number" && !Number.isFinite(value))) {
      throw new StoreError(`call for item "${call.itemId}" (${call.step}) has no valid ${field}`, { field });
    }
  }
  for (const field of ["inputTokens", "outputTokens"] as const) {
    if (!Number.isFinite(call.usage?.[field])) {
      throw new StoreError(`call for item "${call.itemId}" (${call.step}) has no valid usage.${field}`, { field: `usage.${field}` });
    }
  }
}

/**
 * The stored request as JSON: the messages (see storedRequestJson), then the sampling fields and
 * the schema's name. That tail is the same for every call with the same sampling object and schema,
 * so it is made once for them (a run's calls share the settings' few sampling objects), as the
 * request body's is (see openai-compatible.ts).
 */
function storedRequest(call: StoredCall): string {
  const { messages, sampling, schema } = call.request;
  return storedRequestJson(messages, sampling === undefined ? requestTail({}, schema) : requestTails(sampling, schema));
}

const requestTails = perObjectAnd(requestTail);

/** `JSON.stringify` of the request's fields after the messages: the sampling options the stores keep, and the schema's name. */
function requestTail(s: SamplingOptions, schema: string | undefined): string {
  return JSON.stringify({
    sampling: { temperature: s.temperature, topP: s.topP, topK: s.topK, maxTokens: s.maxTokens, seed: s.seed, stop: s.stop },
    schema,
  });
}

/**
 * Calls of one item as one JSON array (the SQLite store's `call_groups.calls`): per call an object
 * of `callValues`' columns but run and item (the group row has them), with the request and parsed
 * value as JSON values (they are JSON text already) rather than strings, so they are neither
 * escaped nor parsed twice. The object is a literal of one shape, which JSON.stringify writes on
 * its fast path; the fields are read from the call itself (no array of `callValues` to take apart
 * per call).
 */
function callGroupJson(calls: readonly StoredCall[]): string {
  let text = "[";
  for (let i = 0; i < calls.length; i++) {
    const call = calls[i]!;
    checkCall(call);
    const head = JSON.stringify({
      step: call.step,
      iteration: call.iteration,
      attempt: call.attempt ?? 0,
      role: call.role,
      model: call.model,
      endpoint: call.endpoint,
      response: call.response,
      input_tokens: call.usage.inputTokens,
      output_tokens: call.usage.outputTokens,
      latency_ms: call.latencyMs,
      finish_reason: orNull(call.finishReason),
      cache_hit: call.cacheHit === true,
      error: orNull(call.error),
      cost_usd: orNull(call.costUsd),
      started_at: call.startedAt,
    });
    const parsed = call.parsed === undefined ? "null" : JSON.stringify(call.parsed);
    text += `${i > 0 ? "," : ""}${head.slice(0, -1)},"request":${storedRequest(call)},"parsed":${parsed}}`;
  }
  return `${text}]`;
}

/**
 * Calls as the stores write them: one `[runId, itemId, callGroupJson]` row per item, in the order
 * each item first appears, each group in call order. Every call is checked (`callValues`) before
 * the caller writes anything.
 */
export function callGroupRows(calls: readonly StoredCall[]): [string, string, string][] {
  const groups = new Map<string, StoredCall[]>();
  for (const call of calls) {
    const key = itemKey(call.runId, call.itemId);
    const group = groups.get(key);
    if (group) group.push(call);
    else groups.set(key, [call]);
  }
  return [...groups.values()].map((group) => [group[0]!.runId, group[0]!.itemId, callGroupJson(group)]);
}

/**
 * The calls of a `callGroupJson` text. Its entries hold the request and parsed value as JSON values,
 * so they are taken as they are, not parsed again.
 */
export function callsFromGroup(runId: string, itemId: string, text: string): StoredCall[] {
  return (JSON.parse(text) as Row[]).map((entry) => {
    const call: StoredCall = {
      runId,
      itemId,
      step: str(entry.step),
      iteration: num(entry.iteration),
      attempt: num(entry.attempt),
      role: str(entry.role) as StoredCall["role"],
      model: str(entry.model),
      endpoint: str(entry.endpoint),
      request: entry.request as StoredCall["request"],
      response: optStr(entry.response) ?? null,
      usage: { inputTokens: num(entry.input_tokens), outputTokens: num(entry.output_tokens) },
      latencyMs: num(entry.latency_ms),
      cacheHit: flag(entry.cache_hit),
      startedAt: str(entry.started_at),
    };
    if (entry.parsed !== null && entry.parsed !== undefined) call.parsed = entry.parsed as StoredCall["parsed"];
    const finishReason = optStr(entry.finish_reason);
    if (finishReason !== undefined) call.finishReason = finishReason;
    const error = optStr(entry.error);
    if (error !== undefined) call.error = error;
    const costUsd = optNum(entry.cost_usd);
    if (costUsd !== undefined) call.costUsd = costUsd;
    return call;
  });
}

/** The columns of `run_usage` after `run_id`, in the order of `usageOf`'s values. */
export const USAGE_COLUMNS = [
  "calls",
  "cache_hits",
  "errors",
  "input_tokens",
  "output_tokens",
  "cost_usd",
  "priced_calls",
  "unpriced_calls",
] as const;

/** How both backends' inserts into `run_usage` end: a run's row, when it has one, is added to. */
export const ADD_TO_USAGE = `ON CONFLICT (run_id) DO UPDATE SET
    ${USAGE_COLUMNS.map((column) => `${column} = run_usage.${column} + excluded.${column}`).join(",\n    ")}`;

/** The columns of `call_minutes` after (run_id, step, minute), in the order of `callMinutesOf`'s sums. */
export const CALL_MINUTE_SUMS = ["calls", "errors", "cache_hits", "input_tokens", "output_tokens", "cost_usd", "latency_ms"] as const;

/** How both backends' inserts into `call_minutes` end: a minute's row, when it has one, is added to. */
export const ADD_TO_CALL_MINUTES = `ON CONFLICT (run_id, step, minute) DO UPDATE SET
    ${CALL_MINUTE_SUMS.map((column) => `${column} = call_minutes.${column} + excluded.${column}`).join(",\n    ")}`;

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

type CallMinuteRow = [string, string, string, number, number, number, number, number, number, number];

/**
 * The calls' sums per (run, step, minute of `startedAt`) that `runStats` reads, as rows of
 * [run_id, step, minute, calls, errors, cache_hits, input_tokens, output_tokens, cost_usd,
 * latency_ms]: tokens and cost of paid calls only, as `usageOf`.
 */
export function callMinutesOf(calls: readonly StoredCall[]): CallMinuteRow[] {
  const sums = new Map<string, CallMinuteRow>();
  for (const call of calls) {
    const minute = call.startedAt.slice(0, 16);
    const key = `${call.runId}\u0000${call.step}\u0000${minute}`;
    let row = sums.get(key);
    if (!row) sums.set(key, (row = [call.runId, call.step, minute, 0, 0, 0, 0, 0, 0, 0]));
    row[3] += 1;
    if (call.error !== undefined) row[4] += 1;
    if (call.cacheHit) row[5] += 1;
    else {
      row[6] += call.usage.inputTokens;
      row[7] += call.usage.outputTokens;
      row[8] += call.costUsd ?? 0;
    }
    row[9] += call.latencyMs;
  }
  return [...sums.values()];
}

/** A `run_usage` row as `runUsage` reports it (no row: nothing spent). */
export function usageFromRow(row: Row | undefined): RunUsage {
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
