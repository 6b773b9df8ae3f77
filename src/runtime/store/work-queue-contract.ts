/**
 * The contract suite of `WorkQueue` (see `work-queue.ts`), registered by each backend with its own
 * opener. Leases are short (50 ms) where expiry matters, and the tests wait until the store says a
 * lease has expired (polling), never for a fixed time that races the clock.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type OpenStore, call, newRun, tracked, waitFor } from "./contract-fixtures.ts";
import { type RunStore, StoreError } from "./run-store.ts";
import type { ItemResult, Lease, QueuedItem, WorkQueue } from "./work-queue.ts";

type Store = RunStore & WorkQueue;

const SHORT = 50;
const LONG = 60_000;

const queued = (n: number, from = 0): QueuedItem[] =>
  Array.from({ length: n }, (_, i) => ({
    itemId: `item-${String(from + i).padStart(4, "0")}`,
    input: { question: `q${from + i}`, n: from + i },
    line: from + i + 1,
  }));

const worker = (id: string, runId?: string) => ({ id, host: `host-${id}`, pid: 1000, ...(runId === undefined ? {} : { runId }) });

const done = (lease: Lease, extra: Partial<ItemResult> = {}): ItemResult => ({
  runId: lease.runId,
  itemId: lease.itemId,
  token: lease.token,
  status: "done",
  record: { item: lease.itemId, answer: `answer ${lease.itemId}` },
  calls: [call(lease.runId, lease.itemId)],
  ...extra,
});

export function workQueueContract(name: string, openStore: OpenStore<Store>): void {
  const open = tracked(openStore);

  /** A store with one run holding `n` queued items, and workers registered for it. */
  async function setup(n: number, workers: string[] = ["w1", "w2"]) {
    const store = await open();
    const run = await store.createRun(newRun());
    assert.equal(await store.enqueueItems(run.id, queued(n)), n);
    for (const id of workers) await store.registerWorker(worker(id, run.id));
    return { store, run };
  }

  describe(`${name} work queue: hand-out`, () => {
    test("enqueueItems is idempotent and keeps input order; leases come in that order with their input", async () => {
      const { store, run } = await setup(5);
      assert.equal(await store.enqueueItems(run.id, queued(7)), 2, "only the two new items are added");
      assert.equal(await store.enqueueItems(run.id, []), 0);
      await assert.rejects(
        store.enqueueItems("no-such-run", queued(1)),
        (error: unknown) => error instanceof StoreError && /no run with id "no-such-run"/.test(error.message),
      );
      assert.deepEqual(await store.itemCounts(run.id), { pending: 7, done: 0, failed: 0, total: 7 });
      assert.equal(await store.hasPending(run.id, { unleased: true }), true, "nothing is leased yet");

      const first = await store.leaseItems("w1", { runId: run.id, max: 3, leaseMs: LONG });
      assert.deepEqual(
        first.map((l) => l.itemId),
        ["item-0000", "item-0001", "item-0002"],
      );
      assert.deepEqual(first[1], { runId: run.id, itemId: "item-0001", token: 1, input: { question: "q1", n: 1 }, line: 2 });
      const second = await store.leaseItems("w2", { runId: run.id, max: 10, leaseMs: LONG });
      assert.deepEqual(
        second.map((l) => l.itemId),
        ["item-0003", "item-0004", "item-0005", "item-0006"],
      );
      assert.deepEqual(await store.leaseItems("w1", { runId: run.id, max: 10, leaseMs: LONG }), []);
      assert.equal(await store.leasedCount(run.id), 7);
      assert.equal(await store.hasPending(run.id), true, "leased items are pending");
      assert.equal(await store.hasPending(run.id, { unleased: true }), false, "every pending item is leased");
      await assert.rejects(store.leaseItems("unregistered", { runId: run.id, max: 1, leaseMs: LONG }), StoreError);
    });

    test("without a run id, workers lease from running runs only", async () => {
      const store = await open();
      const running = await store.createRun(newRun());
      const stopped = await store.createRun(newRun({ status: "stopped" }));
      await store.enqueueItems(stopped.id, queued(2));
      await store.enqueueItems(running.id, queued(2, 10));
      await store.registerWorker(worker("any"));
      const leases = await store.leaseItems("any", { max: 10, leaseMs: LONG });
      assert.deepEqual(
        leases.map((l) => [l.runId, l.itemId]),
        [
          [running.id, "item-0010"],
          [running.id, "item-0011"],
        ],
      );
    });

    test("no item goes to two workers when several connections lease at once", async () => {
      const { store, run } = await setup(300, []);
      const other = await open(store);
      const workers = ["a", "b", "c", "d", "e", "f"];
      for (const id of workers) await store.registerWorker(worker(id, run.id));
      const got = new Map<string, string[]>();
      await Promise.all(
        workers.map(async (id, i) => {
          const connection = i % 2 === 0 ? store : other;
          const mine: string[] = [];
          for (;;) {
            const leases = await connection.leaseItems(id, { runId: run.id, max: 7, leaseMs: LONG });
            if (leases.length === 0) break;
            mine.push(...leases.map((l) => l.itemId));
          }
          got.set(id, mine);
        }),
      );
      const all = [...got.values()].flat();
      assert.equal(new Set(all).size, all.length, "an item was handed out twice");
      assert.equal(all.length, 300);
      for (const mine of got.values()) assert.deepEqual(mine, [...mine].sort(), "each worker's leases come in input order");
    });
  });

  describe(`${name} work queue: fencing`, () => {
    test("an expired lease is re-leased with a higher token; the late result is refused and nothing of it is stored", async () => {
      const { store, run } = await setup(1);
      const [old] = await store.leaseItems("w1", { runId: run.id, max: 1, leaseMs: SHORT });
      assert.equal(old?.token, 1);
      assert.equal(await store.hasPending(run.id, { unleased: true }), false);
      await waitFor("the lease expired", async () => (await store.leasedCount(run.id)) === 0);
      assert.equal(await store.hasPending(run.id, { unleased: true }), true, "an item whose lease expired can be leased");
      const [fresh] = await store.leaseItems("w2", { runId: run.id, max: 1, leaseMs: LONG });
      assert.equal(fresh?.itemId, old!.itemId);
      assert.ok(fresh!.token > old!.token);

      const late = await store.completeItems("w1", [done(old!)]);
      assert.deepEqual(late, { accepted: [], refused: [{ runId: run.id, itemId: old!.itemId }] });
      const item = await store.getItem(run.id, old!.itemId);
      assert.deepEqual([item?.status, item?.record, item?.attempts], ["pending", undefined, 0]);
      assert.deepEqual(await store.listCalls(run.id, old!.itemId), []);
      assert.equal((await store.runUsage(run.id)).calls, 0);
      assert.deepEqual(await store.finishedSince(run.id, 0), []);

      const accepted = await store.completeItems("w2", [done(fresh!)]);
      assert.deepEqual(accepted, { accepted: [{ runId: run.id, itemId: old!.itemId }], refused: [] });
      const finished = await store.getItem(run.id, old!.itemId);
      assert.deepEqual(
        [finished?.status, finished?.attempts, finished?.record],
        ["done", 1, { item: old!.itemId, answer: `answer ${old!.itemId}` }],
      );
      assert.equal((await store.listCalls(run.id, old!.itemId)).length, 1);
      assert.equal((await store.runUsage(run.id)).calls, 1);
      // A finished item refuses any further result, even with the current token.
      assert.equal((await store.completeItems("w2", [done(fresh!)])).refused.length, 1);
      assert.equal((await store.runUsage(run.id)).calls, 1);
    });

    test("one batch: accepted results are stored with their calls, refused ones are not; failed results keep their reason", async () => {
      const { store, run } = await setup(3);
      const leases = await store.leaseItems("w1", { runId: run.id, max: 3, leaseMs: LONG });
      const result = await store.completeItems("w1", [
        done(leases[0]!),
        { ...done(leases[1]!), status: "failed", record: undefined, reason: "critic never scored" },
        { ...done(leases[2]!), token: leases[2]!.token + 1 },
      ]);
      assert.deepEqual(
        result.accepted.map((r) => r.itemId),
        ["item-0000", "item-0001"],
      );
      assert.deepEqual(
        result.refused.map((r) => r.itemId),
        ["item-0002"],
      );
      assert.equal((await store.getItem(run.id, "item-0001"))?.reason, "critic never scored");
      assert.deepEqual(await store.listCalls(run.id, "item-0002"), []);
      assert.equal((await store.runUsage(run.id)).calls, 2);
      const [w1] = await store.listWorkers(run.id).then((ws) => ws.filter((w) => w.id === "w1"));
      assert.deepEqual([w1?.itemsDone, w1?.itemsFailed, w1?.leased], [1, 1, 1]);
    });

    test("a result for an item the run does not have is refused beside accepted ones, and nothing of it is stored", async () => {
      const { store, run } = await setup(1);
      const [lease] = await store.leaseItems("w1", { runId: run.id, max: 1, leaseMs: LONG });
      const result = await store.completeItems("w1", [{ ...done(lease!), itemId: "no-such-item" }, done(lease!)]);
      assert.deepEqual(result, {
        accepted: [{ runId: run.id, itemId: lease!.itemId }],
        refused: [{ runId: run.id, itemId: "no-such-item" }],
      });
      assert.equal(await store.getItem(run.id, "no-such-item"), undefined);
      assert.equal((await store.runUsage(run.id)).calls, 1);
      assert.deepEqual(
        (await store.finishedSince(run.id, 0)).map((f) => [f.itemId, f.finishSeq]),
        [[lease!.itemId, 1]],
      );
    });

    test("heartbeat extends the worker's leases and leaves out the ones it lost", async () => {
      const { store, run } = await setup(4, ["w1", "w2", "clock"]);
      const mine = await store.leaseItems("w1", { runId: run.id, max: 3, leaseMs: SHORT });
      assert.deepEqual(
        (await store.heartbeat("w1", LONG)).map((h) => h.itemId),
        mine.map((l) => l.itemId),
      );
      // A 50 ms lease taken after the heartbeat tells when 50 ms have passed on the database's clock.
      const [probe] = await store.leaseItems("clock", { runId: run.id, max: 1, leaseMs: SHORT });
      assert.equal(probe?.itemId, "item-0003");
      await waitFor("the probe lease expired", async () => (await store.leasedCount(run.id)) === 3);
      assert.deepEqual(
        (await store.leaseItems("w2", { runId: run.id, max: 10, leaseMs: LONG })).map((l) => l.itemId),
        ["item-0003"],
      );

      // w1 lets one lease lapse; w2 takes it over; w1's next heartbeat no longer lists it.
      await store.releaseItems("w2", [{ ...probe!, token: probe!.token + 1 }]);
      await store.heartbeat("w1", SHORT);
      await waitFor("w1's leases expired", async () => (await store.leasedCount(run.id)) === 0);
      const taken = await store.leaseItems("w2", { runId: run.id, max: 1, leaseMs: LONG });
      assert.deepEqual(
        taken.map((l) => l.itemId),
        ["item-0000"],
      );
      // item-0000 is lost; whether leases that lapsed but went to nobody are still held is the backend's choice.
      const held = (await store.heartbeat("w1", LONG)).map((h) => h.itemId);
      assert.ok(!held.includes("item-0000") && held.every((id) => id === "item-0001" || id === "item-0002"), held.join());
      await assert.rejects(store.heartbeat("nobody", LONG), StoreError);
    });

    test("releaseItems and stopWorker give leases back; the next lease has a higher token", async () => {
      const { store, run } = await setup(3);
      const leases = await store.leaseItems("w1", { runId: run.id, max: 3, leaseMs: LONG });
      await store.releaseItems("w1", [leases[0]!]);
      await store.releaseItems("w2", [leases[1]!]); // not w2's: nothing happens
      assert.equal(await store.leasedCount(run.id), 2);
      await store.stopWorker("w1");
      assert.equal(await store.leasedCount(run.id), 0);
      const again = await store.leaseItems("w2", { runId: run.id, max: 3, leaseMs: LONG });
      assert.deepEqual(
        again.map((l) => [l.itemId, l.token]),
        [
          ["item-0000", 2],
          ["item-0001", 2],
          ["item-0002", 2],
        ],
      );
      assert.equal((await store.completeItems("w1", [done(leases[2]!)])).refused.length, 1);
      const w1 = (await store.listWorkers(run.id)).find((w) => w.id === "w1");
      assert.equal(w1?.status, "stopped");
    });

    test("retryFailed puts failed items back in the queue", async () => {
      const { store, run } = await setup(3);
      const leases = await store.leaseItems("w1", { runId: run.id, max: 3, leaseMs: LONG });
      await store.completeItems(
        "w1",
        leases.map((l, i) => (i === 1 ? done(l) : { ...done(l), status: "failed" as const, record: undefined, reason: "boom" })),
      );
      assert.equal(await store.hasPending(run.id), false, "every item finished");
      assert.equal(await store.retryFailed(run.id), 2);
      assert.equal(await store.retryFailed(run.id), 0);
      assert.deepEqual(await store.itemCounts(run.id), { pending: 2, done: 1, failed: 0, total: 3 });
      assert.equal(await store.hasPending(run.id), true, "retried items are pending again");
      const again = await store.leaseItems("w2", { runId: run.id, max: 3, leaseMs: LONG });
      assert.deepEqual(
        again.map((l) => [l.itemId, l.token]),
        [
          ["item-0000", 2],
          ["item-0002", 2],
        ],
      );
      await store.completeItems(
        "w2",
        again.map((l) => done(l)),
      );
      assert.equal((await store.getItem(run.id, "item-0000"))?.attempts, 2);
      const finished = await store.finishedSince(run.id, 0);
      assert.deepEqual(
        finished.map((f) => f.itemId),
        ["item-0001", "item-0000", "item-0002"],
      );
    });
  });

  describe(`${name} work queue: finish order, workers, output role`, () => {
    test("finishedSince follows commit order with concurrent completers: no gaps, no duplicates, nothing missed", async () => {
      const { store, run } = await setup(120, []);
      const other = await open(store);
      const workers = ["a", "b", "c", "d"];
      for (const id of workers) await store.registerWorker(worker(id, run.id));
      let working = workers.length;
      const seen: number[] = [];
      const items: string[] = [];
      const reader = (async () => {
        let last = 0;
        for (;;) {
          const finishing = working > 0;
          const batch = await other.finishedSince(run.id, last, 17);
          for (const f of batch) {
            seen.push(f.finishSeq);
            items.push(f.itemId);
            assert.deepEqual(f.record, { item: f.itemId, answer: `answer ${f.itemId}` });
            // The record's text as stored, for the output tail to write without parsing it.
            assert.equal(f.recordJson, JSON.stringify(f.record));
            assert.equal(f.line, Number(f.itemId.slice(5)) + 1);
          }
          if (batch.length > 0) last = batch.at(-1)!.finishSeq;
          else if (!finishing) return;
          else await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      await Promise.all(
        workers.map(async (id, i) => {
          const connection = i % 2 === 0 ? store : other;
          for (;;) {
            const leases = await connection.leaseItems(id, { runId: run.id, max: 3, leaseMs: LONG });
            if (leases.length === 0) break;
            const result = await connection.completeItems(
              id,
              leases.map((l) => done(l)),
            );
            assert.equal(result.accepted.length, leases.length);
          }
          working--;
        }),
      );
      await reader;
      assert.deepEqual(
        seen,
        Array.from({ length: 120 }, (_, i) => i + 1),
        "finish numbers are 1..n in the order read",
      );
      assert.equal(new Set(items).size, 120);
      assert.deepEqual(
        (await store.finishedSince(run.id, 118)).map((f) => f.finishSeq),
        [119, 120],
      );
      assert.deepEqual(await store.finishedSince(run.id, 120), []);
    });

    test("listWorkers: active, stopped and lost (no heartbeat for longer than its lease), most recent first", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      const otherRun = await store.createRun(newRun());
      await store.enqueueItems(run.id, queued(2));
      await store.registerWorker(worker("quiet", run.id));
      await store.registerWorker(worker("gone", run.id));
      await store.registerWorker(worker("busy", run.id));
      await store.registerWorker(worker("elsewhere", otherRun.id));
      await assert.rejects(store.registerWorker(worker("x", "no-such-run")), StoreError);
      await store.leaseItems("quiet", { runId: run.id, max: 1, leaseMs: SHORT });
      await store.stopWorker("gone");
      await store.leaseItems("busy", { runId: run.id, max: 1, leaseMs: LONG });
      // Lost once its last beat is older than its lease; its item's lease, taken after that beat, lapses a moment later.
      await waitFor("quiet is lost and its lease lapsed", async () => {
        const quiet = (await store.listWorkers(run.id)).find((w) => w.id === "quiet");
        return quiet?.status === "lost" && quiet.leased === 0;
      });
      const workers = await store.listWorkers(run.id);
      assert.deepEqual(
        workers.map((w) => [w.id, w.status, w.leased]),
        [
          ["busy", "active", 1],
          ["gone", "stopped", 0],
          ["quiet", "lost", 0],
        ],
      );
      assert.deepEqual(
        { ...workers[0], startedAt: undefined, heartbeatAt: undefined },
        {
          id: "busy",
          host: "host-busy",
          pid: 1000,
          runId: run.id,
          status: "active",
          itemsDone: 0,
          itemsFailed: 0,
          leased: 1,
          startedAt: undefined,
          heartbeatAt: undefined,
        },
      );
      assert.ok(workers[0]!.heartbeatAt >= workers[0]!.startedAt);
      assert.equal((await store.listWorkers()).length, 4);
      // A heartbeat brings a lost worker back.
      await store.heartbeat("quiet", LONG);
      assert.equal((await store.listWorkers(run.id)).find((w) => w.id === "quiet")?.status, "active");
    });

    test("claimOutput: one holder at a time, renewed by it, taken over once it expires or is released", async () => {
      const { store, run } = await setup(0, ["w1", "w2"]);
      const other = await open(store);
      assert.equal((await store.claimOutput(run.id, "w1", LONG))?.id, "w1");
      assert.equal((await other.claimOutput(run.id, "w2", LONG))?.id, "w1");
      assert.equal((await store.claimOutput(run.id, "w1", SHORT))?.id, "w1", "the holder renews");
      await waitFor("w1's output lease expired", async () => (await other.claimOutput(run.id, "w2", LONG))?.id === "w2");
      assert.equal((await store.claimOutput(run.id, "w1", LONG))?.id, "w2");
      await store.releaseOutput(run.id, "w1"); // not the holder: nothing happens
      assert.equal((await store.claimOutput(run.id, "w1", LONG))?.id, "w2");
      await other.releaseOutput(run.id, "w2");
      assert.equal((await store.claimOutput(run.id, "w1", LONG))?.id, "w1");
      await assert.rejects(store.claimOutput("no-such-run", "w1", LONG), StoreError);
    });

    test("the output holder reads every finished item as stored, its own and another connection's, page by page", async () => {
      const { store, run } = await setup(7, ["w1"]);
      const other = await open(store);
      await other.registerWorker(worker("w2", run.id));
      assert.equal((await store.claimOutput(run.id, "w1", LONG))?.id, "w1");
      const own = await store.leaseItems("w1", { runId: run.id, max: 3, leaseMs: LONG });
      const theirs = await other.leaseItems("w2", { runId: run.id, max: 3, leaseMs: LONG });
      await store.completeItems("w1", [done(own[0]!), done(own[1]!)]);
      await other.completeItems("w2", [done(theirs[0]!), { ...done(theirs[1]!), status: "failed", reason: "boom", record: undefined }]);
      await store.completeItems("w1", [done(own[2]!, { record: { item: own[2]!.itemId, answer: "line\nbreak ü" } })]);
      await other.completeItems("w2", [done(theirs[2]!)]);

      const expected = [own[0]!, own[1]!, theirs[0]!, theirs[1]!, own[2]!, theirs[2]!].map((l) => l.itemId);
      const read = async (from: WorkQueue) => {
        const seen: { itemId: string; status: string; reason?: string; line?: number; recordJson?: string }[] = [];
        for (let last = 0; ; ) {
          const page = await from.finishedSince(run.id, last, 2);
          if (page.length === 0) return seen;
          for (const f of page) {
            seen.push({ itemId: f.itemId, status: f.status, reason: f.reason, line: f.line, recordJson: f.recordJson });
            last = f.finishSeq;
          }
        }
      };
      const byHolder = await read(store);
      assert.deepEqual(
        byHolder.map((f) => f.itemId),
        expected,
      );
      assert.deepEqual(byHolder, await read(other), "the holder reads what any other connection reads");
      assert.deepEqual(byHolder, await read(store), "and the same again");
      const failed = byHolder[3]!;
      assert.deepEqual([failed.status, failed.reason, failed.recordJson], ["failed", "boom", undefined]);
      assert.equal(byHolder[4]!.recordJson, JSON.stringify({ item: own[2]!.itemId, answer: "line\nbreak ü" }));
      assert.equal(byHolder[0]!.line, 1);
    });

    test("inputComplete is kept on the run", async () => {
      const store = await open();
      const run = await store.createRun(newRun());
      assert.equal(run.inputComplete, undefined);
      assert.equal((await store.updateRun(run.id, { inputComplete: true })).inputComplete, true);
      assert.equal((await store.getRun(run.id))?.inputComplete, true);
    });
  });
}
