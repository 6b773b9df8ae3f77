import assert from "node:assert/strict";
import { test } from "node:test";
import { runInOrder } from "./run-items.ts";

async function* numbers(n: number) {
  for (let i = 0; i < n; i++) yield i;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("results come out in input order while up to `concurrency` items run at once", async () => {
  let active = 0;
  let peak = 0;
  const out: number[] = [];
  const count = await runInOrder(numbers(20), {
    concurrency: 4,
    work: async (i) => {
      active++;
      peak = Math.max(peak, active);
      await sleep((20 - i) % 7);
      active--;
      return i * 10;
    },
    onResult: async (r) => void out.push(r),
  });
  assert.equal(count, 20);
  assert.equal(peak, 4);
  assert.deepEqual(out, Array.from({ length: 20 }, (_, i) => i * 10));
});

test("concurrency 1 runs one item at a time", async () => {
  const log: string[] = [];
  await runInOrder(numbers(3), {
    concurrency: 1,
    work: async (i) => {
      log.push(`start ${i}`);
      await sleep(1);
      log.push(`end ${i}`);
      return i;
    },
    onResult: async () => {},
  });
  assert.deepEqual(log, ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]);
});

test("the first failure stops new work and is rethrown after in-flight items settle", async () => {
  const started: number[] = [];
  await assert.rejects(
    runInOrder(numbers(100), {
      concurrency: 2,
      work: async (i) => {
        started.push(i);
        await sleep(1);
        if (i === 3) throw new Error("boom");
        return i;
      },
      onResult: async () => {},
    }),
    /boom/,
  );
  assert.ok(started.length < 10);
});
