/**
 * Workers of this machine that died without saying goodbye (kill -9, a crash) are released at once
 * instead of after their lease: a process id that no longer exists on the worker's own host cannot
 * come back. Workers on other hosts are left to their leases; a reused pid only delays the release.
 */
import { hostname } from "node:os";
import type { WorkQueue } from "../store/work-queue.ts";

export async function reapDeadLocalWorkers(store: WorkQueue, runId?: string): Promise<number> {
  const host = hostname();
  let reaped = 0;
  for (const worker of await store.listWorkers(runId)) {
    if (worker.status === "stopped" || worker.host !== host || worker.pid === process.pid || isAlive(worker.pid)) continue;
    await store.stopWorker(worker.id);
    reaped++;
  }
  return reaped;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
