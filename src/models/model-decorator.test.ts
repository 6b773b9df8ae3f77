import assert from "node:assert/strict";
import { test } from "node:test";
import { ModelError } from "../base/errors/errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "./language-model.ts";
import { ModelDecorator } from "./model-decorator.ts";
import { ScriptedModel } from "./scripted-model.ts";

/** A decorator that only counts the calls it passes on. */
class Counting extends ModelDecorator {
  calls = 0;
  generate(request: GenerateRequest): Promise<GenerateResult> {
    this.calls++;
    return this.inner.generate(request);
  }
}

test("ModelDecorator: the inner model's id, model id and capabilities; close and log-likelihood pass through", async () => {
  let closed = 0;
  const inner: LanguageModel = Object.assign(new ScriptedModel({ modelId: "m", fallback: () => "hi" }), {
    close: async () => void closed++,
    logLikelihood: async () => ({ logprobs: [-1], tokens: [1], usage: { inputTokens: 2, outputTokens: 0 }, latencyMs: 0, model: "m" }),
  });
  const model = new Counting(inner);
  assert.deepEqual([model.id, model.modelId, model.capabilities, model.inner], [inner.id, inner.modelId, inner.capabilities, inner]);
  assert.equal((await model.generate({ messages: [{ role: "user", content: "q" }] })).text, "hi");
  assert.equal(model.calls, 1);
  assert.deepEqual((await model.logLikelihood({ context: "c", continuations: [" a"] })).logprobs, [-1]);
  await model.close();
  assert.equal(closed, 1);
});

test("ModelDecorator: log-likelihood of an inner model that has none is the port's not-found error", async () => {
  const model = new Counting(new ScriptedModel({ modelId: "m", fallback: () => "hi" }));
  await assert.rejects(model.logLikelihood({ context: "c", continuations: [" a"] }), (error: unknown) => {
    return error instanceof ModelError && error.kind === "not-found";
  });
  await model.close();
});
