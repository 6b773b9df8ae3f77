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
import { REDACTED, type RunStore, type StoredCall, StoreError } from "./run-store.ts";

export { workQueueContract } from "./work-queue-contract.ts";
export type { OpenStore } from "./contract-fixtures.ts";

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

  describe(`${name} run store: calls`, () => {
    test("a call round-trips field for field", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      const full = call(run.id, "q1", {
        step: "principle.critique",
        iteration: 2,
        attempt: 1,
        role: "critic",
        parsed: { score: 4, marker: "[[4]]" },
        costUsd: 0.0012,
      });
      const failed: StoredCall = {
        ...call(run.id, "q1", { step: "response.generate" }),
        response: null,
        usage: { inputTokens: 0, outputTokens: 0 },
        latencyMs: 0,
        error: "429 rate limited",
      };
      delete failed.finishReason;
      await store.recordCalls([full, failed]);
      assert.deepEqual(await store.listCalls(run.id, "q1"), [full, failed]);
      assert.deepEqual(await store.listCalls(run.id, "q2"), []);
    });

    test("recordCalls keeps order across batches and aggregates usage; cache hits are not paid", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      const other = await store.createRun(newRun({ key: "k2" }));
      const batch: StoredCall[] = [];
      for (let i = 0; i < 500; i++) batch.push(call(run.id, `q${i % 5}`, { iteration: i, costUsd: 0.01 }));
      batch.push(call(run.id, "q0", { iteration: 999, cacheHit: true, costUsd: 0.5 }));
      batch.push(call(other.id, "q0", { error: "boom", usage: { inputTokens: 1, outputTokens: 0 } }));
      await store.recordCalls(batch);
      await store.recordCalls([call(run.id, "q0", { iteration: 1000 })]);
      await store.recordCalls([]);

      const q0 = await store.listCalls(run.id, "q0");
      assert.equal(q0.length, 102);
      assert.deepEqual(
        q0.map((c) => c.iteration),
        [...Array.from({ length: 100 }, (_, k) => k * 5), 999, 1000],
      );
      const usage = await store.runUsage(run.id);
      assert.equal(usage.calls, 502);
      assert.equal(usage.cacheHits, 1);
      assert.equal(usage.errors, 0);
      assert.equal(usage.inputTokens, 501 * 100);
      assert.equal(usage.outputTokens, 501 * 20);
      assert.ok(Math.abs(usage.costUsd! - 5) < 1e-9);
      assert.equal(usage.unpricedCalls, 1);
      assert.deepEqual(await store.runUsage(other.id), {
        calls: 1,
        cacheHits: 0,
        errors: 1,
        inputTokens: 1,
        outputTokens: 0,
        costUsd: null,
        unpricedCalls: 1,
      });
      assert.deepEqual(await store.runUsage("none"), {
        calls: 0,
        cacheHits: 0,
        errors: 0,
        inputTokens: 0,
        outputTokens: 0,
        costUsd: null,
        unpricedCalls: 0,
      });
    });

    test("a bad call rejects the whole batch and leaves nothing behind", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      const bad = call(run.id, "q1", { iteration: null as unknown as number }); // NOT NULL fails mid-batch
      await assert.rejects(store.recordCalls([call(run.id, "q1"), call(run.id, "q1"), bad]));
      await assert.rejects(store.recordCalls([call(run.id, "q1"), call("no-such-run", "q1")]), StoreError);
      await assert.rejects(store.recordCalls([call("", "q1")]), StoreError);
      assert.deepEqual(await store.listCalls(run.id, "q1"), []);
      assert.equal((await store.runUsage(run.id)).calls, 0);
      // The store still works after the rollback.
      await store.recordCalls([call(run.id, "q1")]);
      assert.equal((await store.listCalls(run.id, "q1")).length, 1);
    });

    test("only CallRecord fields are stored: extra fields on a call are dropped", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      const leaky = {
        ...call(run.id, "q1"),
        apiKey: "sk-live-LEAK1",
        headers: { Authorization: "Bearer LEAK2" },
        request: {
          messages: [{ role: "user" as const, content: "hi", apiKey: "LEAK3" }],
          sampling: { temperature: 0, apiKey: "LEAK4" },
          apiKey: "LEAK5",
        },
      } as unknown as StoredCall;
      await store.recordCalls([leaky]);
      const [stored] = await store.listCalls(run.id, "q1");
      assert.deepEqual(stored?.request, { messages: [{ role: "user", content: "hi" }], sampling: { temperature: 0 } });
      assert.equal("apiKey" in stored!, false);
      assert.doesNotMatch(JSON.stringify(stored), /LEAK/);
    });

    test("runStats aggregates scores, iterations, failures, steps and the timeline", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      await store.setItemStatuses(run.id, [
        {
          itemId: "a",
          status: "done",
          record: { iteration_principle: 2, iteration_response: 1, principles_critique_scores: [3, 5], response_critique_scores: [4] },
        },
        {
          itemId: "b",
          status: "done",
          record: { iteration_principle: 1, iteration_response: 1, principles_critique_scores: [null], response_critique_scores: [4] },
        },
        { itemId: "c", status: "failed", reason: "timeout" },
        { itemId: "d", status: "failed", reason: "timeout" },
        { itemId: "e", status: "failed", reason: "bad JSON" },
      ]);
      await store.recordCalls([
        call(run.id, "a", { costUsd: 0.5, latencyMs: 10 }),
        call(run.id, "a", { step: "principle.critique", latencyMs: 30, startedAt: "2025-01-01T00:01:30.000Z" }),
        call(run.id, "b", { cacheHit: true, latencyMs: 0, costUsd: 9 }),
        call(run.id, "b", { step: "response.generate", error: "boom", usage: { inputTokens: 0, outputTokens: 0 } }),
      ]);
      const stats = await store.runStats(run.id);
      assert.deepEqual(stats.critiqueScores, [
        { stage: "principles", iteration: 1, score: 3, count: 1 },
        { stage: "principles", iteration: 1, score: null, count: 1 },
        { stage: "principles", iteration: 2, score: 5, count: 1 },
        { stage: "response", iteration: 1, score: 4, count: 2 },
      ]);
      assert.deepEqual(stats.iterations, [
        { stage: "principles", iterations: 1, items: 1 },
        { stage: "principles", iterations: 2, items: 1 },
        { stage: "response", iterations: 1, items: 2 },
      ]);
      assert.deepEqual(stats.failures, [
        { reason: "timeout", count: 2 },
        { reason: "bad JSON", count: 1 },
      ]);
      assert.deepEqual(
        stats.steps.map((s) => [s.step, s.calls, s.errors, s.cacheHits, s.inputTokens, s.costUsd, s.latencyMs]),
        [
          ["principle.generate", 2, 0, 1, 100, 0.5, 5],
          ["principle.critique", 1, 0, 0, 100, 0, 30],
          ["response.generate", 1, 1, 0, 0, 0, 12.5],
        ],
      );
      assert.deepEqual(
        stats.timeline.map((m) => [m.minute, m.calls, m.inputTokens]),
        [
          ["2025-01-01T00:00", 3, 100],
          ["2025-01-01T00:01", 1, 100],
        ],
      );
    });
  });

  describe(`${name} run store: artifacts`, () => {
    test("put, replace and get JSON artifacts by run and name; unknown ones are undefined", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      const other = await store.createRun(newRun());
      assert.equal(await store.getArtifact(run.id, "constitution"), undefined);
      const map = { principles: [{ id: "c1", size: 2 }], map: [{ x: 0.5, y: -1, cluster: "c1", text: "é ✓" }] };
      await store.putArtifact(run.id, "constitution", map);
      await store.putArtifact(run.id, "note", "text");
      assert.deepEqual(await store.getArtifact(run.id, "constitution"), map);
      await store.putArtifact(run.id, "constitution", [1, 2]);
      assert.deepEqual(await store.getArtifact(run.id, "constitution"), [1, 2]);
      assert.equal(await store.getArtifact(run.id, "note"), "text");
      assert.equal(await store.getArtifact(other.id, "constitution"), undefined);
      assert.equal(await store.getArtifact("nope", "constitution"), undefined);
      await assert.rejects(store.putArtifact("nope", "constitution", {}), StoreError);
      await assert.rejects(store.putArtifact(run.id, "x", undefined), StoreError);
      const reopened = await open(store);
      assert.deepEqual(await reopened.getArtifact(run.id, "constitution"), [1, 2]);
    });
  });

  describe(`${name} run store: call cache`, () => {
    const result = (text: string) => ({
      text,
      finishReason: "stop" as const,
      usage: { inputTokens: 3, outputTokens: 4 },
      latencyMs: 12,
      model: "m",
    });
    const meta = { endpoint: "openai-compatible:http://127.0.0.1:1/v1#m", modelId: "m" };

    test("an awaited put is visible to another connection", async () => {
      const store = await open();
      const reader = await open(store);
      const puts = Array.from({ length: 50 }, (_, i) => store.cache.put(`k${i}`, result(`answer ${i}`), meta));
      await Promise.all(puts);
      assert.equal((await reader.cache.get("k49"))?.text, "answer 49");
      assert.deepEqual(await reader.cache.get("k7"), result("answer 7"));
    });

    test("a get sees a put of the same turn; the last put of a key wins; close commits puts nobody awaited", async () => {
      const store = await open();
      void store.cache.put("a", result("first"), meta);
      assert.equal((await store.cache.get("a"))?.text, "first");
      void store.cache.put("b", result("old"), meta);
      void store.cache.put("b", result("second"), meta);
      const reopened = await open(store);
      await store.close();
      assert.equal((await reopened.cache.get("b"))?.text, "second");
    });

    test("a failed commit rejects the puts of its turn; later puts work", async () => {
      const store = await open();
      const bad = store.cache.put("x", { ...result("t"), text: undefined as unknown as string }, meta);
      await assert.rejects(bad);
      await store.cache.put("y", result("fine"), meta);
      assert.equal((await store.cache.get("y"))?.text, "fine");
    });
  });
}
