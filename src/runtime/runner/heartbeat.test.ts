import assert from "node:assert/strict";
import { test } from "node:test";
import { itemKey, type WorkQueue } from "../store/work-queue.ts";
import { startLeaseHeartbeat } from "./heartbeat.ts";

/** Runs `body` with the event loop held open: the heartbeat's own timer is unref'd, so a test waiting on it would end early. */
async function keptAlive<T>(body: () => Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 60_000);
  try {
    return await body();
  } finally {
    clearInterval(hold);
  }
}

/** A queue whose heartbeat answers the leases `held` says the worker still holds. */
function queue(held: () => { runId: string; itemId: string }[]): WorkQueue {
  return { heartbeat: async () => held() } as unknown as WorkQueue;
}

test("startLeaseHeartbeat: after a beat the loop working now drops what it lost, then afterBeat runs", async () => {
  const seen: string[] = [];
  let beaten!: () => void;
  const beat = new Promise<void>((resolve) => (beaten = resolve));
  const loop = {
    dropLost: (held: ReadonlySet<string>) => void seen.push(`drop ${[...held].join(",")}`),
  };
  const heartbeat = startLeaseHeartbeat({
    store: queue(() => [{ runId: "r", itemId: "a" }]),
    workerId: "w",
    leaseMs: 30,
    loop: () => loop,
    afterBeat: async () => {
      seen.push("after");
      beaten();
    },
  });
  await keptAlive(() => beat);
  await heartbeat.stop();
  assert.deepEqual(seen.slice(0, 2), [`drop ${itemKey("r", "a")}`, "after"]);
});

test("startLeaseHeartbeat: a failed beat goes to onError, and no loop is fine", async () => {
  let failed!: (error: unknown) => void;
  const failure = new Promise<unknown>((resolve) => (failed = resolve));
  const heartbeat = startLeaseHeartbeat({
    store: queue(() => {
      throw new Error("store down");
    }),
    workerId: "w",
    leaseMs: 30,
    loop: () => undefined,
    onError: (error) => failed(error),
  });
  assert.match(String(await keptAlive(() => failure)), /store down/);
  await heartbeat.stop();
});
