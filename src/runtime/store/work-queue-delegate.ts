/**
 * The store classes keep their work queue in a class of its own (`sqlite-work-queue.ts`,
 * `postgres-work-queue.ts`) and answer the `WorkQueue` and `RateLedger` methods through it: this base
 * class holds that forwarding once for both backends.
 */
import type {
  Completion,
  FinishedItem,
  ItemResult,
  Lease,
  QueuedItem,
  RateLedger,
  WorkerInfo,
  WorkerRegistration,
  WorkQueue,
} from "./work-queue.ts";

export abstract class WorkQueueDelegate implements WorkQueue, RateLedger {
  protected abstract readonly queue: WorkQueue & RateLedger;

  enqueueItems(runId: string, items: readonly QueuedItem[]): Promise<number> {
    return this.queue.enqueueItems(runId, items);
  }
  retryFailed(runId: string): Promise<number> {
    return this.queue.retryFailed(runId);
  }
  registerWorker(worker: WorkerRegistration): Promise<void> {
    return this.queue.registerWorker(worker);
  }
  heartbeat(workerId: string, leaseMs: number): Promise<{ runId: string; itemId: string }[]> {
    return this.queue.heartbeat(workerId, leaseMs);
  }
  stopWorker(workerId: string): Promise<void> {
    return this.queue.stopWorker(workerId);
  }
  listWorkers(runId?: string): Promise<WorkerInfo[]> {
    return this.queue.listWorkers(runId);
  }
  leaseItems(workerId: string, options: { runId?: string; max: number; leaseMs: number }): Promise<Lease[]> {
    return this.queue.leaseItems(workerId, options);
  }
  releaseItems(workerId: string, leases: readonly Pick<Lease, "runId" | "itemId" | "token">[]): Promise<void> {
    return this.queue.releaseItems(workerId, leases);
  }
  completeItems(workerId: string, results: readonly ItemResult[]): Promise<Completion> {
    return this.queue.completeItems(workerId, results);
  }
  finishedSince(runId: string, after: number, limit?: number): Promise<FinishedItem[]> {
    return this.queue.finishedSince(runId, after, limit);
  }
  leasedCount(runId: string): Promise<number> {
    return this.queue.leasedCount(runId);
  }
  claimOutput(runId: string, workerId: string, leaseMs: number): Promise<WorkerInfo | undefined> {
    return this.queue.claimOutput(runId, workerId, leaseMs);
  }
  releaseOutput(runId: string, workerId: string): Promise<void> {
    return this.queue.releaseOutput(runId, workerId);
  }
  takeRate(
    key: string,
    want: { requests: number; tokens: number },
    limits: { requests?: number; tokens?: number },
    windowMs: number,
  ): Promise<{ requests: number; tokens: number; resetInMs: number }> {
    return this.queue.takeRate(key, want, limits, windowMs);
  }
}
