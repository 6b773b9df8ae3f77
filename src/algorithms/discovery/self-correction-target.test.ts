import assert from "node:assert/strict";
import { test } from "node:test";
import { formatTarget, parseSelfCorrection } from "./self-correction-target.ts";

test("target text round-trips through parseSelfCorrection", () => {
  const target = formatTarget({ principle: "Be specific: name the steps.", critique: "Too vague.", revised: "Step 1.\nStep 2." });
  assert.equal(target, "[Principle] Be specific: name the steps.\n[Critique] Too vague.\n[Revised response]\nStep 1.\nStep 2.");
  assert.deepEqual(parseSelfCorrection(target), {
    principle: "Be specific: name the steps.",
    critique: "Too vague.",
    revised: "Step 1.\nStep 2.",
  });
  assert.equal(formatTarget({ principle: "P", critique: "C", revised: "R" }, false), "[Principle] P\n[Revised response]\nR");
  assert.deepEqual(parseSelfCorrection("[Principle] P\n[Revised response]\nR"), { principle: "P", revised: "R" });
  assert.equal(parseSelfCorrection("My answer is already fine."), null);
  assert.equal(parseSelfCorrection("[Principle] P\n[Revised response]\n  "), null);
});
