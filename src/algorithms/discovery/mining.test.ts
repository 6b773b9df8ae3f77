import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { rowSampleBase } from "../contract/model-caller.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import type { GenerateRequest } from "../../models/language-model.ts";
import { mineExample, miningAlgorithm } from "./mining.ts";
import { miningOptions } from "./mining-options.ts";
import { rougeL } from "./rouge-l.ts";

const PROMPT = "How do I make a cup of green tea?";
const GOLD = "Heat water to about 80 degrees, steep the leaves for two minutes, then remove them so the tea does not turn bitter.";
const Y1 = "Put tea in water.";
const GOOD_Y2 = "Heat the water to about 80 degrees, steep the leaves for two minutes, then take them out so it is not bitter.";
const BAD_Y2 = "No idea, sorry.";

const text = (r: GenerateRequest) => r.messages.map((m) => m.content).join("\n");
const isPrinciple = (r: GenerateRequest) => text(r).includes("A reference response judged better");
const isCritique = (r: GenerateRequest) => text(r).includes("List at most 5 concrete ways");
const isRefine = (r: GenerateRequest) => text(r).includes("Rewrite the response so it follows");

/** A policy whose refinements follow the principle: "details" gives a gold-like answer, anything else a poor one. */
function policy(
  principles: string[],
  refine: (prompt: string) => string = (prompt) => (/details/i.test(prompt) ? GOOD_Y2 : BAD_Y2),
): ScriptedModel {
  return new ScriptedModel({
    modelId: "policy",
    rules: [
      { when: isPrinciple, reply: principles },
      { when: isCritique, reply: "1. It is too short." },
      { when: isRefine, reply: (r) => refine(text(r)) },
      { when: () => true, reply: Y1 },
    ],
  });
}

const context = { itemId: "q1" };

test("mining: the best candidate is accepted when it beats y1; a gold-copying principle is rejected before any critique", async () => {
  const model = policy([
    "Principle: Brevity: keep the answer short.",
    "Principle: Give details: explain each step with the quantities and timings that matter.",
    `Principle: Copy: ${GOLD}`,
  ]);
  const options = miningOptions({ candidates: 3 });
  const { fields, calls } = await mineExample({ id: "q1", prompt: PROMPT, gold: GOLD }, { policy: model }, options, context);

  assert.equal(fields.y1, Y1);
  assert.equal(fields.f, "rougeL_f1");
  // Scores are Rouge-L F1 of each response against the gold (rouge_score order: target first).
  const f = (y: string) => Math.round(rougeL(GOLD, y).fmeasure * 10000) / 10000;
  assert.equal(fields.fY1, f(Y1));
  assert.deepEqual(
    fields.candidates.map((c) => c.fY2),
    [f(BAD_Y2), f(GOOD_Y2), null],
  );
  assert.equal(fields.candidates[0]!.z, "Brevity: keep the answer short.");
  assert.match(fields.candidates[2]!.rejectedReason!, /copies the gold/);
  assert.equal(fields.candidates[2]!.critique, null);

  assert.equal(fields.accepted, true);
  assert.equal(fields.decision, "accepted");
  assert.equal(fields.best!.k, 2);
  assert.equal(fields.best!.y2, GOOD_Y2);
  assert.equal(fields.best!.gain, Math.round((f(GOOD_Y2) - f(Y1)) * 10000) / 10000);
  assert.equal(fields.y2, GOOD_Y2);
  assert.ok(fields.best!.fY2 > fields.fY1!);

  // 1 answer + 3 principles + 2 × (critique + refine); the rejected candidate costs no more.
  assert.equal(calls.length, 8);
  assert.deepEqual(
    calls.map((c) => c.step),
    [
      "discovery.answer",
      "discovery.principle",
      "discovery.critique",
      "discovery.refine",
      "discovery.principle",
      "discovery.critique",
      "discovery.refine",
      "discovery.principle",
    ],
  );
  // Only the principle prompts see the gold.
  for (const request of model.requests) assert.equal(text(request).includes(GOLD), isPrinciple(request), text(request).slice(0, 80));
  // The y1 call is the bare prompt.
  assert.deepEqual(model.requests[0]!.messages, [{ role: "user", content: PROMPT }]);
  // Identical principle prompts are numbered so a cache keeps the samples apart.
  assert.deepEqual(
    model.requests.filter(isPrinciple).map((r) => r.sampleIndex! - rowSampleBase(context.itemId)),
    [0, 1, 2],
  );
  // Sampling per step (spec defaults).
  assert.equal(model.requests.find(isPrinciple)!.sampling!.temperature, 1);
  assert.equal(model.requests[0]!.sampling!.temperature, 0.7);
});

