import assert from "node:assert/strict";
import { test } from "node:test";
import { CALL_STEPS, callStepSchema } from "./records.ts";

test("CALL_STEPS: SPRI's steps in the order of its loop, each one a valid call step", () => {
  assert.deepEqual(CALL_STEPS, [
    "principle.generate",
    "principle.critique",
    "principle.refine",
    "response.generate",
    "response.critique",
    "response.refine",
  ]);
  for (const step of CALL_STEPS) assert.equal(callStepSchema.parse(step), step);
});
