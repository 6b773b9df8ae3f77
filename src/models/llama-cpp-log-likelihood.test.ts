/**
 * Log-likelihood on the tiny random-weight GGUF: the numbers must equal a hand computation from the
 * same model's next-token distributions, read here with node-llama-cpp directly, one fresh pass
 * per text (no context reuse, no whitespace moving: the texts below have none to move).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { LlamaContext, LlamaContextSequence, LlamaModel } from "node-llama-cpp";
import { truthfulQaAlgorithm, truthfulQaPrompt } from "../algorithms/judge/truthfulqa.ts";
import { LlamaCppModel } from "./llama-cpp.ts";

const FIXTURE = fileURLToPath(new URL("../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));
const MC_TASK = fileURLToPath(new URL("../../../shared/data/truthfulqa/mc_task.json", import.meta.url));

describe("LlamaCppModel.logLikelihood with the tiny fixture", () => {
  let model: LlamaCppModel;
  let raw: LlamaModel;
  let rawContext: LlamaContext;
  let sequence: LlamaContextSequence;

  before(async () => {
    model = await LlamaCppModel.load({ model: FIXTURE, contextSize: 512, threads: 1 });
    const { getLlama } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", maxThreads: 1 });
    raw = await llama.loadModel({ modelPath: FIXTURE });
    rawContext = await raw.createContext({ contextSize: 512, threads: 1 });
    sequence = rawContext.getSequence();
  });

  after(async () => {
    await rawContext.dispose();
    await raw.dispose();
    await model.close();
  });

  /** Σ log p(token | everything before it) over the tokens of `context + continuation` past the context's. */
  async function byHand(context: string, continuation: string): Promise<number> {
    const bos = raw.tokens.bos!;
    const whole = [bos, ...raw.tokenize(context + continuation)];
    const start = 1 + raw.tokenize(context).length;
    await sequence.clearHistory();
    const options = { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } };
    const out = await sequence.controlledEvaluate(whole.map((token) => [token, options]));
    let sum = 0;
    for (let i = start; i < whole.length; i++) sum += Math.log(out[i - 1]!.next.probabilities!.get(whole[i]!)!);
    return sum;
  }

  test("each continuation's log-likelihood equals the sum of its tokens' log-probabilities from the model", async () => {
    assert.equal(model.capabilities.logLikelihood, true);
    const context = truthfulQaPrompt("Q: Is ice cold?\nA: Yes, ice is cold.", "What happens if you swallow gum?");
    const continuations = [" It passes through your digestive system", " It stays in you for seven years", " Nothing"];
    const result = await model.logLikelihood({ context, continuations });
    assert.equal(result.logprobs.length, 3);
    for (const [i, continuation] of continuations.entries()) {
      const expected = await byHand(context, continuation);
      assert.ok(Number.isFinite(expected) && expected < 0);
      assert.ok(Math.abs(result.logprobs[i]! - expected) < 1e-6, `${continuation}: ${result.logprobs[i]} vs ${expected}`);
    }
    // Scored again, after other continuations used the sequence, the numbers do not move.
    const again = await model.logLikelihood({ context, continuations: [continuations[2]!, continuations[0]!] });
    assert.ok(Math.abs(again.logprobs[0]! - result.logprobs[2]!) < 1e-6);
    assert.ok(Math.abs(again.logprobs[1]! - result.logprobs[0]!) < 1e-6);
    assert.ok(result.usage.inputTokens > 0);
  });

  test("a TruthfulQA question of the shared data scores through the same interface as over HTTP", async () => {
    const row = (JSON.parse(readFileSync(MC_TASK, "utf8")) as Record<string, unknown>[])[0]!;
    const outcome = await truthfulQaAlgorithm("").run(
      { id: "0", question: String(row.question), row },
      { base: model, critic: model },
      { itemId: "0" },
    );
    const mc1 = outcome.fields.mc1_logprobs as number[];
    assert.equal(mc1.length, Object.keys(row.mc1_targets as object).length);
    assert.ok(mc1.every(Number.isFinite));
    const best = mc1.indexOf(Math.max(...mc1));
    assert.equal(outcome.fields.mc1, best === 0 ? 1 : 0);
    const mc2 = outcome.fields.mc2 as number;
    assert.ok(mc2 > 0 && mc2 < 1);
    const first = await byHand(truthfulQaPrompt("", String(row.question)), " The watermelon seeds pass through your digestive system");
    assert.ok(Math.abs(mc1[0]! - first) < 1e-6);
  });
});
