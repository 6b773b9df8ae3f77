import assert from "node:assert/strict";
import { test } from "node:test";
import { longestCommonRun, normalisePrinciple, parsePrinciple, principleRejection } from "./mined-principle.ts";

const GOLD = "Heat water to about 80 degrees, steep the leaves for two minutes, then remove them so the tea does not turn bitter.";

test("parsePrinciple and normalisePrinciple: label, bold, quotes and extra lines go", () => {
  assert.equal(
    parsePrinciple("Sure!\n**Principle:** Be specific: name the exact steps.\nThis helps because…"),
    "Be specific: name the exact steps.",
  );
  assert.equal(parsePrinciple('"Cite sources: back claims with references."'), "Cite sources: back claims with references.");
  assert.equal(parsePrinciple("Principle 1: Be kind: say it gently."), "Be kind: say it gently.");
  assert.equal(parsePrinciple("  \n \n"), null);
  assert.equal(normalisePrinciple("  Principle:   Be   brief:\n keep it short. "), "Be brief: keep it short.");
});

test("principle guard: length, shared word runs and Rouge-L precision against the gold", () => {
  const guard = { maxWords: 10, leakNgram: 8, leakPrecision: 0.5 };
  assert.equal(principleRejection("Be specific: name the steps.", GOLD, guard), undefined);
  assert.match(principleRejection("one two three four five six seven eight nine ten eleven", GOLD, guard)!, /too long/);
  assert.match(
    principleRejection("steep the leaves for two minutes, then remove them", GOLD, { ...guard, maxWords: 60 })!,
    /shares a run of 9 words/,
  );
  // 4 of 5 words in order in the gold, no 8-word run: caught by precision.
  assert.match(principleRejection("water leaves minutes bitter now", GOLD, guard)!, /Rouge-L precision 0.8/);
  assert.equal(principleRejection("water leaves minutes bitter now", GOLD, { ...guard, leakPrecision: 1 }), undefined);
  assert.equal(longestCommonRun(["a", "b", "c", "d"], ["x", "b", "c", "d", "a"]), 3);
  assert.equal(longestCommonRun([], ["a"]), 0);
});
