import assert from "node:assert/strict";
import { test } from "node:test";
import type { RunStore } from "../store/run-store.ts";
import type { Lease } from "../store/work-queue.ts";
import { Wake } from "../../base/util/wake.ts";
import { END_POLL_MS, followPolls, leaseThreshold, WorkLoop, type WorkLoopOptions } from "./work-loop.ts";

test("leaseThreshold: a quarter of the slots, at least 1, at most a lease batch", () => {
  assert.deepEqual([1, 2, 4, 16, 64, 256, 512, 4096].map(leaseThreshold), [1, 1, 1, 4, 16, 64, 64, 64]);
});

/** A queue of `n` items behind the one method the loop uses; records each lease query's `max`. */
function fakeQueue(n: number) {
  let next = 0;
  const asked: number[] = [];
  const store = {
    async leaseItems(_workerId: string, options: { max: number }): Promise<Lease[]> {
      asked.push(options.max);
      const leases: Lease[] = [];
      while (leases.length < options.max && next < n) leases.push({ runId: "r", itemId: `i${next}`, token: 1, input: next++ });
      return leases;
    },
  };
  return { store: store as unknown as RunStore, asked };
}

/** A loop of run "r" for worker "w" on `store`: polls every 5 ms, never stopped, idle ends it. */
function loopOf(store: RunStore, options: Pick<WorkLoopOptions, "slots" | "runItem"> & Partial<WorkLoopOptions>): WorkLoop {
  return new WorkLoop({
    store,
    workerId: "w",
    runId: "r",
    leaseMs: 60_000,
    pollMs: 5,
    stop: new AbortController().signal,
    wake: new Wake(),
    idle: async () => true,
    ...options,
  });
}

test("the loop leases freed slots in batches, not one query per finished item, and runs every item once", async () => {
  const items = 1000;
  const slots = 64;
  const { store, asked } = fakeQueue(items);
  const ran: string[] = [];
  const loop = loopOf(store, {
    slots,
    runItem: async (lease) => {
      // Items finish one at a time, each on a later turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      ran.push(lease.itemId);
    },
  });
  await loop.run();
  assert.equal(ran.length, items);
  assert.equal(new Set(ran).size, items);
  // Every query but the first (all slots free) asks for at least the threshold.
  assert.ok(
    asked.slice(1).every((max) => max >= leaseThreshold(slots)),
    `lease sizes ${asked.join(",")}`,
  );
  // (Once the queue is empty, each poll may look for more; items finishing do not.)
  assert.ok(asked.length <= Math.ceil(items / leaseThreshold(slots)) + slots + 1, `${asked.length} lease queries for ${items} items`);
});

// The timeout is the assertion that the last item ends the loop: the loop's poll is a minute.
test("a drained queue is not asked again as items finish: the last item still ends the loop at once", { timeout: 10_000 }, async () => {
  const items = 300;
  const slots = 64;
  const { store, asked } = fakeQueue(items);
  let ran = 0;
  // No poll within the test's time: only wakes can move the loop.
  const loop = loopOf(store, {
    slots,
    pollMs: 60_000,
    runItem: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      ran++;
    },
  });
  await loop.run();
  assert.equal(ran, items);
  // One query per batch of freed slots while items remain, then the one that comes back short.
  assert.ok(asked.length <= Math.ceil(items / leaseThreshold(slots)) + 2, `${asked.length} lease queries for ${items} items`);
});

test("input enqueued while the queue was drained: items finishing after that wake refill their slots", { timeout: 10_000 }, async () => {
  const slots = 64;
  // The queue holds 60 items at first; more arrive later, as a run's input is enqueued.
  let available = 60;
  let next = 0;
  const store = {
    async leaseItems(_workerId: string, options: { max: number }): Promise<Lease[]> {
      const leases: Lease[] = [];
      while (leases.length < options.max && next < available) leases.push({ runId: "r", itemId: `i${next}`, token: 1, input: next++ });
      return leases;
    },
  } as unknown as RunStore;
  const stop = new AbortController();
  const wake = new Wake();
  const finishers: (() => void)[] = [];
  let started = 0;
  let waited = 0;
  let onWait = () => {};
  const wait = wake.wait.bind(wake);
  wake.wait = (ms, signal) => {
    waited++;
    onWait();
    return wait(ms, signal);
  };
  const untilWaits = (n: number) => new Promise<void>((resolve) => (onWait = () => waited >= n && resolve()));
  const loop = loopOf(store, {
    slots,
    pollMs: 60_000,
    stop: stop.signal,
    wake,
    runItem: () => {
      started++;
      return new Promise<void>((resolve) => finishers.push(resolve));
    },
  });
  const running = loop.run();
  try {
    await untilWaits(1);
    assert.equal(started, 60);
    // 940 more items, announced while only 4 slots are free (fewer than the lease threshold).
    available = 1000;
    const announced = untilWaits(2);
    wake.notify();
    await announced;
    assert.equal(started, 60);
    // 40 items finish: their slots are worth a lease, and no poll comes within the test.
    const refilled = new Promise<void>((resolve) => (onWait = () => started > 60 && resolve()));
    for (const finish of finishers.splice(0, 40)) finish();
    await refilled;
    // Every free slot: the 4 left over and the 40 freed.
    assert.equal(started, 104);
  } finally {
    stop.abort();
    for (const finish of finishers) finish();
    await running;
  }
});