test("mining: no candidate beats y1 → not accepted, with the reason", async () => {
  const model = policy(["Principle: Brevity: keep it short."], () => BAD_Y2);
  const { fields } = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: model },
    miningOptions({ candidates: 2 }),
    context,
  );
  assert.equal(fields.accepted, false);
  assert.equal(fields.decision, "no-gain");
  assert.equal(fields.best, null);
  assert.equal(fields.y2, null);
  assert.match(fields.reason, /not above y1/);
});

test("mining: every candidate rejected → no-valid-candidate; --min-gain raises the bar", async () => {
  const model = policy(["", "   "]);
  const { fields } = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: model },
    miningOptions({ candidates: 2 }),
    context,
  );
  assert.equal(fields.decision, "no-valid-candidate");
  assert.deepEqual(
    fields.candidates.map((c) => c.rejectedReason),
    ["no principle in the answer", "no principle in the answer"],
  );

  const strict = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: policy(["Principle: Details: give details."]) },
    miningOptions({ candidates: 1, minGain: 0.99 }),
    context,
  );
  assert.equal(strict.fields.decision, "no-gain");
});

test("mining: a gold with no Rouge-L tokens is skipped without a call", async () => {
  const model = policy(["x"]);
  const { fields, calls } = await mineExample(
    { id: "q1", prompt: PROMPT, gold: "日本語の答え" },
    { policy: model },
    miningOptions({ candidates: 2 }),
    context,
  );
  assert.equal(calls.length, 0);
  assert.equal(fields.decision, "gold-unscorable");
  assert.equal(fields.accepted, false);
});

test("mining: judge similarity compares y2 with y1 in both orders, the gold shown as a reference", async () => {
  const judge = new ScriptedModel({
    modelId: "judge",
    fallback: (r) => {
      const user = r.messages[1]!.content;
      const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
      return a.includes("80 degrees") ? "A is closer. [[A]]" : "B is closer. [[B]]";
    },
  });
  const model = policy(["Principle: Brevity: keep it short.", "Principle: Details: give the details."], (p) =>
    /details/i.test(p) ? GOOD_Y2 : Y1,
  );
  const { fields, calls } = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: model, judge },
    miningOptions({ candidates: 2, similarity: "judge" }),
    context,
  );
  assert.equal(fields.f, "judge_preference");
  assert.equal(fields.fY1, 0.5);
  // Candidate 1 refines to y1 itself: the judge prefers B then A (position), a tie at 0.5.
  assert.deepEqual(
    fields.candidates.map((c) => c.fY2),
    [0.5, 1],
  );
  assert.equal(fields.best!.k, 2);
  assert.equal(fields.accepted, true);
  assert.equal(judge.requests.length, 4);
  assert.ok(judge.requests.every((r) => r.messages[1]!.content.includes(`[Reference response]\n${GOLD}`)));
  assert.equal(judge.requests[0]!.sampling!.temperature, 0);
  assert.equal(calls.filter((c) => c.role === "judge").length, 4);
  // Rouge-L is still recorded for every refined candidate.
  assert.ok(fields.candidates.every((c) => c.rougeL !== null));
});

