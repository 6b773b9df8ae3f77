/**
 * Workers of this machine that died without saying goodbye (kill -9, a crash) are released at once
 * instead of after their lease: a process id that no longer exists on the worker's own host cannot
 * come back. Workers on other hosts are left to their leases; a reused pid only delays the release.
 */
import { hostname } from "node:os";
import type { WorkerInfo, WorkQueue } from "../store/work-queue.ts";
import { processAlive } from "../../base/util/process-alive.ts";

export async function reapDeadLocalWorkers(store: WorkQueue, runId?: string): Promise<number> {
  const host = hostname();
  let reaped = 0;
  for (const worker of await store.listWorkers(runId)) {
    if (worker.status === "stopped" || worker.host !== host || worker.pid === process.pid || processAlive(worker.pid)) continue;
    await store.stopWorker(worker.id);
    reaped++;
  }
  return reaped;
}

/** A worker of this host whose process no longer exists (it cannot beat again); false for other hosts. */
export function isGoneLocally(worker: Pick<WorkerInfo, "host" | "pid">): boolean {
  return worker.host === hostname() && worker.pid !== process.pid && !processAlive(worker.pid);
}
