import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { call, newRun } from "../store/contract-fixtures.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import type { ItemResult } from "../store/work-queue.ts";
import { Completer } from "./completer.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-completer-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A store with `n` leased items, whose commits are counted by size. */
async function leasedStore(name: string, n: number) {
  const store = new SqliteStore(join(dir, `${name}.db`));
  const run = await store.createRun(newRun());
  await store.enqueueItems(
    run.id,
    Array.from({ length: n }, (_, i) => ({ itemId: `i${i}`, input: { i } })),
  );
  await store.registerWorker({ id: "w", host: "h", pid: 1, runId: run.id });
  const leases = await store.leaseItems("w", { runId: run.id, max: n, leaseMs: 60_000 });
  const commits: number[] = [];
  const completeItems = store.completeItems.bind(store);
  store.completeItems = (workerId, results) => {
    commits.push(results.length);
    return completeItems(workerId, results);
  };
  const results = leases.map((l): ItemResult => ({ ...l, status: "done", record: { id: l.itemId }, calls: [call(run.id, l.itemId)] }));
  return { store, run, results, commits };
}

test("a completer commits 16 results together on a store whose commits block (SQLite), or as many as it is told", async () => {
  const sqlite = await leasedStore("store-batch", 40);
  assert.equal(sqlite.store.writesBlock, true);
  const byStore = new Completer(sqlite.store, "w");
  for (const result of sqlite.results) byStore.add(result);
  await byStore.flush();
  assert.deepEqual(sqlite.commits, [16, 16, 8]);
  assert.equal((await sqlite.store.itemCounts(sqlite.run.id)).done, 40);
  await sqlite.store.close();

  const told = await leasedStore("told-batch", 12);
  const byOption = new Completer(told.store, "w", { batchSize: 5 });
  for (const result of told.results) byOption.add(result);
  await byOption.flush();
  assert.deepEqual(told.commits, [5, 5, 2]);
  await told.store.close();
});
