import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatMessage } from "../../models/language-model.ts";
import { rowSampleBase } from "../contract/model-caller.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { resolveCompat } from "./compat.ts";
import { DEFAULT_SETTINGS, runSpri, type SpriSettings, type SpriSteps } from "./spri.ts";

const steps: SpriSteps = {
  principleDraft: () => [
    { role: "system", content: "GEN" },
    { role: "user", content: "Q" },
  ],
  principleCritique: (p) => [{ role: "user", content: `CRIT-P ${p}` }],
  principleRefine: (p, fb) => [
    { role: "system", content: "REF-P" },
    { role: "user", content: `${p} | ${fb}` },
  ],
  responseDraft: (p) => [
    { role: "system", content: "INIT" },
    { role: "user", content: `P=${p}` },
  ],
  responseCritique: (p, r) => [{ role: "user", content: `CRIT-R ${p} ${r}` }],
  responseRefine: (_p, r, fb) => [
    { role: "system", content: "REF-R" },
    { role: "user", content: `${r} | ${fb}` },
  ],
};

function models(critiques: { principle: string[]; response: string[] }, baseId = "base-model") {
  const base = new ScriptedModel({
    modelId: baseId,
    rules: [
      { when: "GEN", reply: "\n## principles v0\n" },
      { when: "REF-P", reply: (_req, call) => ` principles v${call}\n###` },
      { when: "INIT", reply: "response v0" },
      { when: "REF-R", reply: "response refined" },
    ],
  });
  const critic = new ScriptedModel({
    modelId: "critic-model",
    rules: [
      { when: "CRIT-P", reply: critiques.principle },
      { when: "CRIT-R", reply: critiques.response },
    ],
  });
  return { base, critic };
}

const settings = (overrides: Partial<SpriSettings> = {}): SpriSettings => ({ ...DEFAULT_SETTINGS, ...overrides });

