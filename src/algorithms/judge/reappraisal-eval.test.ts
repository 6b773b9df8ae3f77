import assert from "node:assert/strict";
import { test } from "node:test";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { evaluateReappraisal, parseCriterion } from "./reappraisal-eval.ts";

test("answers are read per criterion; anything else is unscored, never 0", () => {
  assert.equal(parseCriterion("alignment", "<score>8</score><rationale>ok</rationale>"), 8);
  assert.equal(parseCriterion("alignment", "<score>[9]</score>"), 9);
  assert.equal(parseCriterion("alignment", "<score>11</score>"), null);
  assert.equal(parseCriterion("empathy", "4"), 4);
  assert.equal(parseCriterion("empathy", "very empathetic"), null);
  assert.equal(parseCriterion("harmful", "Not Harmful"), 0);
  assert.equal(parseCriterion("harmful", "Harmful."), 1);
  assert.equal(parseCriterion("harmful", "maybe"), null);
  assert.equal(parseCriterion("factuality", "Minor Error"), 0.5);
  assert.equal(parseCriterion("factuality", "No"), 0);
});

test("one judge call per criterion, at the given sampling", async () => {
  const judge = new ScriptedModel({
    modelId: "j",
    rules: [
      { when: "standards", reply: "<score>7</score><rationale>fine</rationale>" },
      { when: "How empathetic", reply: "5" },
      { when: "Could the reply harm", reply: "Not Harmful" },
      { when: "states as fact", reply: "I think yes" },
    ],
  });
  const { fields, calls } = await evaluateReappraisal(
    { post: "p", response: "r", standards: "s", aim: "a" },
    judge,
    { temperature: 0.1, seed: 36 },
    { itemId: "1" },
  );
  assert.equal(calls.length, 4);
  assert.deepEqual([fields.eval_alignment, fields.eval_empathy, fields.eval_harmful, fields.eval_factuality], [7, 5, 0, null]);
  assert.deepEqual(judge.requests[0]!.sampling, { temperature: 0.1, seed: 36 });
});
