/**
 * Store writes of a run, batched: item states and their calls are written together every
 * `batchSize` items or `intervalMs`, in two transactions, instead of two per item. The output file,
 * not the store, decides what is done, so a crash that loses the last batch loses nothing a re-run
 * needs; the next run writes those states again.
 */
import type { RunStore, ItemUpdate, StoredCall } from "../store/run-store.ts";

export class StoreWriter {
  private readonly store: RunStore;
  private readonly runId: string;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private updates: ItemUpdate[] = [];
  private calls: StoredCall[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(store: RunStore, runId: string, options: { batchSize?: number; intervalMs?: number } = {}) {
    this.store = store;
    this.runId = runId;
    this.batchSize = options.batchSize ?? 64;
    this.intervalMs = options.intervalMs ?? 500;
  }

  /** Queues one finished item: its state (with record or reason) and the calls it made. */
  add(update: ItemUpdate, calls: readonly StoredCall[]): Promise<void> {
    this.updates.push(update);
    this.calls.push(...calls);
    if (this.updates.length >= this.batchSize) return this.flush();
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
    return Promise.resolve();
  }

  /** Queues calls of an item that did not finish (cancelled): paid for, so recorded. */
  addCalls(calls: readonly StoredCall[]): void {
    if (calls.length === 0) return;
    this.calls.push(...calls);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
  }

  /** Writes what is queued; resolves when it (and any earlier flush) is in the store. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const updates = this.updates;
    const calls = this.calls;
    this.updates = [];
    this.calls = [];
    this.flushing = this.flushing.then(async () => {
      if (updates.length > 0) await this.store.setItemStatuses(this.runId, updates);
      if (calls.length > 0) await this.store.recordCalls(calls);
    });
    return this.flushing;
  }
}
