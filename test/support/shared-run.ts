/**
 * A shared run made through the store's own work-queue API, as `spri worker` processes would leave
 * it: ten items, two workers on two hosts. `gpu-a` is alive (a long lease) and holds two items;
 * `gpu-b` finished two items (one failed) and then went silent, so its heartbeat is older than its
 * short lease and the store reports it `lost`. The fixture waits for that condition on the store's
 * own clock; it never sleeps a fixed time.
 */
import type { RunStore } from "../../src/runtime/store/run-store.ts";

export const SHARED_ITEMS = 10;
export const ALIVE = { id: "worker-alive", host: "gpu-a", pid: 4101 };
export const LOST = { id: "worker-lost", host: "gpu-b", pid: 4202 };
const LONG_LEASE_MS = 10 * 60_000;
const SHORT_LEASE_MS = 30;

/** Polls `check` until it holds. */
export async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * Creates the run (task `spri/sft`, status `running`) and its workers; returns its id. After it:
 * done 4 (3 by gpu-a, 1 by gpu-b), failed 1 (gpu-b), leased 2 (gpu-a), pending 3.
 */
export async function makeSharedRun(store: RunStore, options: { key?: string } = {}): Promise<string> {
  const run = await store.createRun({
    key: options.key ?? "shared-run",
    task: "spri/sft",
    settings: {},
    inputPath: "/data/shared.jsonl",
    baseModel: "fake-base-7b",
  });
  await store.enqueueItems(
    run.id,
    Array.from({ length: SHARED_ITEMS }, (_, i) => ({ itemId: `s${i}`, input: { id: `s${i}`, prompt: `Question ${i}?` }, line: i + 1 })),
  );
  await store.updateRun(run.id, { inputComplete: true });

  // gpu-b first: it takes two items on a short lease, finishes them (one fails) and goes silent.
  await store.registerWorker({ ...LOST, runId: run.id });
  await store.heartbeat(LOST.id, SHORT_LEASE_MS);
  // Leasing counts as a heartbeat with that lease time, so it leases on the short lease too.
  const lost = await store.leaseItems(LOST.id, { runId: run.id, max: 2, leaseMs: SHORT_LEASE_MS });
  await store.completeItems(LOST.id, [
    {
      runId: run.id,
      itemId: lost[0]!.itemId,
      token: lost[0]!.token,
      status: "done",
      record: { id: lost[0]!.itemId, prompt: "q" },
      calls: [],
    },
    { runId: run.id, itemId: lost[1]!.itemId, token: lost[1]!.token, status: "failed", reason: "model error: timeout", calls: [] },
  ]);
  // Leasing proves a worker alive and records the lease time it asked for: its last beat is on the short lease.
  await store.heartbeat(LOST.id, SHORT_LEASE_MS);

  // gpu-a: finishes three items and holds two more.
  await store.registerWorker({ ...ALIVE, runId: run.id });
  await store.heartbeat(ALIVE.id, LONG_LEASE_MS);
  const alive = await store.leaseItems(ALIVE.id, { runId: run.id, max: 5, leaseMs: LONG_LEASE_MS });
  await store.completeItems(
    ALIVE.id,
    alive.slice(0, 3).map((lease) => ({
      runId: run.id,
      itemId: lease.itemId,
      token: lease.token,
      status: "done" as const,
      record: { id: lease.itemId, prompt: "q" },
      calls: [],
    })),
  );

  await until(
    async () => (await store.listWorkers(run.id)).some((w) => w.id === LOST.id && w.status === "lost"),
    "gpu-b to be reported lost",
  );
  return run.id;
}
