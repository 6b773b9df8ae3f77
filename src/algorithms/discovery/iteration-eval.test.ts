import assert from "node:assert/strict";
import { test } from "node:test";
import type { GenerateRequest } from "../../models/language-model.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { iterationEvalAlgorithm } from "./iteration-eval.ts";
import { rougeL } from "./rouge-l.ts";

const PROMPT = "How do I make a cup of green tea?";
const GOLD = "Heat water to about 80 degrees and steep the leaves for two minutes.";
const ANSWER = "Heat water to 80 degrees, then steep for two minutes.";
const text = (r: GenerateRequest) => r.messages.map((m) => m.content).join("\n");

test("iteration eval: the model answers the bare prompt, Rouge-L against the gold, judged against the previous and the base answers in both orders", async () => {
  const model = new ScriptedModel({ modelId: "m2", fallback: () => ANSWER });
  // The judge prefers whichever response mentions 80 degrees: the new answer over "previous", and a tie-like split never.
  const judge = new ScriptedModel({
    modelId: "judge",
    fallback: (r) => {
      const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(text(r))![1]!;
      return a.includes("80 degrees") ? "[[A]]" : "[[B]]";
    },
  });
  const algorithm = iterationEvalAlgorithm({ goldField: "gold" });
  const row = { prompt: PROMPT, gold: GOLD, eval_previous_answer: "Use water.", eval_base_answer: "Use hot water." };
  const { fields, calls } = await algorithm.run({ id: "e1", question: PROMPT, row }, { base: model, critic: judge }, { itemId: "e1" });
  assert.deepEqual(model.requests[0]!.messages, [{ role: "user", content: PROMPT }]);
  assert.equal(fields.eval_answer, ANSWER);
  const f1 = Math.round(rougeL(GOLD, ANSWER).fmeasure * 10000) / 10000;
  assert.equal((fields.eval_rougeL as { f1: number }).f1, f1);
  assert.equal((fields.eval_vs_previous as { preference: number }).preference, 1);
  assert.equal((fields.eval_vs_base as { preference: number }).preference, 1);
  // 1 answer + 2 orders × 2 baselines; the judge never sees the gold.
  assert.equal(calls.length, 5);
  assert.equal(judge.requests.length, 4);
  assert.ok(judge.requests.every((r) => !text(r).includes(GOLD)));
});

test("iteration eval: without baselines or a gold only the answer is recorded", async () => {
  const model = new ScriptedModel({ modelId: "m1", fallback: () => ANSWER });
  const { fields, calls } = await iterationEvalAlgorithm({ goldField: "gold" }).run(
    { id: "e1", question: PROMPT, row: { prompt: PROMPT } },
    { base: model, critic: model },
    { itemId: "e1" },
  );
  assert.equal(calls.length, 1);
  assert.equal(fields.eval_rougeL, null);
  assert.equal(fields.eval_vs_previous, null);
  assert.equal(fields.eval_vs_base, null);
});
