/**
 * The workers panel's API: `GET /api/runs/:id/workers` and the `workers` events of the run's event
 * stream, over a shared run whose workers were registered through the store's work-queue API.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SqliteStore } from "../../runtime/store/sqlite-store.ts";
import { ALIVE, LOST, makeSharedRun, SHARED_ITEMS } from "../../../test/support/shared-run.ts";
import type { RunWorkersResponse } from "./api-types.ts";
import { createApp } from "./app.ts";

const PORT = 4321;
const HOST = `127.0.0.1:${PORT}`;

/** An event stream read as far as a test needs: `until` reads on until the events so far satisfy it. */
function eventReader(response: Response) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const events = () =>
    text
      .split("\n\n")
      .slice(0, -1) // complete events only
      .filter((e) => e.startsWith("event: "))
      .map((e) => ({ event: /^event: (.*)$/m.exec(e)![1]!, data: /^data: (.*)$/m.exec(e)?.[1] ?? "" }));
  const workers = () =>
    events()
      .filter((e) => e.event === "workers")
      .map((e) => JSON.parse(e.data) as RunWorkersResponse);
  return {
    workers,
    async until(check: () => boolean): Promise<void> {
      while (!check()) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended first:\n${text}`);
        text += decoder.decode(value);
      }
    },
    cancel: () => reader.cancel(),
  };
}

describe("workers API", () => {
  let dir: string;
  let store: SqliteStore;
  let runId: string;
  let app: ReturnType<typeof createApp>["app"];
  const get = (path: string) => app.request(path, { headers: { host: HOST } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-workers-api-"));
    store = new SqliteStore(join(dir, "spri.db"));
    runId = await makeSharedRun(store);
    app = createApp({ store, access: { port: PORT }, pollMs: 20 }).app;
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a run's items by state, rate, ETA and workers with their per-run counts; the silent one lost", async () => {
    const res = await get(`/api/runs/${runId}/workers`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as RunWorkersResponse;
    assert.equal(body.runId, runId);
    assert.equal(body.status, "running");
    assert.deepEqual(body.items, { total: SHARED_ITEMS, done: 4, failed: 1, leased: 2, pending: 3 });
    assert.ok(body.ratePerMinute > 0, "items finished moments ago");
    assert.equal(typeof body.etaSeconds, "number");
    assert.equal(body.activeWorkers, 1);
    const rows = body.workers.map((w) => ({
      host: w.host,
      pid: w.pid,
      done: w.itemsDone,
      failed: w.itemsFailed,
      leased: w.leased,
      status: w.status,
    }));
    assert.deepEqual(
      rows.sort((a, b) => a.host.localeCompare(b.host)),
      [
        { host: ALIVE.host, pid: ALIVE.pid, done: 3, failed: 0, leased: 2, status: "active" },
        { host: LOST.host, pid: LOST.pid, done: 1, failed: 1, leased: 0, status: "lost" },
      ],
    );
    assert.ok(body.workers.every((w) => Number.isFinite(Date.parse(w.heartbeatAt)) && w.heartbeatAgeSeconds >= 0));
  });

  test("an unknown run is 404, and the route keeps the Host check", async () => {
    assert.equal((await get("/api/runs/nope/workers")).status, 404);
    assert.equal((await app.request(`/api/runs/${runId}/workers`, { headers: { host: "evil.example" } })).status, 403);
  });

  test("the events stream sends a workers snapshot, and another when a worker finishes an item", async () => {
    const res = await get(`/api/runs/${runId}/events`);
    assert.equal(res.status, 200);
    const stream = eventReader(res);
    try {
      await stream.until(() => stream.workers().length > 0);
      const first = stream.workers()[0]!;
      assert.deepEqual(first.items, { total: SHARED_ITEMS, done: 4, failed: 1, leased: 2, pending: 3 });
      assert.deepEqual(first.workers.map((w) => w.status).sort(), ["active", "lost"]);

      // A third worker joins and finishes one waiting item.
      await store.registerWorker({ id: "worker-late", host: "gpu-c", pid: 4303, runId });
      await store.heartbeat("worker-late", 600_000);
      const [lease] = await store.leaseItems("worker-late", { runId, max: 1, leaseMs: 600_000 });
      await store.completeItems("worker-late", [{ runId, itemId: lease!.itemId, token: lease!.token, status: "done", calls: [] }]);
      await stream.until(() => stream.workers().some((w) => w.items.done === 5));
      const last = stream.workers().find((w) => w.items.done === 5)!;
      assert.deepEqual(last.items, { total: SHARED_ITEMS, done: 5, failed: 1, leased: 2, pending: 2 });
      assert.equal(last.activeWorkers, 2);
      assert.deepEqual(last.workers.find((w) => w.host === "gpu-c")?.itemsDone, 1);
    } finally {
      await stream.cancel();
    }
  });
});
