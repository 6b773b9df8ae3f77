import assert from "node:assert/strict";
import { test } from "node:test";
import { settingDifferences } from "./output-owner.ts";

test("settingDifferences names each differing field, nested ones by path, unset ones as such", () => {
  const before = { task: "sft", temperature: 0.7, seed: 1, prompts: ["a"], mapping: { idField: "id", questionField: "prompt" } };
  const after = { task: "sft", temperature: 0.7, prompts: ["b"], mapping: { questionField: "instruction", idField: "id" } };
  assert.deepEqual(settingDifferences(before, after), [
    "mapping.questionField: prompt → instruction",
    'prompts: ["a"] → ["b"]',
    "seed: 1 → (unset)",
  ]);
  assert.deepEqual(settingDifferences({ a: { x: 1, y: undefined } }, { a: { x: 1 } }), []);
});
