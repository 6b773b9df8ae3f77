import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ChatMessage, SamplingOptions } from "../../models/language-model.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { CachedModel, MemoryCallCache } from "../../runtime/store/call-cache.ts";
import { BudgetError, ModelError } from "../../base/errors/errors.ts";
import { type CallContext, ModelCaller } from "./model-caller.ts";

const PAPER_SAMPLING = { temperature: 0.7, topP: 0.95, topK: 50, maxTokens: 2048, seed: 3, stop: ["END"] };

test("a call carries only the sampling its model honours, and the trace records what was sent", async () => {
  const model = new ScriptedModel({ sampling: ["maxTokens", "stop"], fallback: () => "ok" });
  const caller = new ModelCaller({ itemId: "1" });
  const { record } = await caller.call({
    model,
    role: "base",
    step: "principle.generate",
    iteration: 0,
    messages: [{ role: "user", content: "q" }],
    sampling: PAPER_SAMPLING,
  });
  assert.deepEqual(model.requests[0]?.sampling, { maxTokens: 2048, stop: ["END"] });
  assert.deepEqual(record.request.sampling, { maxTokens: 2048, stop: ["END"] });
});

test("a model that honours every field gets the sampling as given", async () => {
  const model = new ScriptedModel({ fallback: () => "ok" });
  await new ModelCaller({ itemId: "1" }).call({
    model,
    role: "critic",
    step: "principle.critique",
    iteration: 1,
    messages: [{ role: "user", content: "q" }],
    sampling: PAPER_SAMPLING,
  });
  assert.deepEqual(model.requests[0]?.sampling, PAPER_SAMPLING);
});

const QUESTION: ChatMessage[] = [{ role: "user", content: "How do I say no to my boss?" }];

/** A backend whose every answer differs, behind one cache shared by all items. */
function varyingCachedModel(): { backend: ScriptedModel; model: CachedModel } {
  const backend = new ScriptedModel({ fallback: (_request, call) => `draw ${call}` });
  return { backend, model: new CachedModel(backend, new MemoryCallCache()) };
}

async function ask(model: CachedModel, context: CallContext, sampling: SamplingOptions, times = 1): Promise<string[]> {
  const caller = new ModelCaller(context);
  const answers: string[] = [];
  for (let i = 0; i < times; i++)
    answers.push((await caller.call({ model, role: "base", step: "response.generate", iteration: 0, messages: QUESTION, sampling })).text);
  return answers;
}

describe("ModelCaller: which calls are separate draws", () => {
  test("above temperature 0, items that send the same request each get their own sample", async () => {
    const { backend, model } = varyingCachedModel();
    const answers = [];
    for (const itemId of ["1", "2", "3"]) answers.push(...(await ask(model, { itemId }, { temperature: 0.7 })));
    assert.equal(new Set(answers).size, 3, `answers: ${answers.join(", ")}`);
    assert.equal(backend.requests.length, 3);
  });

  test("a resumed item finds its own answers in the cache, repeats included", async () => {
    const { backend, model } = varyingCachedModel();
    const first = await ask(model, { itemId: "7" }, { temperature: 0.7 }, 2);
    await ask(model, { itemId: "8" }, { temperature: 0.7 }, 2);
    const resumed = await ask(model, { itemId: "7" }, { temperature: 0.7 }, 2);
    assert.deepEqual(resumed, first);
    assert.equal(new Set(first).size, 2, "a repeat within the item is a new draw");
    assert.equal(backend.requests.length, 4, "the resumed item paid nothing");
  });

  test("without a temperature (the API default, 1) calls are draws too", async () => {
    const { model } = varyingCachedModel();
    const a = await ask(model, { itemId: "1" }, {});
    const b = await ask(model, { itemId: "2" }, {});
    assert.notEqual(a[0], b[0]);
  });

  test("at temperature 0 identical requests share one answer across items", async () => {
    const { backend, model } = varyingCachedModel();
    const a = await ask(model, { itemId: "1" }, { temperature: 0 });
    const b = await ask(model, { itemId: "2" }, { temperature: 0 });
    assert.deepEqual(a, b);
    assert.equal(backend.requests.length, 1);
  });

  test("each sample of an item is its own draw; a given seed goes to the first, later samples get seeds of their own", async () => {
    const { backend, model } = varyingCachedModel();
    const answers = [];
    for (const sample of [0, 1, 2]) answers.push(...(await ask(model, { itemId: "1", sample }, { temperature: 0.7, seed: 7 })));
    assert.equal(new Set(answers).size, 3);
    const seeds = backend.requests.map((r) => r.sampling?.seed);
    assert.equal(seeds[0], 7);
    assert.equal(new Set(seeds).size, 3);
    assert.deepEqual(
      await ask(model, { itemId: "1", sample: 0 }, { temperature: 0.7, seed: 7 }),
      [answers[0]],
      "sample 0 is the item's sample without --samples",
    );
  });

  test("a sample key (judge rows) keeps its rows apart at any temperature, and samples apart within a row", async () => {
    const { model } = varyingCachedModel();
    const rowA = await ask(model, { itemId: "a", sampleKey: "q1/model-a" }, { temperature: 0 });
    const rowB = await ask(model, { itemId: "b", sampleKey: "q1/model-b" }, { temperature: 0 });
    const rowA1 = await ask(model, { itemId: "a", sampleKey: "q1/model-a", sample: 1 }, { temperature: 0 });
    assert.equal(new Set([...rowA, ...rowB, ...rowA1]).size, 3);
  });
});

describe("failed calls", () => {
  const failing = (error: Error) =>
    new ScriptedModel({
      fallback: () => {
        throw error;
      },
    });

  test("a failed generation is recorded with its error (and unsent when nothing left spri), seen by onCall, and rethrown", async () => {
    const seen: string[] = [];
    const caller = new ModelCaller({ itemId: "1", onCall: (call) => seen.push(call.error ?? "") });
    const error = new ModelError("cancelled while waiting", { kind: "network", unsent: true });
    const spec = {
      model: failing(error),
      role: "base" as const,
      step: "principle.generate",
      iteration: 0,
      messages: QUESTION,
      sampling: {},
    };
    await assert.rejects(caller.call(spec), error);
    assert.deepEqual(seen, ["cancelled while waiting"]);
    const [record] = caller.calls;
    assert.deepEqual(
      [record!.response, record!.latencyMs, record!.usage, record!.unsent],
      [null, 0, { inputTokens: 0, outputTokens: 0 }, true],
    );
  });

  test("a failed log-likelihood call is recorded the same way", async () => {
    const caller = new ModelCaller({ itemId: "1" });
    const model = Object.assign(new ScriptedModel({ fallback: () => "x" }), {
      logLikelihood: async () => Promise.reject(new Error("server gone")),
    });
    await assert.rejects(caller.logLikelihood({ model, role: "base", step: "mc", context: "Q: ?", continuations: [" A"] }), /server gone/);
    assert.deepEqual(
      caller.calls.map((call) => [call.error, call.response, call.unsent]),
      [["server gone", null, undefined]],
    );
  });

  test("a call the budget refused was never made: it is not recorded", async () => {
    const caller = new ModelCaller({ itemId: "1" });
    const spec = {
      model: failing(new BudgetError("over budget")),
      role: "base" as const,
      step: "s",
      iteration: 0,
      messages: QUESTION,
      sampling: {},
    };
    await assert.rejects(caller.call(spec), BudgetError);
    assert.deepEqual(caller.calls, []);
  });
});
