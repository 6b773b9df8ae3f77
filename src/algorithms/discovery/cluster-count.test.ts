import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { clusterCountRange, meanSilhouette } from "./cluster-count.ts";

// Four unit vectors: two copies of e1, two of e2 (cosine distance 0 within, 1 across).
const dots = Float64Array.from(
  [
    [1, 1, 0, 0],
    [1, 1, 0, 0],
    [0, 0, 1, 1],
    [0, 0, 1, 1],
  ].flat(),
);
const all = Int32Array.from([0, 1, 2, 3]);

test("silhouette by hand: the true split scores 1", () => {
  // Every point: a = 0 (its twin), b = 1 (the other pair) → s = 1.
  assert.equal(meanSilhouette(dots, 4, all, Int32Array.from([0, 0, 1, 1]), 2), 1);
});

test("silhouette by hand: a wrong split, a singleton scoring 0", () => {
  // Clusters {0,1,2} and {3}. Points 0 and 1: a = (0 + 1) / 2, b = 1 → 0.5 each. Point 2: a = 1, b = 0 → −1.
  // Point 3 is alone → 0. Mean (0.5 + 0.5 − 1 + 0) / 4 = 0.
  assert.equal(meanSilhouette(dots, 4, all, Int32Array.from([0, 0, 0, 1]), 2), 0);
  // Scored on a sample (points 0 and 2 only) against all points: (0.5 − 1) / 2.
  // The dot products are then the sampled rows only (points 0 and 2 against all four).
  const sampleRows = Float64Array.from([...dots.subarray(0, 4), ...dots.subarray(8, 12)]);
  assert.equal(meanSilhouette(sampleRows, 4, Int32Array.from([0, 2]), Int32Array.from([0, 0, 0, 1]), 2), -0.25);
});

test("the k range is clipped to n − 1 and refuses an inverted or too small range", () => {
  assert.deepEqual(clusterCountRange(10), { min: 2, max: 9 });
  assert.deepEqual(clusterCountRange(500, { min: 20, max: 80 }), { min: 20, max: 80 });
  assert.throws(() => clusterCountRange(10, { min: 5, max: 3 }), ConfigError);
  assert.throws(
    () => clusterCountRange(10, { min: 1 }),
    (e: ConfigError) => /--min-clusters/.test(e.hint ?? ""),
  );
});
