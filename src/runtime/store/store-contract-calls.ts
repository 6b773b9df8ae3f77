/** The `RunStore` contract (store-contract.ts), continued: calls, artifacts and the call cache. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cachedAnswer, call, newRun } from "./contract-fixtures.ts";
import { type RunStore, type StoredCall, StoreError } from "./run-store.ts";

export function callsContract(name: string, open: (like?: RunStore) => Promise<RunStore>): void {
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
      const odd = call(run.id, "q1", { response: "nul \u0000 lone \ud800 literal \\u0000 \\ud800 😀" });
      odd.request.messages = [{ role: "user", content: "asked \udfff \u0000" }];
      await store.recordCalls([full, failed, odd]);
      assert.deepEqual(await store.listCalls(run.id, "q1"), [full, failed, odd]);
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
      await assert.rejects(store.recordCalls([call(run.id, "q1", { usage: { inputTokens: 1 } as never })]), StoreError);
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
    const result = cachedAnswer;
    const meta = { endpoint: "openai-compatible:http://127.0.0.1:1/v1#m", modelId: "m" };

    test("an awaited put is visible to another connection", async () => {
      const store = await open();
      const reader = await open(store);
      const puts = Array.from({ length: 50 }, (_, i) => store.cache.put(`k${i}`, result(`answer ${i}`), meta));
      await Promise.all(puts);
      assert.equal((await reader.cache.get("k49"))?.text, "answer 49");
      assert.deepEqual(await reader.cache.get("k7"), result("answer 7"));
    });

    test("an answer's text round-trips: quotes, backslashes, escape-like text, control characters", async () => {
      const store = await open();
      const reader = await open(store);
      const odd = result('pair 😀 "quoted" \\u0000 \\ud800 back\\slash \x1b\n{"json": [1]}');
      await store.cache.put("odd", odd, { ...meta, templateVersion: "v2" });
      await (reader.cache as { filter?: { sync(): Promise<void> } }).filter?.sync();
      assert.deepEqual(await reader.cache.get("odd"), odd);
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
