import assert from "node:assert/strict";
import { test } from "node:test";
import type { GenerateRequest } from "../../models/language-model.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { medoidRegenerationAlgorithm } from "./medoid-regeneration.ts";
import { miningOptions } from "./mining-options.ts";
import { rougeL } from "./rouge-l.ts";

const PROMPT = "How do I make a cup of green tea?";
const GOLD = "Heat water to about 80 degrees, steep the leaves for two minutes, then remove them so the tea does not turn bitter.";
const Y1 = "Put tea in water.";
const MEDOID = "Be specific: give the quantities and timings that matter.";
const UNDER_MEDOID = "Heat water to about 80 degrees and steep the leaves for two minutes.";

const text = (r: GenerateRequest) => r.messages.map((m) => m.content).join("\n");
const f = (y: string) => Math.round(rougeL(GOLD, y).fmeasure * 10000) / 10000;

/** A mining record after `spri discover cluster`: accepted under its own principle, labelled with the medoid. */
function labelled(z: string, zCanonical: string | undefined, accepted = true): Record<string, unknown> {
  const y2 = "Heat the water, steep the leaves, then take them out.";
  return {
    id: "q1",
    prompt: PROMPT,
    gold: GOLD,
    y1: Y1,
    accepted,
    best: accepted ? { k: 3, z, critique: "too short", y2, fY2: f(y2), gain: 0.2 } : null,
    y2: accepted ? y2 : null,
    ...(zCanonical === undefined ? {} : { zCanonical, clusterId: "c1" }),
  };
}

function policy(refined: string): ScriptedModel {
  return new ScriptedModel({
    modelId: "policy",
    rules: [
      { when: (r) => text(r).includes("List at most 5 concrete ways"), reply: "1. No temperature." },
      { when: (r) => text(r).includes("Rewrite the response so it follows"), reply: refined },
    ],
  });
}

const run = (row: Record<string, unknown>, model: ScriptedModel, options = miningOptions()) =>
  medoidRegenerationAlgorithm(options).run({ id: "q1", question: PROMPT, row }, { base: model, critic: model }, { itemId: "q1" });

test("regeneration: y2 is rewritten under the cluster's medoid (critique and refinement without the gold) and kept when it beats y1", async () => {
  const model = policy(UNDER_MEDOID);
  const { fields, calls } = await run(labelled("Give details: explain each step.", MEDOID), model);
  assert.deepEqual(
    calls.map((c) => c.step),
    ["discovery.medoid-critique", "discovery.medoid-refine"],
  );
  for (const request of model.requests) {
    assert.ok(text(request).includes(MEDOID));
    assert.ok(!text(request).includes(GOLD));
    assert.ok(text(request).includes(Y1));
  }
  const best = fields.best as Record<string, unknown>;
  assert.equal(fields.accepted, true);
  assert.equal(best.z, MEDOID);
  assert.equal(best.y2, UNDER_MEDOID);
  assert.equal(best.critique, "1. No temperature.");
  assert.equal(best.fY2, f(UNDER_MEDOID));
  assert.equal(best.gain, Math.round((f(UNDER_MEDOID) - f(Y1)) * 10000) / 10000);
  assert.equal(fields.y2, UNDER_MEDOID);
  const report = fields.medoidRegeneration as Record<string, unknown>;
  assert.equal(report.status, "regenerated");
  assert.equal((report.before as { z: string }).z, "Give details: explain each step.");
});

test("regeneration: a y2 under the medoid that no longer beats y1 drops the example from training", async () => {
  const { fields } = await run(labelled("Give details: explain each step.", MEDOID), policy("No idea, sorry."));
  assert.equal(fields.accepted, false);
  assert.equal(fields.decision, "medoid-no-gain");
  assert.equal(fields.best, null);
  assert.equal(fields.y2, null);
  assert.equal((fields.medoidRegeneration as { status: string }).status, "dropped");
});

test("regeneration: the length constraint and the following check apply under the medoid too", async () => {
  const long = `${UNDER_MEDOID} ${UNDER_MEDOID} ${UNDER_MEDOID}`;
  const tooLong = await run(labelled("Give details.", MEDOID), policy(long));
  assert.equal(tooLong.fields.accepted, false);
  assert.match(String(tooLong.fields.reason), /too long/);

  const judge = new ScriptedModel({ modelId: "judge", fallback: () => "Follows: no" });
  const model = policy(UNDER_MEDOID);
  const notFollowing = await medoidRegenerationAlgorithm(miningOptions({ followCheck: true })).run(
    { id: "q1", question: PROMPT, row: labelled("Give details.", MEDOID) },
    { base: model, critic: judge },
    { itemId: "q1" },
  );
  assert.equal(notFollowing.fields.accepted, false);
  assert.equal(notFollowing.fields.decision, "not-following");
  assert.equal(judge.requests.length, 1);
});

test("regeneration: no call when the principle is its own medoid, or the record was not accepted or not labelled", async () => {
  for (const row of [labelled(MEDOID, ` ${MEDOID} `), labelled("x", undefined), labelled("x", MEDOID, false)]) {
    const model = policy(UNDER_MEDOID);
    const { fields, calls } = await run(row, model);
    assert.equal(calls.length, 0);
    assert.equal(fields.accepted, row.accepted);
    assert.deepEqual(fields.best, row.best);
  }
  const own = await run(labelled(MEDOID, MEDOID), policy(UNDER_MEDOID));
  assert.equal((own.fields.medoidRegeneration as { status: string }).status, "kept");
});
