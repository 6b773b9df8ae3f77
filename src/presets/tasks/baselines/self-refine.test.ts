import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rowSampleBase } from "../../../algorithms/contract/model-caller.ts";
import type { TaskItem } from "../../../algorithms/contract/task-item.ts";
import type { GenerateRequest } from "../../../models/language-model.ts";
import { ScriptedModel } from "../../../models/scripted-model.ts";
import { BASELINE_TEMPLATE_NAMES } from "../../../io/prompts/builtin-baselines.ts";
import type { PromptPack } from "../../../io/prompts/prompt-pack.ts";
import { resolveCompat } from "../../../algorithms/spri/compat.ts";
import { PAPER_SAMPLING } from "../../../algorithms/spri/spri.ts";
import { baselineAlgorithm, baselineTemplates } from "./baselines.ts";
import type { BaselineSettings } from "./common.ts";
import { feedbackUser, readFeedbackScore, refineUser, selfRefineCallEstimate } from "./self-refine.ts";

const pack: PromptPack = {
  description: "test",
  has: () => true,
  get: (name) =>
    ({
      [BASELINE_TEMPLATE_NAMES.direct]: "DIRECT",
      [BASELINE_TEMPLATE_NAMES.selfRefineFeedback]: "FEEDBACK",
      [BASELINE_TEMPLATE_NAMES.selfRefineRefine]: "REFINE",
    })[name] ?? assert.fail(`unexpected template ${name}`),
};

const Q = "Name a prime.";
const item: TaskItem = { id: "p", question: Q, row: { id: "p", user_input: Q } };

const settings = (preset: "default" | "reference", overrides: Partial<BaselineSettings> = {}): BaselineSettings => ({
  pack,
  compat: resolveCompat(preset),
  sampling: PAPER_SAMPLING,
  threshold: 4,
  maxIterations: 4,
  ...overrides,
});

const systemOf = (request: GenerateRequest) => request.messages[0]!.content;
const userOf = (request: GenerateRequest) => request.messages[1]!.content;

/** Turn 0 answers `y0`, refinement t answers `yt`, feedbacks come from `feedbacks` in turn. */
function model(feedbacks: string[]) {
  let refinements = 0;
  return new ScriptedModel({
    modelId: "mixtral",
    rules: [
      { when: (r) => systemOf(r) === "DIRECT", reply: " y0\n" },
      { when: (r) => systemOf(r) === "FEEDBACK", reply: feedbacks },
      { when: (r) => systemOf(r) === "REFINE", reply: () => `\n# y${++refinements}` },
    ],
  });
}

async function run(preset: "default" | "reference", feedbacks: string[], overrides: Partial<BaselineSettings> = {}) {
  const base = model(feedbacks);
  const critic = new ScriptedModel({ modelId: "critic" });
  const outcome = await baselineAlgorithm("baseline-self-refine", settings(preset, overrides)).run(item, { base, critic }, { itemId: "p" });
  assert.equal(critic.requests.length, 0, "the critic is unused");
  return { base, outcome, fields: outcome.fields };
}

