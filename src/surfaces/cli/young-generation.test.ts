import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { growthFactorFor, NEW_SPACE_CAP_BYTES, userChoseYoungGeneration } from "./young-generation.ts";

const MODULE = new URL("./young-generation.ts", import.meta.url).href;

/**
 * The largest new space (MB) a fresh process reaches while allocating objects that live a while,
 * in turns (the observer runs between them), with the cap on or off.
 */
function peakNewSpaceMb(options: { cap: boolean; nodeArgs?: string[] }): number {
  const script = `
    import { getHeapSpaceStatistics } from "node:v8";
    import { capYoungGeneration } from ${JSON.stringify(MODULE)};
    if (${options.cap}) capYoungGeneration();
    const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;
    let peak = 0;
    let kept = [];
    for (let turn = 0; turn < 80; turn++) {
      for (let i = 0; i < 100000; i++) {
        kept.push({ i, text: "item " + i });
        if (kept.length > 200000) kept = [];
      }
      peak = Math.max(peak, newSpace());
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.stdout.write(String(peak / 1048576));
  `;
  const out = execFileSync(process.execPath, [...(options.nodeArgs ?? []), "--input-type=module", "-e", script], {
    encoding: "utf8",
    env: { PATH: process.env.PATH },
  });
  return Number(out);
}

test("capYoungGeneration: the new space stops growing at the cap, where Node's default lets it grow past it", () => {
  // V8 counts a page or so past the semi-spaces at times (34 MB against 32): the cap holds when the
  // new space never takes its next doubling, which Node 24 takes up to 128 MB. A user's own flag
  // stands in for that default on Node 22, whose default is the cap.
  const nextDoublingMb = (2 * NEW_SPACE_CAP_BYTES) / 1048576;
  assert.ok(peakNewSpaceMb({ cap: false, nodeArgs: ["--max-semi-space-size=64"] }) >= nextDoublingMb);
  assert.ok(peakNewSpaceMb({ cap: true }) < nextDoublingMb);
});

test("capYoungGeneration: a young generation chosen by the user stays as chosen", () => {
  assert.ok(peakNewSpaceMb({ cap: true, nodeArgs: ["--max-semi-space-size=64"] }) >= (2 * NEW_SPACE_CAP_BYTES) / 1048576);
});

test("growthFactorFor: grows below the cap, stays at or above it", () => {
  assert.equal(growthFactorFor(NEW_SPACE_CAP_BYTES - 1), 2);
  assert.equal(growthFactorFor(NEW_SPACE_CAP_BYTES), 1);
  assert.equal(growthFactorFor(8, 4), 1);
});

test("userChoseYoungGeneration: flags on the command line or in NODE_OPTIONS, none otherwise", () => {
  assert.equal(userChoseYoungGeneration(["--max-semi-space-size=64"], undefined), true);
  assert.equal(userChoseYoungGeneration([], "--enable-source-maps --semi-space-growth-factor=4"), true);
  assert.equal(userChoseYoungGeneration(["--max_semi_space_size=8"], undefined), true);
  assert.equal(userChoseYoungGeneration(["--import", "probe.js"], "--max-old-space-size=4096"), false);
  assert.equal(userChoseYoungGeneration([], undefined), false);
});
