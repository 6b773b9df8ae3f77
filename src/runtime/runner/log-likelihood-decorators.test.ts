/** The run's model decorators pass `logLikelihood` through: retried like generation, never cached. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ModelError } from "../../base/errors/errors.ts";
import type { LanguageModel, LogLikelihoodRequest, LogLikelihoodResult } from "../../models/language-model.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { CachedModel, MemoryCallCache } from "../store/call-cache.ts";
import { AdaptiveRateLimiter } from "./rate-limiter.ts";
import { ResilientModel } from "./resilient-model.ts";
import { RetryPolicy } from "./retry.ts";

/** Fails with a 5xx `failures` times, then scores every continuation -1 per character. */
function scorer(failures: number): LanguageModel & { calls: number } {
  const model = {
    id: "fake#m",
    modelId: "m",
    capabilities: { constrainedOutput: false, logLikelihood: true },
    calls: 0,
    generate: () => Promise.reject(new Error("not used")),
    async logLikelihood(request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
      model.calls++;
      if (model.calls <= failures) throw new ModelError("server error", { kind: "server", status: 503 });
      const logprobs = request.continuations.map((c) => -c.length);
      return { logprobs, tokens: logprobs.map(() => 1), usage: { inputTokens: 3, outputTokens: 0 }, latencyMs: 1, model: "m" };
    },
  };
  return model;
}

const REQUEST = { context: "Q: x\nA:", continuations: [" ab", " c"] };

test("ResilientModel retries a failed log-likelihood call as it retries generation", async () => {
  const inner = scorer(2);
  const limiter = new AdaptiveRateLimiter({ maxConcurrency: 1 });
  const model = new ResilientModel(inner, { limiter, retry: new RetryPolicy({ baseDelayMs: 1, random: () => 0, sleep: async () => {} }) });
  assert.equal(model.capabilities.logLikelihood, true);
  assert.deepEqual((await model.logLikelihood(REQUEST)).logprobs, [-3, -2]);
  assert.equal(inner.calls, 3);
  assert.equal(model.stats.retries, 2);
});

test("CachedModel passes log-likelihood calls through every time; a model without the capability says so", async () => {
  const inner = scorer(0);
  const model = new CachedModel(inner, new MemoryCallCache());
  await model.logLikelihood(REQUEST);
  await model.logLikelihood(REQUEST);
  assert.equal(inner.calls, 2);
  const plain = new CachedModel(new ScriptedModel(), new MemoryCallCache());
  await assert.rejects(plain.logLikelihood(REQUEST), (e: unknown) => e instanceof ModelError && e.kind === "not-found");
});
