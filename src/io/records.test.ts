import assert from "node:assert/strict";
import { test } from "node:test";
import { CALL_STEPS, callStepSchema } from "./records.ts";

test("CALL_STEPS: SPRI's steps in the order of its loop (principles, then the response; each generated, critiqued, refined), each a valid call step", () => {
  const stages = ["principle", "response"];
  const actions = ["generate", "critique", "refine"];
  assert.deepEqual(
    CALL_STEPS,
    stages.flatMap((stage) => actions.map((action) => `${stage}.${action}`)),
  );
  for (const step of CALL_STEPS) assert.equal(callStepSchema.parse(step), step);
});
