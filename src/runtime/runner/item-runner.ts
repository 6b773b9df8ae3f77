/**
 * One leased item through its run's algorithm: the calls are priced and traced as they end, and the
 * outcome (record or failure reason, with every call) goes to the completer, which commits it fenced
 * by the lease's token. Shared by `spri run` and `spri worker`.
 */
import { BudgetError, describeError, ModelError } from "../../base/errors/errors.ts";
import { anySignal } from "../../base/util/abort.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import type { StoredCall } from "../store/run-store.ts";
import type { Lease } from "../store/work-queue.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import { BatchPending } from "./batch-lane.ts";
import type { Completer } from "./completer.ts";
import { SAMPLE_FIELD } from "./samples.ts";

export interface ItemRunnerOptions {
  prepared: PreparedTask;
  /** The item's models (already behind cache, limits and retries), or per item in batch mode. */
  models: SpriModels | (() => { models: SpriModels; settle(final: boolean): void });
  idField: string;
  timeoutMs?: number;
  completer: Completer;
  /** Cancels every item (hard error, interrupt); the item's own signal aborts it alone. */
  cancel: AbortSignal;
  /** Prices a finished call (and counts it); returns its cost. */
  price(call: CallRecord): number | undefined;
  onCall?: (call: CallRecord, costUsd: number | undefined) => void;
  /** A failure that no other item can get past (quota, key, unknown model). */
  onFatal(reason: string): void;
  /** The run's budget could not pay for a call: the item waits for the next run, and no new ones should start. */
  onBudgetSpent?: (reason: string) => void;
  /** A failed item's error kind, for the rejects file. */
  onFailure?: (itemId: string, kind: string | undefined, reason: string) => void;
  /** The item was abandoned because its lease was lost (another worker has it now). */
  onLeaseLost?: (lease: Lease) => void;
  /** Batch mode: the item waits for a batch round and keeps its lease until the pass ends. */
  onBatchPending?: (lease: Lease) => void;
}

/** Errors that no other item can get past: the run stops instead of failing item after item. */
export function isFatal(error: unknown): boolean {
  return error instanceof ModelError && (error.kind === "quota" || error.kind === "auth" || error.kind === "not-found");
}

export function itemRunner(options: ItemRunnerOptions): (lease: Lease, signal: AbortSignal) => Promise<void> {
  const { prepared, idField, completer } = options;
  return async (lease, signal) => {
    const item = lease.input as TaskItem;
    const calls: StoredCall[] = [];
    const account = (call: CallRecord) => {
      const costUsd = options.price(call);
      calls.push({ ...call, runId: lease.runId, costUsd });
      options.onCall?.(call, costUsd);
    };
    // Batch mode: a pass may end waiting for a round, and then none of its calls count; the calls
    // of the pass that finishes the item are accounted for when it does.
    const scope = typeof options.models === "function" ? options.models() : undefined;
    const deferred: CallRecord[] | undefined = scope ? [] : undefined;
    const { signal: aborted, dispose } = anySignal([options.cancel, signal]);
    const result = { runId: lease.runId, itemId: lease.itemId, token: lease.token };
    try {
      // The calls are traced under the queue's id (one per sample, see samples.ts), the item's draws kept per sample.
      const outcome = await prepared.algorithm.run(item, scope ? scope.models : (options.models as SpriModels), {
        itemId: lease.itemId,
        sample: item.sample,
        runId: lease.runId,
        timeoutMs: options.timeoutMs,
        signal: aborted,
        onCall: (call) => (deferred ? deferred.push(call) : account(call)),
      });
      scope?.settle(true);
      deferred?.forEach(account);
      const sample = item.sample === undefined ? {} : { [SAMPLE_FIELD]: item.sample };
      const record: ItemRecord = { [idField]: item.id, ...item.row, ...outcome.fields, ...sample, spri_usage: itemUsage(calls) };
      completer.add({ ...result, status: "done", record, calls });
    } catch (error) {
      if (error instanceof BatchPending) {
        scope?.settle(false);
        options.onBatchPending?.(lease);
        return;
      }
      scope?.settle(true);
      deferred?.forEach(account);
      if (error instanceof BudgetError) {
        // Not the item's failure: the call was never made. The item stays pending for the next run.
        completer.addCalls(calls);
        options.onBudgetSpent?.(error.message);
        return;
      }
      if (aborted.aborted && !isFatal(error)) {
        // Paid for, so recorded as the run's calls; the item itself stays with whoever holds it.
        completer.addCalls(calls);
        if (signal.aborted && !options.cancel.aborted) options.onLeaseLost?.(lease);
        return;
      }
      const reason = describeError(error);
      options.onFailure?.(lease.itemId, error instanceof ModelError ? error.kind : undefined, reason);
      completer.add({ ...result, status: "failed", reason, calls });
      if (isFatal(error)) options.onFatal(reason);
    } finally {
      dispose();
    }
  };
}

/** What one item cost: every call, the cached ones free. */
function itemUsage(calls: readonly StoredCall[]): Record<string, number | null> {
  let inputTokens = 0;
  let outputTokens = 0;
  let cost: number | null = 0;
  let cached = 0;
  for (const call of calls) {
    if (call.cacheHit) {
      cached++;
      continue;
    }
    inputTokens += call.usage.inputTokens;
    outputTokens += call.usage.outputTokens;
    cost = cost === null || call.costUsd === undefined ? null : cost + call.costUsd;
  }
  return { calls: calls.length, cached_calls: cached, input_tokens: inputTokens, output_tokens: outputTokens, cost_usd: cost };
}
