import assert from "node:assert/strict";
import { test } from "node:test";
import type { ItemUpdate } from "./run-store.ts";
import { WorkQueueDelegate } from "./work-queue-delegate.ts";
import type { RateLedger, WorkQueue } from "./work-queue.ts";

/** A store whose queue and bulk status writes only record what reaches them. */
class RecordingStore extends WorkQueueDelegate {
  readonly calls: unknown[][] = [];
  readonly updates: [string, readonly ItemUpdate[]][] = [];
  protected readonly queue = new Proxy({} as WorkQueue & RateLedger, {
    get:
      (_, name) =>
      async (...args: unknown[]) => {
        this.calls.push([name, ...args]);
        return name;
      },
  });
  async setItemStatuses(runId: string, updates: readonly ItemUpdate[]): Promise<void> {
    this.updates.push([runId, updates]);
  }
}

test("WorkQueueDelegate: the queue's methods reach the store's queue with their arguments and answers", async () => {
  const store = new RecordingStore();
  assert.equal(await store.leaseItems("w", { max: 2, leaseMs: 10 }), "leaseItems");
  assert.equal(await store.takeRate("k", { requests: 1, tokens: 5 }, { requests: 10 }, 60_000), "takeRate");
  assert.deepEqual(store.calls, [
    ["leaseItems", "w", { max: 2, leaseMs: 10 }],
    ["takeRate", "k", { requests: 1, tokens: 5 }, { requests: 10 }, 60_000],
  ]);
});

test("WorkQueueDelegate: setItemStatus is setItemStatuses with one update, for both backends", async () => {
  const store = new RecordingStore();
  await store.setItemStatus("r", "q1", "failed", { reason: "timeout" });
  await store.setItemStatus("r", "q2", "done");
  assert.deepEqual(store.updates, [
    ["r", [{ itemId: "q1", status: "failed", reason: "timeout", record: undefined }]],
    ["r", [{ itemId: "q2", status: "done", reason: undefined, record: undefined }]],
  ]);
});
