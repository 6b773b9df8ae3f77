import assert from "node:assert/strict";
import { test } from "node:test";
import { correlationCases } from "./eval-report.ts";

test("correlationCases: each group's used rows as cases <group>/<n>, the judge's score beside the human's", () => {
  const cases = correlationCases([
    { name: "a", judge: [4, 5], human: [3, 5] },
    { name: "b", judge: [1], human: [2] },
  ]);
  assert.deepEqual(cases, [
    { id: "a/1", record: { group: "a", judge: 4, human: 3 } },
    { id: "a/2", record: { group: "a", judge: 5, human: 5 } },
    { id: "b/1", record: { group: "b", judge: 1, human: 2 } },
  ]);
});
