import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { acceptedPrinciples, assignSlices, iterationStats, newPrinciples, sliceSizes } from "./iterations.ts";

test("slice sizes: K equal slices (remainder first) or explicit sizes", () => {
  assert.deepEqual(sliceSizes(10, { slices: 3 }), [4, 3, 3]);
  assert.deepEqual(sliceSizes(10, { sizes: [5, 2, 2] }), [5, 2, 2]);
  assert.throws(() => sliceSizes(10, { sizes: [8, 5] }), InputError);
  assert.throws(() => sliceSizes(2, { slices: 3 }), InputError);
});

test("newPrinciples: exact (normalised) and Rouge-L near-duplicates are not new", () => {
  const earlier = ["Principle: Be specific: name the exact steps."];
  assert.deepEqual(
    newPrinciples(
      ["Be specific: name the exact steps.", "Be specific: name the exact steps please.", "Something else entirely."],
      earlier,
      0.7,
    ),
    ["Something else entirely."],
  );
  assert.deepEqual(newPrinciples(["a b c"], [], 0.7), ["a b c"]);
});

test("assignSlices: disjoint, in input order inside a slice, fixed by the ids and the seed", () => {
  const ids = Array.from({ length: 11 }, (_, i) => `q${i}`);
  const slices = assignSlices(ids, [4, 4, 2], "s");
  assert.deepEqual(
    slices.map((s) => s.length),
    [4, 4, 2],
  );
  assert.equal(new Set(slices.flat()).size, 10);
  for (const slice of slices)
    assert.deepEqual(
      slice,
      [...slice].sort((a, b) => a - b),
    );
  assert.deepEqual(assignSlices(ids, [4, 4, 2], "s"), slices);
  assert.notDeepEqual(assignSlices(ids, [4, 4, 2], "other"), slices);
  // The split follows the ids, not their positions.
  const reversed = assignSlices([...ids].reverse(), [4, 4, 2], "s");
  assert.deepEqual(
    reversed.map((s) => s.map((i) => ids[10 - i]).sort()),
    slices.map((s) => s.map((i) => ids[i]).sort()),
  );
});

const mined = (z: string | null, i: number) => ({
  id: `r${i}`,
  accepted: z !== null,
  decision: z === null ? "no-gain" : "accepted",
  best: z === null ? null : { z, gain: 0.1 },
  candidates: [],
});

test("acceptedPrinciples: accepted ones only, normalised, exact duplicates merged", () => {
  const records = ["Principle: Be specific.", "be specific.", null, "Cite sources."].map(mined);
  assert.deepEqual(acceptedPrinciples(records), ["Be specific.", "Cite sources."]);
});

test("iterationStats: new principles against earlier constitutions, discovery rate per mined prompt", () => {
  const records = ["Be specific: name all the exact steps.", "Cite sources for every claim.", "Stay calm and kind in tone.", null].map(
    mined,
  );
  const stats = iterationStats({
    records,
    earlier: ["Be specific: name the exact steps.", "Cite sources for every claim."],
    threshold: 0.7,
    constitution: { principles: [{ id: "p0", text: "Stay calm and kind in tone." }] },
    minedFile: "iter-2/mined.jsonl",
    constitutionFile: null,
  });
  const { recordedAt, ...rest } = stats;
  assert.match(recordedAt, /^\d{4}-\d\d-\d\dT/);
  assert.deepEqual(rest, {
    mined: 4,
    accepted: 3,
    acceptRate: 0.75,
    uniquePrinciples: 3,
    newPrinciples: 1,
    discoveryRate: 0.25,
    constitutionSize: 1,
    // One principle: no pair to measure.
    constitutionDiversity: null,
    minedFile: "iter-2/mined.jsonl",
    constitutionFile: null,
  });
});