test("more slots than a lease batch: the loop fills them all before it first waits", async () => {
  const slots = 512;
  const { store, asked } = fakeQueue(1000);
  const stop = new AbortController();
  let started = 0;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  // The loop's first wait: it has leased all it means to until an item finishes or the poll comes.
  let firstWait!: () => void;
  const waiting = new Promise<void>((resolve) => (firstWait = resolve));
  const wake = new Wake();
  const wait = wake.wait.bind(wake);
  wake.wait = (ms, signal) => {
    firstWait();
    return wait(ms, signal);
  };
  const loop = loopOf(store, {
    slots,
    pollMs: 60_000,
    stop: stop.signal,
    wake,
    runItem: async () => {
      started++;
      await held;
    },
  });
  const running = loop.run();
  try {
    await waiting;
    assert.equal(started, slots, `lease sizes ${asked.join(",")}`);
  } finally {
    stop.abort();
    release();
    await running;
  }
});

test("one slot: one item at a time, in order", async () => {
  const { store } = fakeQueue(5);
  const ran: string[] = [];
  let running = 0;
  const loop = new WorkLoop({
    store,
    workerId: "w",
    slots: 1,
    leaseMs: 60_000,
    pollMs: 5,
    stop: new AbortController().signal,
    wake: new Wake(),
    runItem: async (lease) => {
      assert.equal(++running, 1);
      await new Promise((resolve) => setImmediate(resolve));
      ran.push(lease.itemId);
      running--;
    },
    idle: async () => true,
  });
  await loop.run();
  assert.deepEqual(ran, ["i0", "i1", "i2", "i3", "i4"]);
});

test("a beat drops only leases it could have seen: one taken while its query was on its way is kept", async () => {
  const { store } = fakeQueue(2);
  const stop = new AbortController();
  const started: string[] = [];
  const aborted: string[] = [];
  let keptByEarlyBeat: boolean | undefined;
  let release!: () => void;
  const finish = new Promise<void>((resolve) => (release = resolve));
  let beatAskedAt = 0;
  const loop: WorkLoop = new WorkLoop({
    store,
    workerId: "w",
    runId: "r",
    slots: 1,
    leaseMs: 60_000,
    pollMs: 5,
    stop: stop.signal,
    wake: new Wake(),
    runItem: async (lease, signal) => {
      started.push(lease.itemId);
      signal.addEventListener("abort", () => aborted.push(lease.itemId));
      if (lease.itemId === "i0") {
        // A beat asks the store now; the answer (holding i0 only) comes back after i1 is leased.
        beatAskedAt = performance.now();
        return;
      }
      // i1 was leased after the beat asked: the beat's answer lacks it, yet it is held.
      loop.dropLost(new Set(["r\u0000i0"]), beatAskedAt);
      keptByEarlyBeat = !signal.aborted;
      // A later beat that asked after i1's lease and still lacks it: i1 is lost.
      loop.dropLost(new Set(), performance.now());
      release();
      await finish;
    },
    idle: async () => true,
  });
  await loop.run();
  assert.deepEqual(started, ["i0", "i1"]);
  assert.equal(keptByEarlyBeat, true, "the beat that asked before i1 was leased kept it");
  assert.deepEqual(aborted, ["i1"], "the later beat dropped it");
});

test("followPolls: END_POLL_MS for a loop's first second without work, its interval otherwise", () => {
  const poll = followPolls(100);
  assert.deepEqual([undefined, 0, 999, 1000, 5000].map(poll), [100, END_POLL_MS, END_POLL_MS, 100, 100]);
  // A shorter interval than END_POLL_MS is kept.
  assert.equal(followPolls(5)(0), 5);
});

test("a loop tells pollMs how long it has been idle: undefined while items run, then the time since it ran out", async () => {
  const { store } = fakeQueue(3);
  const told: (number | undefined)[] = [];
  let idleCalls = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const loop = loopOf(store, {
    slots: 4,
    // The items wait until the loop has polled idle twice: the first wait has them all in progress.
    runItem: async () => released,
    pollMs: (idleMs) => {
      told.push(idleMs);
      if (told.length === 1) setTimeout(release, 1);
      return 1;
    },
    idle: async () => ++idleCalls > 3,
  });
  await loop.run();
  // Undefined while the items are in progress (at least the first wait), then numbers only.
  const firstIdle = told.findIndex((ms) => ms !== undefined);
  assert.ok(firstIdle >= 1 && told.slice(0, firstIdle).every((ms) => ms === undefined), `waits: ${told.join(", ")}`);
  const idle = told.slice(firstIdle) as number[];
  assert.ok(idle.length >= 3 && idle.every((ms) => typeof ms === "number"), `idle waits: ${told.join(", ")}`);
  // Measured from when the loop first had nothing: never less than before.
  assert.ok(
    idle.every((ms, i) => i === 0 || ms >= idle[i - 1]!),
    `non-decreasing: ${idle.join(", ")}`,
  );
});