describe("runSpri", () => {
  test("writes the reference fields in the reference order", async () => {
    const m = models({
      principle: ["Feedback: vague. [RESULT] 2", "Feedback: good. [RESULT] 4"],
      response: ["Feedback: fine. [RESULT] 5"],
    });
    const result = await runSpri(steps, m, settings(), { itemId: "a" });
    assert.deepEqual(Object.keys(result.fields), [
      "principle_raw",
      "principle_raw_prompt",
      "iteration_principle",
      "principle_final",
      "principles_critique_iter_1",
      "principles_critique_iter_1_prompt",
      "principle_refined_iter_1",
      "principle_refined_iter_1_prompt",
      "principles_critique_iter_2",
      "principles_critique_iter_2_prompt",
      "principles_critique_final",
      "init_response",
      "init_response_prompt",
      "iteration_response",
      "response_final",
      "response_critique_iter_1",
      "response_critique_iter_1_prompt",
      "response_critique_final",
      "principles_critique_scores",
      "response_critique_scores",
    ]);
    assert.equal(result.fields.principle_raw, "principles v0");
    assert.equal(result.fields.principle_final, "principles v1");
    assert.equal(result.fields.iteration_principle, 2);
    assert.equal(result.fields.iteration_response, 1);
    assert.deepEqual(result.fields.principles_critique_scores, [2, 4]);
    // Stage 2 works from the final principles.
    assert.equal((result.fields.init_response_prompt as ChatMessage[])[1]!.content, "P=principles v1");
    // The refinement got the feedback before the marker.
    assert.equal(m.base.requests[1]!.messages[1]!.content, "principles v0 | Feedback: vague.");
  });

  test("traces every call with role, step, iteration, parsed score, usage and latency", async () => {
    const m = models({ principle: ["[RESULT] 5"], response: ["[RESULT] 3", "[RESULT] 4"] });
    const seen: string[] = [];
    const result = await runSpri(steps, m, settings(), { itemId: "x", onCall: (c) => seen.push(`${c.role}:${c.step}:${c.iteration}`) });
    assert.deepEqual(seen, [
      "base:principle.generate:0",
      "critic:principle.critique:1",
      "base:response.generate:0",
      "critic:response.critique:1",
      "base:response.refine:1",
      "critic:response.critique:2",
    ]);
    const critique = result.calls[3]!;
    assert.equal(critique.itemId, "x");
    assert.equal(critique.parsed?.score, 3);
    assert.equal(critique.model, "critic-model");
    assert.ok(critique.usage.outputTokens > 0);
    assert.deepEqual(critique.request.sampling, { temperature: 0.7, topP: 0.95, topK: 50, maxTokens: 2048 });
  });

  test("unscored critique: the paper stops the stage and records an error field, never a 0", async () => {
    const m = models({ principle: ["Feedback: cut mid-sen"], response: ["[RESULT] 4"] });
    const result = await runSpri(steps, m, settings(), { itemId: "x" });
    assert.equal(result.fields.iteration_principle, 1);
    assert.ok("error_in_principle_critique_iter_1" in result.fields);
    assert.equal("principles_critique_final" in result.fields, false);
    assert.deepEqual(result.fields.principles_critique_scores, [null]);
    assert.equal(result.principles.outcome.stop, "unscored");
  });

  test("unscored critique with the retry policy asks again, bounded", async () => {
    const m = models({ principle: ["no score", "still none", "[RESULT] 4"], response: ["[RESULT] 4"] });
    const result = await runSpri(steps, m, settings({ unscored: { policy: "retry", retries: 2 } }), { itemId: "x" });
    assert.equal(result.principles.outcome.stop, "accepted");
    assert.equal(
      result.calls
        .filter((c) => c.step === "principle.critique")
        .map((c) => c.attempt)
        .join(","),
      "0,1,2",
    );
    const stubborn = models({ principle: ["none"], response: ["[RESULT] 4"] });
    const capped = await runSpri(steps, stubborn, settings({ unscored: { policy: "retry", retries: 2 } }), { itemId: "x" });
    assert.equal(capped.calls.filter((c) => c.step === "principle.critique").length, 3);
    assert.equal(capped.principles.outcome.stop, "unscored");
  });

  test("reference compat keeps the raw refinement for non-GPT base models only", async () => {
    const critiques = { principle: ["[RESULT] 2", "[RESULT] 5"], response: ["[RESULT] 5"] };
    const reference = settings({ compat: resolveCompat("reference") });
    const llama = await runSpri(steps, models(critiques, "meta-llama/llama-3-8b-instruct"), reference, { itemId: "x" });
    assert.equal(llama.fields.principle_final, " principles v1\n###");
    assert.equal(llama.fields.principle_refined_iter_1, "principles v1");
    const gpt = await runSpri(steps, models(critiques, "gpt-4o-mini"), reference, { itemId: "x" });
    assert.equal(gpt.fields.principle_final, "principles v1");
    // The reference sends GPT models no sampling parameters.
    assert.deepEqual(gpt.calls[0]!.request.sampling, {});
    const sane = await runSpri(steps, models(critiques, "meta-llama/llama-3-8b-instruct"), settings(), { itemId: "x" });
    assert.equal(sane.fields.principle_final, "principles v1");
  });

  test("constrained critics are asked for the critique schema; the reference mode never asks", async () => {
    const critic = new ScriptedModel({ modelId: "c", constrainedOutput: true, fallback: () => '{"feedback": "ok", "score": 5}' });
    const base = models({ principle: [], response: [] }).base;
    await runSpri(steps, { base, critic }, settings(), { itemId: "x" });
    assert.equal(critic.requests[0]!.schema?.name, "critique");
    const plain = new ScriptedModel({ modelId: "c", constrainedOutput: true, fallback: () => "[RESULT] 5" });
    await runSpri(steps, { base, critic: plain }, settings({ compat: resolveCompat("reference") }), { itemId: "x" });
    assert.equal(plain.requests[0]!.schema, undefined);
  });

  test("stages: principles only", async () => {
    const m = models({ principle: ["[RESULT] 4"], response: [] });
    const result = await runSpri(steps, m, settings({ stages: "principles" }), { itemId: "x" });
    assert.equal(result.response, undefined);
    assert.equal("init_response" in result.fields, false);
    assert.equal(result.calls.length, 2);
  });

  test("a failing call is traced with its error and rethrown", async () => {
    const base = new ScriptedModel({ modelId: "b", rules: [] });
    const critic = new ScriptedModel({ modelId: "c", rules: [] });
    const calls: string[] = [];
    await assert.rejects(runSpri(steps, { base, critic }, settings(), { itemId: "x", onCall: (c) => calls.push(c.error ?? "") }));
    assert.equal(calls.length, 1);
    assert.match(calls[0]!, /no rule matches/);
  });
});

test("a request repeated within an item asks for a new sample (sampleIndex), so caches keep them apart", async () => {
  const base = new ScriptedModel({
    modelId: "b",
    rules: [
      { when: "GEN", reply: "p" },
      { when: "REF-P", reply: "p" },
      { when: "INIT", reply: "r" },
    ],
  });
  const critic = new ScriptedModel({
    modelId: "c",
    rules: [
      { when: "CRIT-P", reply: ["[RESULT] 2", "[RESULT] 5"] },
      { when: "CRIT-R", reply: "[RESULT] 5" },
    ],
  });
  await runSpri(steps, { base, critic }, DEFAULT_SETTINGS, { itemId: "x" });
  // The refinement reproduced the principles, so the second critique repeats the first request.
  // Numbered from the item's own base: above temperature 0 each item's calls are draws of its own.
  assert.deepEqual(
    critic.requests.map((r) => r.sampleIndex! - rowSampleBase("x")),
    [0, 1, 0],
  );
});

test("observers see each critique with its score (the call record is complete when traced)", async () => {
  const base = new ScriptedModel({
    modelId: "b",
    rules: [
      { when: "GEN", reply: "p" },
      { when: "REF-P", reply: "p2" },
      { when: "INIT", reply: "r" },
    ],
  });
  const critic = new ScriptedModel({
    modelId: "c",
    rules: [
      { when: "CRIT-P", reply: ["[RESULT] 2", "[RESULT] 5"] },
      { when: "CRIT-R", reply: "[RESULT] 4" },
    ],
  });
  const seen: (number | null | undefined)[] = [];
  await runSpri(steps, { base, critic }, DEFAULT_SETTINGS, {
    itemId: "x",
    onCall: (c) => c.role === "critic" && seen.push({ ...c }.parsed?.score),
  });
  assert.deepEqual(seen, [2, 5, 4]);
});
