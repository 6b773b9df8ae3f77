/**
 * The input file into the run's work queue: rows stream in, become task items (checked up front, so
 * a bad row is rejected with its line before anything is paid), and go into the store in batches.
 * Enqueueing is idempotent: items the run already has keep their state, so every `spri run` of the
 * same command may enqueue (the first one to start does the work of it), and a later command with a
 * larger `limit` adds the items after the first ones.
 */
import { setImmediate as yieldToIo } from "node:timers/promises";
import { InputError } from "../../base/errors/errors.ts";
import { readInputRows } from "../../io/input-reader.ts";
import type { RunStore } from "../store/run-store.ts";
import type { QueuedItem } from "../store/work-queue.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import { checkItemSize, DEFAULT_MAX_ITEM_BYTES } from "../../presets/tasks/item-size.ts";
import { type FieldMapping, toTaskItem } from "../../presets/tasks/task-item.ts";
import type { RejectEntry } from "./output-tail.ts";
import { itemSamples, sampleItemId } from "./samples.ts";

export interface EnqueueOptions {
  store: RunStore;
  runId: string;
  input: string;
  prepared: PreparedTask;
  mapping: FieldMapping;
  /** The item as the run keys it (see `PreparedTask.itemKey`). */
  keyed: (item: TaskItem) => TaskItem;
  /** Runs of the algorithm per item (`--samples`, see samples.ts); default 1. */
  samples?: number;
  /** An input row that cannot become an item (malformed line, missing field, duplicate id). */
  onReject: (entry: RejectEntry) => void;
  /** After each batch is committed. */
  onBatch?: (added: number) => void;
  signal?: AbortSignal;
  /** Rows committed together; default 256, or 64 for a store whose commits block. */
  batchSize?: number;
  /** Read only the first `limit` rows of the input (`--limit`). */
  limit?: number;
  /** Bytes an item's row may hold, as JSON (`--max-item-size`); default DEFAULT_MAX_ITEM_BYTES. */
  maxItemBytes?: number;
}

export interface EnqueueResult {
  /** Items in the input (valid, unique). */
  items: number;
  /** Queue items this call added (an item per sample; the others were already there). */
  added: number;
  rejected: number;
}

/** Input rows committed together; see `WorkQueue.writesBlock` for the smaller batch. */
const BATCH = 256;
/**
 * When a commit holds the event loop (SQLite), the first items' requests wait for each batch that
 * is enqueued meanwhile: bench (f)'s first request went out ~90 ms sooner with 64 than with 256
 * (two pairs of runs).
 */
const BLOCKING_BATCH = 64;

export async function enqueueInput(options: EnqueueOptions): Promise<EnqueueResult> {
  const { store, runId, prepared, mapping } = options;
  const batchSize = options.batchSize ?? (store.writesBlock ? BLOCKING_BATCH : BATCH);
  const seen = new Set<string>();
  const result: EnqueueResult = { items: 0, added: 0, rejected: 0 };
  let batch: QueuedItem[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const added = await store.enqueueItems(runId, batch);
    result.added += added;
    batch = [];
    options.onBatch?.(added);
    // The rows of a read chunk are otherwise all enqueued before any I/O is served: the first
    // items' connections and calls waited on the whole input (about 110 ms of a 6,000-item run's
    // start, measured from spawn to the server's first request).
    await yieldToIo();
  };
  const reject = (entry: RejectEntry) => {
    result.rejected++;
    options.onReject(entry);
  };
  const maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES;
  let rows = 0;
  for await (const row of readInputRows(options.input, { onMalformed: "yield" })) {
    if (options.signal?.aborted || rows++ === options.limit) break;
    if ("error" in row && row.error) {
      reject({ line: row.line, reason: row.error.describe() });
      continue;
    }
    let item: TaskItem;
    const origin = { file: options.input, line: row.line };
    try {
      item = options.keyed(toTaskItem(prepared.task, row.value, mapping, origin));
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      reject({ line: row.line, reason: error.describe() });
      continue;
    }
    try {
      checkItemSize(item, maxItemBytes, origin);
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      reject({ id: item.id, line: row.line, reason: error.describe() });
      continue;
    }
    const runs = itemSamples(item, options.samples ?? 1).map((input) => ({
      itemId: sampleItemId(input.id, input.sample),
      input,
      line: row.line,
    }));
    const duplicate = runs.find((run) => seen.has(run.itemId));
    if (duplicate) {
      reject({
        id: duplicate.itemId,
        line: row.line,
        reason: `duplicate item id "${duplicate.itemId}": ids must be unique to resume (use --id-field, or leave it out to use line numbers)`,
      });
      continue;
    }
    for (const run of runs) seen.add(run.itemId);
    result.items++;
    batch.push(...runs);
    if (batch.length >= batchSize) await flush();
  }
  await flush();
  return result;
}
