/**
 * What both store classes (`sqlite-store.ts`, `postgres-store.ts`) answer the same way, held once:
 * the `WorkQueue` and `RateLedger` methods, forwarded to the work queue each keeps in a class of its
 * own (`sqlite-work-queue.ts`, `postgres-work-queue.ts`), and one item's status as a bulk write of one.
 */
import type { ItemRecord } from "../../io/records.ts";
import type { ItemStatus, ItemUpdate } from "./run-store.ts";
import type { RateLedger, WorkQueue } from "./work-queue.ts";

type Queue = WorkQueue & RateLedger;

export abstract class WorkQueueDelegate implements Queue {
  protected abstract readonly queue: Queue;

  abstract setItemStatuses(runId: string, updates: readonly ItemUpdate[]): Promise<void>;

  async setItemStatus(
    runId: string,
    itemId: string,
    status: ItemStatus,
    options: { reason?: string; record?: ItemRecord } = {},
  ): Promise<void> {
    await this.setItemStatuses(runId, [{ itemId, status, reason: options.reason, record: options.record }]);
  }

  enqueueItems(...args: Parameters<Queue["enqueueItems"]>) {
    return this.queue.enqueueItems(...args);
  }
  retryFailed(...args: Parameters<Queue["retryFailed"]>) {
    return this.queue.retryFailed(...args);
  }
  registerWorker(...args: Parameters<Queue["registerWorker"]>) {
    return this.queue.registerWorker(...args);
  }
  heartbeat(...args: Parameters<Queue["heartbeat"]>) {
    return this.queue.heartbeat(...args);
  }
  stopWorker(...args: Parameters<Queue["stopWorker"]>) {
    return this.queue.stopWorker(...args);
  }
  listWorkers(...args: Parameters<Queue["listWorkers"]>) {
    return this.queue.listWorkers(...args);
  }
  leaseItems(...args: Parameters<Queue["leaseItems"]>) {
    return this.queue.leaseItems(...args);
  }
  releaseItems(...args: Parameters<Queue["releaseItems"]>) {
    return this.queue.releaseItems(...args);
  }
  completeItems(...args: Parameters<Queue["completeItems"]>) {
    return this.queue.completeItems(...args);
  }
  finishedSince(...args: Parameters<Queue["finishedSince"]>) {
    return this.queue.finishedSince(...args);
  }
  leasedCount(...args: Parameters<Queue["leasedCount"]>) {
    return this.queue.leasedCount(...args);
  }
  hasPending(...args: Parameters<Queue["hasPending"]>) {
    return this.queue.hasPending(...args);
  }
  claimOutput(...args: Parameters<Queue["claimOutput"]>) {
    return this.queue.claimOutput(...args);
  }
  releaseOutput(...args: Parameters<Queue["releaseOutput"]>) {
    return this.queue.releaseOutput(...args);
  }
  takeRate(...args: Parameters<Queue["takeRate"]>) {
    return this.queue.takeRate(...args);
  }
}
