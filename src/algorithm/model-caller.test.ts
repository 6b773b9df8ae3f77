import assert from "node:assert/strict";
import { test } from "node:test";
import { ScriptedModel } from "../models/scripted-model.ts";
import { ModelCaller } from "./model-caller.ts";

const PAPER_SAMPLING = { temperature: 0.7, topP: 0.95, topK: 50, maxTokens: 2048, seed: 3, stop: ["END"] };

test("a call carries only the sampling its model honours, and the trace records what was sent", async () => {
  const model = new ScriptedModel({ sampling: ["maxTokens", "stop"], fallback: () => "ok" });
  const caller = new ModelCaller({ itemId: "1" });
  const { record } = await caller.call({ model, role: "base", step: "principle.generate", iteration: 0, messages: [{ role: "user", content: "q" }], sampling: PAPER_SAMPLING });
  assert.deepEqual(model.requests[0]?.sampling, { maxTokens: 2048, stop: ["END"] });
  assert.deepEqual(record.request.sampling, { maxTokens: 2048, stop: ["END"] });
});

test("a model that honours every field gets the sampling as given", async () => {
  const model = new ScriptedModel({ fallback: () => "ok" });
  await new ModelCaller({ itemId: "1" }).call({ model, role: "critic", step: "principle.critique", iteration: 1, messages: [{ role: "user", content: "q" }], sampling: PAPER_SAMPLING });
  assert.deepEqual(model.requests[0]?.sampling, PAPER_SAMPLING);
});
