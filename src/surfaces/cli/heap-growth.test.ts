import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { growthFactorFor, HEAP_GROWTH, type HeapGrowth, userChoices } from "./heap-growth.ts";

const MODULE = new URL("./heap-growth.ts", import.meta.url).href;
const MB = 1024 * 1024;

/**
 * The largest new and old space (MB) a fresh process reaches while it keeps a ring of 400,000
 * small objects (~40 MB live) and replaces them, 100,000 a turn (the GC observer runs between
 * turns): each object outlives a scavenge or two, so it dies in the old space, as a run's items do.
 */
function peakSpacesMb(options: { hold?: HeapGrowth; nodeArgs?: string[] }): { newSpace: number; oldSpace: number } {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { holdHeapGrowth } from ${JSON.stringify(MODULE)};
    const hold = ${JSON.stringify(options.hold ?? null)};
    if (hold) holdHeapGrowth(hold);
    const size = (name) => getHeapSpaceStatistics().find((s) => s.space_name === name).space_size;
    const peak = { newSpace: 0, oldSpace: 0 };
    const ring = new Array(400000);
    let k = 0;
    for (let turn = 0; turn < 100; turn++) {
      for (let i = 0; i < 100000; i++) {
        ring[k] = { k, text: "item " + k };
        k = (k + 1) % ring.length;
      }
      peak.newSpace = Math.max(peak.newSpace, size("new_space") / ${MB});
      peak.oldSpace = Math.max(peak.oldSpace, size("old_space") / ${MB});
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.stdout.write(JSON.stringify(peak));
  `;
  const out = execFileSync(process.execPath, [...(options.nodeArgs ?? []), "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { PATH: process.env.PATH },
  });
  return JSON.parse(out) as { newSpace: number; oldSpace: number };
}

// V8 counts a page or so past the semi-spaces at times (34 MB against 32): a cap holds when the new
// space never takes its next doubling. A cap of 32 MB, below Node 24's default of 128 MB, shows it
// working whatever HEAP_GROWTH's own cap.
const CAP_32: HeapGrowth = { ...HEAP_GROWTH, newSpaceCapBytes: 32 * MB };
const NEXT_DOUBLING_MB = 64;

test("holdHeapGrowth: the new space stops at its cap, where Node's default grows past it", () => {
  // A user's own flag stands in for Node 24's default on Node 22, whose default is 32 MB.
  assert.ok(peakSpacesMb({ nodeArgs: ["--max-semi-space-size=64"] }).newSpace >= NEXT_DOUBLING_MB);
  assert.ok(peakSpacesMb({ hold: CAP_32 }).newSpace < NEXT_DOUBLING_MB);
});

test("holdHeapGrowth: the old space grows as far as the growing percent lets it, unless the user chose theirs", () => {
  // Set at run time, 50 % holds the old space near the live set (82–88 MB here); the user's 400 %
  // lets it reach 185–262 MB, and V8's own factor 168–210 MB.
  const held = peakSpacesMb({ hold: { ...CAP_32, oldGrowingPercent: 50 } }).oldSpace;
  const users = peakSpacesMb({ hold: { ...CAP_32, oldGrowingPercent: 50 }, nodeArgs: ["--heap-growing-percent=400"] }).oldSpace;
  assert.ok(held < 120, `held at ${held} MB`);
  assert.ok(users > 1.5 * held, `the user's 400 %: ${users} MB, held: ${held} MB`);
});

test("holdHeapGrowth: a young generation chosen by the user stays as chosen", () => {
  assert.ok(peakSpacesMb({ hold: CAP_32, nodeArgs: ["--max-semi-space-size=64"] }).newSpace >= NEXT_DOUBLING_MB);
});

test("growthFactorFor: grows below the cap, stays at or above it", () => {
  assert.equal(growthFactorFor(HEAP_GROWTH.newSpaceCapBytes - 1), 2);
  assert.equal(growthFactorFor(HEAP_GROWTH.newSpaceCapBytes), 1);
  assert.equal(growthFactorFor(8, 4), 1);
});

test("userChoices: flags on the command line or in NODE_OPTIONS, either spelling", () => {
  assert.deepEqual(userChoices(["--max-semi-space-size=64"], undefined), { youngGeneration: true, oldGrowth: false });
  assert.deepEqual(userChoices([], "--enable-source-maps --semi-space-growth-factor=4"), { youngGeneration: true, oldGrowth: false });
  assert.deepEqual(userChoices(["--max_semi_space_size=8"], "--heap_growing_percent=100"), { youngGeneration: true, oldGrowth: true });
  assert.deepEqual(userChoices(["--import", "probe.js"], "--max-old-space-size=4096"), { youngGeneration: false, oldGrowth: false });
  assert.deepEqual(userChoices([], undefined), { youngGeneration: false, oldGrowth: false });
});
