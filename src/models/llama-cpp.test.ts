/**
 * Plumbing tests against a real tiny random-weight GGUF: its output is gibberish, so these check
 * loading, chat generation, grammars, sequence pooling, disposal and error mapping, never quality.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { ConfigError, ModelError } from "../base/errors/errors.ts";
import { parseCritique } from "../algorithms/spri/critic-score.ts";
import { LlamaCppModel } from "./llama-cpp.ts";

const FIXTURE = fileURLToPath(new URL("../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));
const MESSAGES = [
  { role: "system" as const, content: "You are terse." },
  { role: "user" as const, content: "Say hello." },
];
const CRITIC_SCHEMA = {
  type: "object",
  properties: {
    feedback: { type: "string", maxLength: 40 },
    score: { type: "integer", enum: [1, 2, 3, 4, 5] },
  },
  required: ["feedback", "score"],
};

describe("LlamaCppModel with the tiny fixture", () => {
  let model: LlamaCppModel;

  before(async () => {
    model = await LlamaCppModel.load({ model: FIXTURE, parallelism: 2, contextSize: 512 });
  });

  after(async () => {
    await model.close();
  });

  test("names itself by absolute path and offers constrained output", () => {
    assert.equal(model.id, `llama-cpp:${FIXTURE}`);
    assert.equal(model.modelId, FIXTURE);
    assert.equal(model.capabilities.constrainedOutput, true);
  });

  test("generates text within maxTokens and reports usage", async () => {
    const result = await model.generate({
      messages: MESSAGES,
      sampling: { maxTokens: 16, temperature: 0.7, seed: 1, topK: 40, topP: 0.9 },
    });
    assert.ok(result.text.length > 0);
    assert.ok(result.usage.inputTokens > 0);
    assert.ok(result.usage.outputTokens > 0 && result.usage.outputTokens <= 16, `outputTokens ${result.usage.outputTokens}`);
    assert.ok(result.finishReason === "length" || result.finishReason === "stop");
    assert.ok(result.latencyMs >= 0);
    assert.equal(result.model, FIXTURE);
  });

  test("starts every call from a clean sequence", async () => {
    const request = { messages: MESSAGES, sampling: { maxTokens: 8 } };
    const first = await model.generate(request);
    const second = await model.generate(request);
    assert.equal(second.text, first.text, "greedy decoding of the same prompt must not depend on earlier calls");
    assert.equal(second.usage.inputTokens, first.usage.inputTokens);
  });

  test("a schema whose bounds llama.cpp's grammar cannot hold (maxLength 2000, as spri's critique schema has) still constrains output", async () => {
    const result = await model.generate({
      messages: [{ role: "user", content: "Rate this answer." }],
      schema: {
        name: "critique",
        schema: { ...CRITIC_SCHEMA, properties: { ...CRITIC_SCHEMA.properties, feedback: { type: "string", maxLength: 2000 } } },
      },
      sampling: { maxTokens: 200 },
    });
    // The random-weight model may use all 200 tokens on feedback, so the answer can end mid-string:
    // what matters is that a grammar was built and holds the answer to the schema's shape.
    assert.match(result.text, /^\{\s*"feedback"\s*:\s*"/);
  });

  test("constrains output to a critic JSON schema", async () => {
    const result = await model.generate({
      messages: [{ role: "user", content: "Rate this answer." }],
      schema: { name: "critique", schema: CRITIC_SCHEMA },
      sampling: { maxTokens: 200 },
    });
    const parsed = JSON.parse(result.text) as { feedback: string; score: number };
    assert.equal(typeof parsed.feedback, "string");
    assert.ok([1, 2, 3, 4, 5].includes(parsed.score), `score ${parsed.score}`);
    assert.notEqual(parseCritique(result.text).score, null);
  });

  test("runs at most `parallelism` calls at once and serves them all", async () => {
    const calls = Array.from({ length: 4 }, (_, i) =>
      model.generate({ messages: [{ role: "user", content: `Question ${i}` }], sampling: { maxTokens: 8 } }),
    );
    const results = await Promise.all(calls);
    for (const result of results) assert.ok(result.text.length > 0);
    assert.equal(model.maxObservedConcurrency, 2);
    assert.equal(model.activeSequences, 0);
  });

  test("a pre-aborted signal rejects with ModelError(aborted)", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(model.generate({ messages: MESSAGES, signal: controller.signal }), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.kind, "aborted");
      return true;
    });
  });

  test("a call waiting for a free sequence can be aborted", async () => {
    const busy = [1, 2].map(() => model.generate({ messages: MESSAGES, sampling: { maxTokens: 48 } }));
    const controller = new AbortController();
    const waiting = model.generate({ messages: MESSAGES, sampling: { maxTokens: 4 }, signal: controller.signal });
    controller.abort();
    await assert.rejects(waiting, (error: unknown) => error instanceof ModelError && error.kind === "aborted");
    await Promise.all(busy);
    assert.equal(model.activeSequences, 0);
  });

  test("an elapsed timeout rejects with ModelError(timeout)", async () => {
    // 1 ms cannot cover even the prompt evaluation; no maxTokens so only the timeout can end it.
    await assert.rejects(model.generate({ messages: MESSAGES, timeoutMs: 1 }), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.kind, "timeout");
      assert.equal(error.retryable, true);
      return true;
    });
    const after = await model.generate({ messages: MESSAGES, sampling: { maxTokens: 4 } });
    assert.ok(after.text.length > 0, "the sequence is usable again after a timeout");
  });
});

describe("LlamaCppModel disposal", () => {
  test("close() is idempotent and later calls reject with ModelError", async () => {
    const model = await LlamaCppModel.load({ model: FIXTURE, contextSize: 256 });
    await model.close();
    await model.close();
    await assert.rejects(model.generate({ messages: MESSAGES, sampling: { maxTokens: 4 } }), (error: unknown) => {
      assert.ok(error instanceof ModelError);
      assert.equal(error.kind, "aborted");
      assert.match(error.message, /closed/);
      return true;
    });
  });

  test("close() stops a running generation and frees the model", async () => {
    const model = await LlamaCppModel.load({ model: FIXTURE, contextSize: 256 });
    const running = model.generate({ messages: MESSAGES }); // no maxTokens: only close() can end it
    const rejected = assert.rejects(running, (error: unknown) => error instanceof ModelError && error.kind === "aborted");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await model.close();
    await rejected;
  });

  test("closing one instance leaves another usable", async () => {
    const [a, b] = await Promise.all([
      LlamaCppModel.load({ model: FIXTURE, contextSize: 256 }),
      LlamaCppModel.load({ model: FIXTURE, contextSize: 256 }),
    ]);
    try {
      await a.close();
      const result = await b.generate({ messages: MESSAGES, sampling: { maxTokens: 4 } });
      assert.ok(result.text.length > 0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("LlamaCppModel model location errors", () => {
  test("a missing file is a ConfigError naming the path", async () => {
    const missing = path.join(os.tmpdir(), "spri-no-such-model.gguf");
    await assert.rejects(LlamaCppModel.load({ model: missing }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.includes(missing), error.message);
      assert.match(error.hint ?? "", /SPRI_MODEL=/);
      return true;
    });
  });

  test("an hf: URI that cannot be fetched is a ConfigError with the hint", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "spri-models-"));
    try {
      // A repository that does not exist: fails offline (no network) and online (404) alike.
      const load = LlamaCppModel.load({ model: "hf:spri-test/no-such-model-GGUF:Q4_K_M", modelsDir: dir, downloadTimeoutMs: 5000 });
      await assert.rejects(load, (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /hf:spri-test\/no-such-model-GGUF:Q4_K_M/);
        assert.match(error.hint ?? "", /SPRI_MODEL=\/path\/model\.gguf/);
        assert.match(error.hint ?? "", /--base-url http:\/\/127\.0\.0\.1:8000\/v1/);
        assert.match(error.hint ?? "", /OPENAI_API_KEY/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
