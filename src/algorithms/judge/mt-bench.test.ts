import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { gradeMtBench, type MtBenchCase, type MtBenchPrompts, mtBenchSummary, parseRating } from "./mt-bench.ts";

/** Judge prompts of FastChat's shape (names, fields, output format), with placeholder wording. */
const PROMPTS: MtBenchPrompts = {
  "single-v1": { system_prompt: "S1", prompt_template: "Q={question} A={answer}", output_format: "[[rating]]" },
  "single-math-v1": { system_prompt: "SM1", prompt_template: "Q={question} R={ref_answer_1} A={answer}", output_format: "[[rating]]" },
  "single-v1-multi-turn": {
    system_prompt: "S2",
    prompt_template: "Q1={question_1} A1={answer_1} Q2={question_2} A2={answer_2}",
    output_format: "[[rating]]",
  },
  "single-math-v1-multi-turn": {
    system_prompt: "SM2",
    prompt_template: "Q1={question_1} R1={ref_answer_1} R2={ref_answer_2} A1={answer_1} Q2={question_2} A2={answer_2}",
    output_format: "[[rating]]",
  },
};

describe("MT-Bench single-answer grading", () => {
  test("FastChat's rating rule: the first [[n]], else the first [n]; nothing else is a rating", () => {
    assert.equal(parseRating("Rating: [[7]]"), 7);
    assert.equal(parseRating("[[7.5]] and later [[2]]"), 7.5);
    assert.equal(parseRating("see [3] ... Rating: [[8]]"), 8, "the double-bracket pattern is tried first, over the whole text");
    assert.equal(parseRating("no double brackets, but [6] and [9]"), 6);
    assert.equal(parseRating("[[10]]"), 10);
    assert.equal(parseRating("Rating: [[ 5 ]]"), null);
    assert.equal(parseRating("Rating: 5/10"), null);
    assert.equal(parseRating("[[5/10]]"), null);
  });

  test("two calls per question: turn 1 alone, turn 2 with the whole conversation; references only where the category needs them", async () => {
    const judge = new ScriptedModel({ modelId: "j", fallback: (req) => (req.messages[0]!.content.startsWith("SM") ? "[[4]]" : "[[9]]") });
    const writing: MtBenchCase = { questionId: "81", category: "writing", questions: ["q1", "q2"], answers: ["a1", "a2"] };
    const math: MtBenchCase = {
      questionId: "111",
      category: "math",
      questions: ["m1", "m2"],
      answers: ["x1", "x2"],
      references: ["r1", "r2"],
    };
    const graded = await gradeMtBench(writing, judge, PROMPTS, { temperature: 0, maxTokens: 2048 }, { itemId: "81" });
    await gradeMtBench(math, judge, PROMPTS, { temperature: 0, maxTokens: 2048 }, { itemId: "111" });
    const sent = judge.requests.map((r) => r.messages.map((m) => `${m.role}:${m.content}`));
    assert.deepEqual(sent, [
      ["system:S1", "user:Q=q1 A=a1"],
      ["system:S2", "user:Q1=q1 A1=a1 Q2=q2 A2=a2"],
      ["system:SM1", "user:Q=m1 R=r1 A=x1"],
      ["system:SM2", "user:Q1=m1 R1=r1 R2=r2 A1=x1 Q2=m2 A2=x2"],
    ]);
    assert.deepEqual(judge.requests[0]!.sampling, { temperature: 0, maxTokens: 2048 });
    assert.deepEqual([graded.fields.mt_bench_turn_1_score, graded.fields.mt_bench_turn_2_score], [9, 9]);
    assert.equal(graded.fields.mt_bench_turn_1_prompt_name, "single-v1");
  });

  test("a category that needs a reference and has none is refused, naming the question", async () => {
    const judge = new ScriptedModel({ modelId: "j", fallback: () => "[[5]]" });
    const kase: MtBenchCase = { questionId: "120", category: "math", questions: ["q1", "q2"], answers: ["a1", "a2"] };
    await assert.rejects(gradeMtBench(kase, judge, PROMPTS, { temperature: 0 }, { itemId: "120" }), /question 120 .*reference/);
  });

  test("summary by hand: turn means, their pooled mean, unscored judgements left out (FastChat drops -1)", () => {
    const summary = mtBenchSummary([
      { category: "writing", turn1: 7, turn2: 8.5 },
      { category: "math", turn1: 3, turn2: null },
    ]);
    assert.deepEqual(summary, {
      turn1: 5,
      turn2: 8.5,
      average: (7 + 3 + 8.5) / 3,
      n: 3,
      unscored: 1,
      categories: { writing: 7.75, math: 3 },
    });
  });
});