test("miningAlgorithm: reads the gold from --gold-field and fails the item without it", async () => {
  const algorithm = miningAlgorithm(miningOptions({ candidates: 1, goldField: "reference" }));
  assert.equal(algorithm.name, "discovery/mine-rougeL");
  assert.deepEqual(algorithm.calls, { min: 1, expected: 4, max: 4, criticShare: 0 });
  const models = { base: policy(["Principle: Details: give details."]), critic: policy([]) };
  const ok = await algorithm.run({ id: "1", question: PROMPT, row: { prompt: PROMPT, reference: GOLD } }, models, context);
  assert.equal(ok.fields.accepted, true);
  assert.equal(ok.fields.gold, GOLD);
  await assert.rejects(algorithm.run({ id: "2", question: PROMPT, row: { prompt: PROMPT } }, models, context), InputError);
});

// ---- posterior regularisation: length and principle following ----------------------------

test("mining: a refinement longer than --max-length-ratio × the longer of y1 and the gold is rejected before scoring", async () => {
  const padded = `${GOOD_Y2} ${GOOD_Y2} ${GOOD_Y2}`;
  const principles = ["Principle: Give details: explain each step with the quantities and timings that matter."];
  const model = () => policy(principles, () => padded);
  // The gold has 22 words, y1 4: the limit at ratio 1.5 is 33 words; the padded refinement has 66.
  const { fields } = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: model() },
    miningOptions({ candidates: 1 }),
    context,
  );
  assert.equal(fields.candidates[0]!.fY2, null);
  assert.match(fields.candidates[0]!.rejectedReason!, /too long \(66 words > 1\.5 × the longer of y1 and the gold, 33\)/);
  assert.equal(fields.decision, "no-valid-candidate");
  // Ratio 0 turns the constraint off: the padded answer beats y1 on Rouge-L.
  const off = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: model() },
    miningOptions({ candidates: 1, maxLengthRatio: 0 }),
    context,
  );
  assert.equal(off.fields.accepted, true);
});

test("mining: with the following check, the best candidate must follow its principle (judge, no gold); the next best stands in", async () => {
  const isFollows = (r: GenerateRequest) => text(r).includes("Follows: <yes or no>");
  const okY2 = "Heat the water, steep the leaves for two minutes, then take them out.";
  const judge = new ScriptedModel({
    modelId: "judge",
    rules: [
      {
        when: isFollows,
        reply: (r) => (text(r).includes("Revised response:\n" + GOOD_Y2) ? "It ignores it.\nFollows: no" : "Follows: yes"),
      },
    ],
  });
  const model = policy(["Principle: Give details: be specific.", "Principle: Steps: list the steps."], (p) =>
    /details/i.test(p) ? GOOD_Y2 : okY2,
  );
  const { fields, calls } = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: model, judge },
    miningOptions({ candidates: 2, followCheck: true }),
    context,
  );
  // Candidate 1 scores higher but does not follow its principle; candidate 2 does and still beats y1.
  assert.ok(fields.candidates[0]!.fY2! > fields.candidates[1]!.fY2!);
  assert.equal(fields.candidates[0]!.follows, false);
  assert.match(fields.candidates[0]!.rejectedReason!, /does not follow its principle/);
  assert.equal(fields.candidates[1]!.follows, true);
  assert.equal(fields.best!.k, 2);
  assert.equal(fields.accepted, true);
  // Asked in score order, only until one follows; the judge never sees the gold.
  assert.deepEqual(
    calls.filter((c) => c.step === "discovery.follows").map((c) => c.iteration),
    [1, 2],
  );
  assert.ok(judge.requests.every((r) => !text(r).includes(GOLD)));

  // When no candidate above y1 follows its principle, nothing is accepted.
  const never = new ScriptedModel({ modelId: "judge", rules: [{ when: isFollows, reply: "Follows: no" }] });
  const rejected = await mineExample(
    { id: "q1", prompt: PROMPT, gold: GOLD },
    { policy: model, judge: never },
    miningOptions({ candidates: 2, followCheck: true }),
    context,
  );
  assert.equal(rejected.fields.accepted, false);
  assert.equal(rejected.fields.decision, "not-following");
});