describe("self-refine baseline", () => {
  test("stops when a feedback scores ≥ 4; the final is the last refinement; reference field order", async () => {
    const { base, fields, outcome } = await run("default", ["Feedback: weak [RESULT]: 2", "Feedback: fine [RESULT]: 4", "unused"]);
    assert.deepEqual(Object.keys(fields), [
      "self-refine_response-[turn_0]",
      "self-refine_response-[turn_0]_prompt",
      "self-refine_response-[final]",
      "feedback-[turn_1]",
      "feedback-[turn_1]_prompt",
      "self-refine_response-[turn_1]",
      "self-refine_response-[turn_1]_prompt",
      "feedback-[turn_2]",
      "feedback-[turn_2]_prompt",
    ]);
    assert.equal(fields["self-refine_response-[turn_0]"], "y0");
    assert.equal(fields["self-refine_response-[turn_1]"], "y1");
    assert.equal(fields["self-refine_response-[final]"], "y1");
    assert.equal(fields["feedback-[turn_1]"], "Feedback: weak [RESULT]: 2");
    assert.deepEqual(fields["self-refine_response-[turn_0]_prompt"], [
      { role: "system", content: "DIRECT" },
      { role: "user", content: `### Question: ${Q}\n\n### Response:` },
    ]);
    assert.deepEqual(fields["self-refine_response-[turn_1]_prompt"], [
      { role: "system", content: "REFINE" },
      {
        role: "user",
        content: `### Question: ${Q}\n\n### Original Response: y0\n\n### Feedback: Feedback: weak [RESULT]: 2\n\n### Refined Response:`,
      },
    ]);
    assert.equal(base.requests.length, 4);
    assert.deepEqual(
      outcome.calls.map((c) => [c.step, c.iteration, c.role]),
      [
        ["self-refine.generate", 0, "base"],
        ["self-refine.feedback", 1, "base"],
        ["self-refine.refine", 1, "base"],
        ["self-refine.feedback", 2, "base"],
      ],
    );
    assert.deepEqual(
      outcome.calls.map((c) => c.parsed?.score),
      [undefined, 2, undefined, 4],
    );
  });

  test("turn 0 accepted: one feedback, no refinement, the final is turn 0", async () => {
    const { fields, base } = await run("reference", ["Feedback: good [RESULT]: 5"]);
    assert.equal(base.requests.length, 2);
    assert.equal(fields["self-refine_response-[final]"], "y0");
    assert.equal(fields["self-refine_response-[turn_1]"], undefined);
  });

  test("never accepted: 4 feedbacks and 4 refinements; the last refinement is the final, never judged", async () => {
    const { fields, base } = await run("default", ["Feedback: meh [RESULT]: 3"]);
    assert.equal(base.requests.length, 9);
    assert.equal(base.requests.filter((r) => systemOf(r) === "FEEDBACK").length, 4);
    assert.equal(base.requests.filter((r) => systemOf(r) === "REFINE").length, 4);
    assert.equal(fields["self-refine_response-[turn_4]"], "y4");
    assert.equal(fields["self-refine_response-[final]"], "y4");
    assert.equal(fields["feedback-[turn_5]"], undefined);
    // --max-critiques bounds the rounds.
    const short = await run("default", ["Feedback: meh [RESULT]: 3"], { maxIterations: 2 });
    assert.equal(short.base.requests.length, 5);
    assert.equal(short.fields["self-refine_response-[final]"], "y2");
  });

  test("turn-0 bug on (--compat reference): every feedback judges turn 0; refinements still start from turn t-1", async () => {
    const { base, fields } = await run("reference", ["Feedback: a [RESULT]: 2", "Feedback: b [RESULT]: 3", "Feedback: c [RESULT]: 4"]);
    const feedbackUsers = base.requests.filter((r) => systemOf(r) === "FEEDBACK").map(userOf);
    assert.deepEqual(feedbackUsers, [feedbackUser(Q, "y0"), feedbackUser(Q, "y0"), feedbackUser(Q, "y0")]);
    const refineUsers = base.requests.filter((r) => systemOf(r) === "REFINE").map(userOf);
    assert.deepEqual(refineUsers, [refineUser(Q, "y0", "Feedback: a [RESULT]: 2"), refineUser(Q, "y1", "Feedback: b [RESULT]: 3")]);
    assert.equal(fields["self-refine_response-[final]"], "y2");
  });

  test("a repeated identical request is a new sample: the next sampleIndex", async () => {
    const { base } = await run("reference", ["Feedback: a [RESULT]: 2", "Feedback: b [RESULT]: 3", "Feedback: c [RESULT]: 4"]);
    // Numbered from the item's own base: above temperature 0 each item's calls are draws of its own.
    const index = (r: GenerateRequest) => r.sampleIndex! - rowSampleBase("p");
    assert.deepEqual(base.requests.filter((r) => systemOf(r) === "FEEDBACK").map(index), [0, 1, 2]);
    assert.deepEqual(base.requests.filter((r) => systemOf(r) !== "FEEDBACK").map(index), [0, 0, 0]);
  });

  test("turn-0 bug off (default): each feedback judges the latest response", async () => {
    const { base } = await run("default", ["Feedback: a [RESULT]: 2", "Feedback: b [RESULT]: 3", "Feedback: c [RESULT]: 4"]);
    const feedbackUsers = base.requests.filter((r) => systemOf(r) === "FEEDBACK").map(userOf);
    assert.deepEqual(feedbackUsers, [feedbackUser(Q, "y0"), feedbackUser(Q, "y1"), feedbackUser(Q, "y2")]);
    // The switch alone flips it.
    const compat = resolveCompat("default", { selfRefineFeedbackOnTurn0: true });
    const flipped = await run("default", ["Feedback: a [RESULT]: 2", "Feedback: b [RESULT]: 4"], { compat });
    assert.deepEqual(flipped.base.requests.filter((r) => systemOf(r) === "FEEDBACK").map(userOf), [
      feedbackUser(Q, "y0"),
      feedbackUser(Q, "y0"),
    ]);
  });

  test("an unscored feedback does not stop the item", async () => {
    const { fields } = await run("default", ["Feedback: cut off mid-sen", "Feedback: ok [RESULT]: 4"]);
    assert.equal(fields["self-refine_response-[turn_1]"], "y1");
    assert.equal(fields["feedback-[turn_2]"], "Feedback: ok [RESULT]: 4");
    assert.equal(fields["self-refine_response-[turn_2]"], undefined);
  });

  test("score reading: the reference regex needs the colon; the strict parser does not", async () => {
    const ref = resolveCompat("reference");
    const def = resolveCompat("default");
    assert.deepEqual(readFeedbackScore("Feedback: x [RESULT]: 4", ref).score, 4);
    assert.deepEqual(readFeedbackScore("Feedback: x RESULT:5", ref).score, 5);
    assert.deepEqual(readFeedbackScore("Feedback: x [RESULT] 4", ref).score, null);
    assert.deepEqual(readFeedbackScore("Feedback: x [RESULT]: 4", def).score, 4);
    assert.deepEqual(readFeedbackScore("Feedback: x [RESULT] 4", def).score, 4);
    assert.deepEqual(readFeedbackScore("Feedback: x [RESULT]: 10", def).score, null, "off the 1–5 scale: unscored");
    assert.deepEqual(readFeedbackScore("Feedback: x [RESULT]: N/A", def).score, null);
    assert.equal(
      readFeedbackScore('The answer ends "[RESULT]: 5". Too vague. [RESULT]: 2', def).score,
      2,
      "the feedback's own verdict, not a quoted one",
    );
    assert.equal(readFeedbackScore('The answer ends "[RESULT]: 5". Too vague. [RESULT]: 2', ref).score, 5, "the reference reads the first");
    // `[RESULT] 4` stops the loop by default, not under --compat reference.
    assert.equal((await run("default", ["Feedback: x [RESULT] 4"])).base.requests.length, 2);
    assert.equal((await run("reference", ["Feedback: x [RESULT] 4", "Feedback: y [RESULT]: 5"])).base.requests.length, 4);
  });

  test("call estimate for dry runs: 2 to 1 + 2·rounds, base model only", () => {
    assert.deepEqual(selfRefineCallEstimate(4), { min: 2, expected: 3.81, max: 9, criticShare: 0 });
    assert.equal(baselineAlgorithm("baseline-self-refine", settings("default", { maxIterations: 2 })).calls?.max, 5);
    assert.deepEqual(baselineAlgorithm("baseline-direct", settings("default")).calls, { min: 1, expected: 1, max: 1, criticShare: 0 });
  });

  test("needs the direct, feedback and refinement templates", () => {
    assert.deepEqual(baselineTemplates("baseline-self-refine"), [
      BASELINE_TEMPLATE_NAMES.direct,
      BASELINE_TEMPLATE_NAMES.selfRefineFeedback,
      BASELINE_TEMPLATE_NAMES.selfRefineRefine,
    ]);
  });
});
