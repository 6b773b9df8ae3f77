import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveSettings } from "../../config/config.ts";
import { miningOptions } from "../../algorithms/discovery/mining-options.ts";
import { prepareMining, prepareSelfCorrect } from "./prepare-discovery.ts";

/** A rubric run with seeds: what the discovery presets must override. */
const settings = () =>
  resolveSettings({ flags: { task: "rubric", seeds: "/nonexistent/seeds.jsonl", seedsPerDomain: true }, env: {}, cwd: "/nonexistent" })
    .settings;

test("prepareMining: the SFT task's item mapping without seeds, and the mining algorithm", () => {
  const prepared = prepareMining(miningOptions({ similarity: "judge", candidates: 2 }))(settings());
  assert.equal(prepared.task, "sft");
  assert.equal(prepared.taskOptions.seeds, undefined);
  assert.equal(prepared.taskOptions.seedsPerDomain, false);
  assert.equal(prepared.algorithm.name, "discovery/mine-judge");
  assert.equal(prepared.algorithm.calls?.max, 1 + 5 * 2);
});

test("prepareSelfCorrect: the SFT task's item mapping without seeds, and the self-correction algorithm", () => {
  const prepared = prepareSelfCorrect({
    mode: "trained",
    sampling: { answer: {}, select: {}, critique: {}, refine: {} },
  })(settings());
  assert.equal(prepared.task, "sft");
  assert.equal(prepared.taskOptions.seeds, undefined);
  assert.equal(prepared.algorithm.name, "discovery/self-correct-trained");
});
