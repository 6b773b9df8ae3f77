import assert from "node:assert/strict";
import { test } from "node:test";
import { honouredSampling, type ModelCapabilities, type SamplingOptions } from "./language-model.ts";

test("honouredSampling hands back the object itself when it has nothing to drop, else a copy without what the model does not take", () => {
  const noTopK: ModelCapabilities = { constrainedOutput: false, sampling: ["temperature", "topP", "maxTokens", "seed", "stop"] };
  const settings: SamplingOptions = { temperature: 0.7, topP: 0.95, maxTokens: 64 };
  assert.equal(honouredSampling(settings, noTopK), settings, "the calls of a run share their settings' object");
  assert.equal(honouredSampling(settings, { constrainedOutput: false }), settings);
  // A run's settings name every field, unset ones undefined: that leaves nothing to drop either.
  const named: SamplingOptions = { ...settings, topK: undefined, seed: undefined };
  assert.equal(honouredSampling(named, noTopK), named);
  const withTopK = { ...settings, topK: 40 };
  assert.deepEqual(honouredSampling(withTopK, noTopK), settings);
  assert.deepEqual(withTopK.topK, 40, "the caller's object is left as it was");
  assert.deepEqual(honouredSampling({ temperature: 0, stop: [], seed: undefined }, noTopK), { temperature: 0 });
  // A run's settings may hold a field as null (unset in the config): its calls still share one copy.
  const withNull = { ...settings, topK: null } as unknown as SamplingOptions;
  const copy = honouredSampling(withNull, noTopK);
  assert.deepEqual(copy, settings);
  assert.equal(honouredSampling(withNull, noTopK), copy);
  assert.ok(Object.isFrozen(copy), "shared, so no call can change it for the others");
  assert.notEqual(honouredSampling(withNull, { constrainedOutput: false, sampling: ["maxTokens"] }), copy);
});
