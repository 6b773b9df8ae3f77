/**
 * The contract suite of `RunStore`: every backend (SQLite, PostgreSQL) registers these tests with
 * its own opener, so both keep the same semantics. Backend-specific checks (files, pragmas, schema
 * versions, raw rows) stay in the backend's own test file.
 *
 *   runStoreContract("sqlite", (like) => ...);     // in sqlite-store.test.ts
 *   workQueueContract("postgres", (like) => ...);  // in postgres-store.test.ts
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type OpenStore, call, newRun, tracked } from "./contract-fixtures.ts";
import { REDACTED, type RunStore, StoreError } from "./run-store.ts";

export { workQueueContract } from "./work-queue-contract.ts";
export type { OpenStore } from "./contract-fixtures.ts";
import { callsContract } from "./store-contract-calls.ts";

export function runStoreContract(name: string, openStore: OpenStore<RunStore>): void {
  const open = tracked(openStore);

  describe(`${name} run store: runs`, () => {
    test("create, get, find by key, list, update round-trip", async () => {
      const store = await open();
      const created = await store.createRun(newRun());
      assert.match(created.id, /^[0-9a-f-]{36}$/);
      assert.equal(created.status, "running");
      assert.equal(created.createdAt, created.updatedAt);
      assert.deepEqual(await store.getRun(created.id), created);
      assert.deepEqual(await store.findRunByKey(created.key), created);
      assert.equal(await store.findRunByKey("nope"), undefined);
      assert.equal(await store.getRun("nope"), undefined);

      const updated = await store.updateRun(created.id, { status: "completed", outputPath: "other.jsonl" });
      assert.equal(updated.status, "completed");
      assert.equal(updated.outputPath, "other.jsonl");
      assert.equal(updated.criticModel, "anthropic#claude");
      assert.deepEqual(await store.getRun(created.id), updated);
      await assert.rejects(store.updateRun("nope", { status: "failed" }), StoreError);
      await assert.rejects(store.updateRun(created.id, { status: "bogus" as never }), StoreError);
    });

    test("a run without critic or output path reads back without those fields", async () => {
      const store = await open();
      const { outputPath: _o, criticModel: _c, ...bare } = newRun();
      const created = await store.createRun(bare);
      const read = await store.getRun(created.id);
      assert.ok(read);
      assert.equal("outputPath" in read, false);
      assert.equal("criticModel" in read, false);
    });

    test("findRunByKey returns the newest run with that key; listRuns pages newest first", async () => {
      const store = await open();
      const a = await store.createRun(newRun({ id: "a", createdAt: "2025-01-01T00:00:00.000Z" }));
      const b = await store.createRun(newRun({ id: "b", createdAt: "2025-01-02T00:00:00.000Z" }));
      const c = await store.createRun(newRun({ id: "c", key: "other", createdAt: "2025-01-03T00:00:00.000Z" }));
      assert.equal((await store.findRunByKey(a.key))?.id, "b");
      assert.deepEqual(
        (await store.listRuns()).map((r) => r.id),
        ["c", "b", "a"],
      );
      assert.deepEqual(
        (await store.listRuns({ limit: 1, offset: 1 })).map((r) => r.id),
        [b.id],
      );
      assert.equal(c.key, "other");
      await assert.rejects(store.createRun(newRun({ id: "a" })), StoreError);
    });

    test("credential-named settings are redacted on the way in", async () => {
      const store = await open();
      const run = await store.createRun(
        newRun({
          settings: {
            model: "gpt-4o-mini",
            apiKey: "sk-live-SECRET1",
            endpoints: [{ url: "http://x", api_key: "sk-live-SECRET2", headers: { Authorization: "Bearer SECRET3" } }],
          },
        }),
      );
      assert.equal(run.settings.apiKey, REDACTED);
      await store.updateRun(run.id, { settings: { password: "SECRET4", maxTokens: 5 } });
      const read = await store.getRun(run.id);
      assert.deepEqual(read?.settings, { password: REDACTED, maxTokens: 5 });
      assert.doesNotMatch(JSON.stringify([run, await store.listRuns()]), /SECRET/);
    });

    test("records and settings round-trip byte for byte (key order, unicode, numbers)", async () => {
      const store = await open();
      const settings = { z: 1, a: { y: [3, 1.5, -0], b: "é ✓ \u2028" }, m: null, big: 1e21, small: 1e-7 };
      const run = await store.createRun(newRun({ settings }));
      const record = { zeta: "last first", alpha: { b: 2, a: 1 }, list: [{ y: 1, x: 2 }], text: 'line\nbreak "quoted" 😀' };
      await store.setItemStatus(run.id, "q1", "done", { record });
      assert.equal(JSON.stringify((await store.getRun(run.id))?.settings), JSON.stringify(settings));
      assert.equal(JSON.stringify((await store.getItem(run.id, "q1"))?.record), JSON.stringify(record));
      // Model output may hold anything: NUL, a lone surrogate, text that looks like an escape.
      const odd = { text: "nul \u0000 lone \ud800 pair 😀 literal \\u0000 and \\ud800 \x1b", list: ["\udfff", "\\"] };
      await store.setItemStatus(run.id, "q2", "done", { record: odd });
      assert.equal(JSON.stringify((await store.getItem(run.id, "q2"))?.record), JSON.stringify(odd));
    });

    test("every method rejects once the store is closed; closing twice is fine", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      await store.close();
      await store.close();
      await assert.rejects(store.getRun(run.id), StoreError);
      await assert.rejects(store.setItemStatus(run.id, "a", "done"), StoreError);
      await assert.rejects(store.cache.get("k"), StoreError);
    });
  });

  describe(`${name} run store: items`, () => {
    test("status round trip: reason, record, attempts, counts, paging by status and sort", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      await store.setItemStatuses(run.id, [
        { itemId: "q1", status: "pending" },
        { itemId: "q2", status: "pending" },
        { itemId: "q3", status: "pending" },
      ]);
      await store.setItemStatus(run.id, "q2", "failed", { reason: "rate limited" });
      await store.setItemStatus(run.id, "q1", "done", { record: { question: "q1", principle_final: "Be kind." } });
      await store.setItemStatus(run.id, "q2", "done", { record: { question: "q2" } });

      const statuses = await store.itemStatuses(run.id);
      assert.deepEqual([...statuses].sort(), [
        ["q1", "done"],
        ["q2", "done"],
        ["q3", "pending"],
      ]);
      const items = await store.listItems(run.id);
      assert.deepEqual(
        items.map((i) => [i.itemId, i.status, i.attempts, i.reason, i.record]),
        [
          ["q1", "done", 1, undefined, { question: "q1", principle_final: "Be kind." }],
          ["q2", "done", 2, undefined, { question: "q2" }],
          ["q3", "pending", 0, undefined, undefined],
        ],
      );
      assert.deepEqual(
        (await store.listItems(run.id, { status: "done", limit: 1, offset: 1 })).map((i) => i.itemId),
        ["q2"],
      );
      assert.deepEqual(
        (await store.listItems(run.id, { sort: "-id" })).map((i) => i.itemId),
        ["q3", "q2", "q1"],
      );
      assert.deepEqual(
        (await store.listItems(run.id, { sort: "-seq", status: "done" })).map((i) => i.itemId),
        ["q2", "q1"],
      );
      assert.deepEqual(await store.itemCounts(run.id), { pending: 1, done: 2, failed: 0, total: 3 });

      await store.setItemStatus(run.id, "q3", "failed", { reason: "bad JSON" });
      const [failed] = await store.listItems(run.id, { status: "failed" });
      assert.equal(failed?.reason, "bad JSON");
      assert.equal(failed?.runId, run.id);
      assert.equal((await store.getItem(run.id, "q3"))?.reason, "bad JSON");
      assert.equal(await store.getItem(run.id, "nope"), undefined);
      assert.ok((await store.getRun(run.id))!.updatedAt >= run.updatedAt);

      await assert.rejects(store.setItemStatus("missing-run", "q1", "done"), StoreError);
      await assert.rejects(store.setItemStatus(run.id, "q1", "weird" as never), StoreError);
      await assert.rejects(store.listItems(run.id, { sort: "weird" as never }), StoreError);
      assert.equal((await store.itemStatuses("missing-run")).size, 0);
    });

    test("one batch may name an item twice: the updates apply in order", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      await store.setItemStatuses(run.id, [
        { itemId: "a", status: "pending" },
        { itemId: "a", status: "done", record: { n: 1 } },
        { itemId: "b", status: "failed", reason: "x" },
      ]);
      const a = await store.getItem(run.id, "a");
      assert.deepEqual([a?.status, a?.attempts, a?.record], ["done", 1, { n: 1 }]);
      assert.equal((await store.getItem(run.id, "b"))?.reason, "x");
    });

    test("itemStatuses reads 100,000 items", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      const other = await store.createRun(newRun({ key: "other" }));
      const updates = Array.from({ length: 100_000 }, (_, i) => ({
        itemId: `item-${i}`,
        status: i % 10 === 0 ? ("failed" as const) : i % 3 === 0 ? ("pending" as const) : ("done" as const),
      }));
      await store.setItemStatuses(run.id, updates);
      await store.setItemStatuses(other.id, [{ itemId: "item-1", status: "pending" }]);
      const statuses = await store.itemStatuses(run.id);
      assert.equal(statuses.size, 100_000);
      assert.equal(statuses.get("item-0"), "failed");
      assert.equal(statuses.get("item-3"), "pending");
      assert.equal(statuses.get("item-99999"), "pending");
      assert.equal(statuses.get("item-1"), "done");
      const counts = await store.itemCounts(run.id);
      assert.equal(counts.total, 100_000);
      assert.equal(counts.failed, 10_000);
      assert.deepEqual((await store.itemStatuses(other.id)).get("item-1"), "pending");
    });

    test("resume: another store on the same database finds the same run, statuses, calls and usage", async () => {
      const first = await open();
      const run = await first.createRun(newRun());
      await first.setItemStatus(run.id, "a", "done", { record: { x: 1 } });
      await first.setItemStatus(run.id, "b", "failed", { reason: "timeout" });
      await first.recordCalls([call(run.id, "a")]);
      const second = await open(first);
      await first.close();
      assert.deepEqual(await second.findRunByKey(run.key), (await second.getRun(run.id))!);
      assert.equal((await second.findRunByKey(run.key))?.id, run.id);
      assert.deepEqual([...(await second.itemStatuses(run.id))].sort(), [
        ["a", "done"],
        ["b", "failed"],
      ]);
      assert.equal((await second.listCalls(run.id, "a")).length, 1);
      assert.equal((await second.runUsage(run.id)).calls, 1);
    });
  });
  callsContract(name, open);
}
