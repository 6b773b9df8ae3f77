/**
 * Log-likelihood of continuations on a local GGUF model (node-llama-cpp), for `LlamaCppModel.logLikelihood`.
 *
 * Tokens are split as lm-evaluation-harness splits them for local models: whitespace at the end of
 * the context moves to the start of the continuation; the continuation's tokens are those of
 * `context + continuation` past the context's own tokens (BOS first, when the model wants one).
 * Each token's log-probability is read from the model's full next-token distribution at
 * temperature 1 with no truncation (no top-k, top-p or min-p), i.e. the softmax of its logits.
 *
 * The context is evaluated once per request and each continuation after it, erased before the
 * next; a continuation whose tokens do not extend the context's (the tokenizer merged across the
 * boundary) is evaluated from the start instead.
 */
import type { LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";
import { ModelError } from "../base/errors/errors.ts";

/** Asks for the full distribution after a token, untruncated and unscaled. */
const DISTRIBUTION = { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } } as const;

export interface SequenceScores {
  logprobs: number[];
  tokens: number[];
  /** Tokens the model evaluated, the context's once per request (more when a continuation needed its own pass). */
  evaluated: number;
}

/** Scores `continuations` after `context` on `sequence`, whose history it clears first. */
export async function scoreContinuations(
  model: LlamaModel,
  sequence: LlamaContextSequence,
  context: string,
  continuations: readonly string[],
  signal: AbortSignal,
): Promise<SequenceScores> {
  const split = moveTrailingWhitespace(context);
  const contextTokens = encode(model, split.context);
  if (contextTokens.length === 0) {
    throw new ModelError("log-likelihood needs a context with at least one token (or a model that starts with BOS)", {
      kind: "bad-request",
    });
  }
  const scores: SequenceScores = { logprobs: [], tokens: [], evaluated: 0 };
  /** The distribution after the context's last token while the sequence holds exactly the context. */
  let afterContext: Map<Token, number> | undefined;
  for (const [index, text] of continuations.entries()) {
    if (signal.aborted) throw signal.reason;
    const whole = encode(model, split.context + split.prefix + text);
    const continuation = whole.slice(contextTokens.length);
    if (continuation.length === 0) {
      throw new ModelError(`continuation ${index} ("${text}") has no tokens of its own`, {
        kind: "bad-request",
        hint: "score non-empty continuations",
      });
    }
    let logprob: number;
    if (startsWith(whole, contextTokens)) {
      if (afterContext === undefined) {
        await sequence.clearHistory();
        afterContext = await evaluateContext(sequence, contextTokens);
        scores.evaluated += contextTokens.length;
      } else {
        await sequence.eraseContextTokenRanges([{ start: contextTokens.length, end: sequence.nextTokenIndex }]);
      }
      logprob = logOf(afterContext, continuation[0]!, index) + (await scoreTokens(sequence, continuation, index));
      scores.evaluated += continuation.length - 1;
    } else {
      await sequence.clearHistory();
      afterContext = undefined;
      const out = await sequence.controlledEvaluate(
        whole.slice(0, -1).map((token, i) => (i >= contextTokens.length - 1 ? [token, DISTRIBUTION] : token)),
      );
      logprob = 0;
      for (let i = contextTokens.length - 1; i < whole.length - 1; i++) logprob += logOf(out[i]?.next.probabilities, whole[i + 1]!, index);
      scores.evaluated += whole.length - 1;
    }
    scores.logprobs.push(logprob);
    scores.tokens.push(continuation.length);
  }
  return scores;
}

/** Evaluates the context and returns the distribution after its last token. */
async function evaluateContext(sequence: LlamaContextSequence, tokens: readonly Token[]): Promise<Map<Token, number> | undefined> {
  const last = tokens.length - 1;
  const out = await sequence.controlledEvaluate(tokens.map((token, i) => (i === last ? [token, DISTRIBUTION] : token)));
  return out[last]?.next.probabilities;
}

/** Evaluates all but the last continuation token; the sum of the log-probabilities of the 2nd to last. */
async function scoreTokens(sequence: LlamaContextSequence, continuation: readonly Token[], index: number): Promise<number> {
  if (continuation.length === 1) return 0;
  const out = await sequence.controlledEvaluate(continuation.slice(0, -1).map((token) => [token, DISTRIBUTION]));
  let sum = 0;
  for (let i = 0; i < continuation.length - 1; i++) sum += logOf(out[i]?.next.probabilities, continuation[i + 1]!, index);
  return sum;
}

function logOf(distribution: Map<Token, number> | undefined, token: Token, index: number): number {
  const p = distribution?.get(token);
  if (p === undefined || !(p > 0)) {
    throw new ModelError(`the local model gave no probability for token ${token} of continuation ${index}`, { kind: "bad-response" });
  }
  return Math.log(p);
}

function encode(model: LlamaModel, text: string): Token[] {
  const tokens = model.tokenize(text);
  const bos = model.tokens.bos;
  return model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
}

function startsWith(tokens: readonly Token[], prefix: readonly Token[]): boolean {
  return prefix.every((token, i) => tokens[i] === token);
}

/** lm-evaluation-harness's `_encode_pair`: the context's trailing whitespace belongs to the continuation. */
function moveTrailingWhitespace(context: string): { context: string; prefix: string } {
  const trimmed = context.trimEnd();
  return { context: trimmed, prefix: context.slice(trimmed.length) };
}
