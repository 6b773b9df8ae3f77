import assert from "node:assert/strict";
import { test } from "node:test";
import { summariseMining } from "./mining-summary.ts";

test("summariseMining counts decisions, mean gain and rejected candidates", () => {
  const summary = summariseMining([
    { accepted: true, decision: "accepted", best: { gain: 0.2 }, candidates: [{}, { rejectedReason: "x" }] },
    { accepted: true, decision: "accepted", best: { gain: 0.4 }, candidates: [{}] },
    { accepted: false, decision: "no-gain", candidates: [{}] },
  ]);
  assert.deepEqual(summary, {
    examples: 3,
    accepted: 2,
    acceptRate: 0.6667,
    decisions: { accepted: 2, "no-gain": 1, "not-following": 0, "no-valid-candidate": 0, "gold-unscorable": 0 },
    meanGain: 0.3,
    candidates: 4,
    rejectedCandidates: 1,
  });
});
