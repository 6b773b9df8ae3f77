import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SqliteStore } from "../store/sqlite-store.ts";
import { ALIVE, LOST, makeSharedRun, SHARED_ITEMS } from "../../../test/support/shared-run.ts";
import { estimateRate, runRows, watchCounts, watchRun } from "./run-watch.ts";

const MIN = 60_000;
const NOW = Date.parse("2026-03-01T12:00:00.000Z");

describe("estimateRate", () => {
  test("items in the window over the window", () => {
    const times = [NOW - 10_000, NOW - 70_000, NOW - 130_000, NOW - 6 * MIN];
    assert.deepEqual(estimateRate(times, { now: NOW, windowMs: 5 * MIN }), { ratePerMinute: 0.6, rateWindowSeconds: 300 });
  });

  test("the window starts no earlier than the workers did", () => {
    const times = [NOW - 5_000, NOW - 20_000, NOW - 40_000, NOW - 4 * MIN];
    assert.deepEqual(estimateRate(times, { now: NOW, windowMs: 5 * MIN, since: NOW - MIN }), { ratePerMinute: 3, rateWindowSeconds: 60 });
  });

  test("a full sample is measured over its own span", () => {
    const times = Array.from({ length: 10 }, (_, i) => NOW - i * 1000 - 1000);
    // The newest 4 finished 1, 2, 3 and 4 s ago: 4 items in 4 s.
    assert.deepEqual(estimateRate(times, { now: NOW, windowMs: 5 * MIN, sample: 4 }), { ratePerMinute: 60, rateWindowSeconds: 4 });
  });

  test("nothing finished: 0; a burst right now: finite", () => {
    assert.equal(estimateRate([], { now: NOW, windowMs: 5 * MIN }).ratePerMinute, 0);
    assert.equal(estimateRate([NOW, NOW], { now: NOW, windowMs: 5 * MIN, since: NOW }).ratePerMinute, 120);
  });
});

test("watchCounts splits pending into leased and waiting", () => {
  assert.deepEqual(watchCounts({ total: 10, done: 4, failed: 1, pending: 5 }, 2), { total: 10, done: 4, failed: 1, leased: 2, pending: 3 });
  assert.deepEqual(watchCounts({ total: 3, done: 3, failed: 0, pending: 0 }, 1), { total: 3, done: 3, failed: 0, leased: 0, pending: 0 });
});

describe("watchRun over a store", () => {
  let dir: string;
  let store: SqliteStore;
  let runId: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-watch-"));
    store = new SqliteStore(join(dir, "spri.db"));
    runId = await makeSharedRun(store);
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("counts, rate, ETA and both workers, the silent one lost", async () => {
    const watch = await watchRun(store, (await store.getRun(runId))!);
    assert.deepEqual(watch.items, { total: SHARED_ITEMS, done: 4, failed: 1, leased: 2, pending: 3 });
    assert.ok(watch.ratePerMinute > 0);
    assert.ok(watch.etaSeconds !== null && watch.etaSeconds > 0);
    const byId = new Map(watch.workers.map((w) => [w.id, w]));
    assert.deepEqual(
      [byId.get(ALIVE.id), byId.get(LOST.id)].map((w) => w && [w.host, w.pid, w.itemsDone, w.itemsFailed, w.leased, w.status]),
      [
        ["gpu-a", ALIVE.pid, 3, 0, 2, "active"],
        ["gpu-b", LOST.pid, 1, 1, 0, "lost"],
      ],
    );
    assert.equal(watch.activeWorkers, 1);
    assert.ok(watch.workers.every((w) => w.heartbeatAgeSeconds >= 0));
  });

  test("a finished run has no ETA, and idle workers of every run are not its workers", async () => {
    const done = await store.createRun({ key: "other", task: "spri/sft", settings: {}, inputPath: "/x", baseModel: "m" });
    await store.setItemStatus(done.id, "x", "done");
    await store.updateRun(done.id, { status: "completed" });
    await store.registerWorker({ id: "every-run", host: "gpu-c", pid: 7 });
    const watch = await watchRun(store, (await store.getRun(done.id))!);
    assert.equal(watch.etaSeconds, null);
    assert.deepEqual(watch.workers, []);
    // The running run counts the worker of every run as one of its active workers.
    assert.equal((await watchRun(store, (await store.getRun(runId))!)).activeWorkers, 2);
    const rows = await runRows(store, 10);
    assert.deepEqual(
      rows.map((r) => [r.id, r.activeWorkers, r.items.leased]),
      [
        [done.id, 0, 0],
        [runId, 2, 2],
      ],
    );
    await store.stopWorker("every-run");
  });
});
