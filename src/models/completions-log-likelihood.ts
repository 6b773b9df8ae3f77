/**
 * Log-likelihood through an OpenAI-compatible `/v1/completions` endpoint that echoes the prompt with
 * its token log-probabilities (`echo: true, logprobs: 1, max_tokens: 0`: vLLM answers so; the
 * legacy OpenAI completions API did). One request per context: `prompt` is the list of
 * `context + continuation` texts, one choice per text, matched back by `index`.
 *
 * Which tokens belong to a continuation is read from the answer's `text_offset`s, since the server,
 * not spri, tokenizes: the tokens that start at or after the end of the context, plus the token
 * that straddles that end when no token starts exactly there (it carries continuation text; the
 * standard "A:" + " answer" split never produces one). Offsets count Unicode code points (the
 * server's Python string indices), not JavaScript's UTF-16 units.
 *
 * The first token of an echoed prompt has no log-probability (`null`: nothing precedes it); it is
 * part of the context, so it is never summed. A continuation token without a finite one is a bad
 * answer, never a silent 0.
 */
import { ModelError } from "../base/errors/errors.ts";

/** The subset of a completions answer read here; anything else is ignored. */
export interface CompletionsAnswer {
  model?: unknown;
  choices?: unknown;
  usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
}

interface ChoiceLogprobs {
  tokens?: unknown;
  token_logprobs?: unknown;
  text_offset?: unknown;
}

/** The request body: no sampling (nothing is generated), so the server's defaults cannot matter. */
export function completionsLogLikelihoodBody(model: string, context: string, continuations: readonly string[]): Record<string, unknown> {
  return {
    model,
    prompt: continuations.map((continuation) => context + continuation),
    echo: true,
    logprobs: 1,
    max_tokens: 0,
  };
}

export interface ContinuationScore {
  logprob: number;
  tokens: number;
}

/**
 * Per continuation, in request order: the sum of its tokens' log-probabilities. `describe` names
 * the endpoint in errors. Throws ModelError "bad-response" when the answer lacks what is needed.
 */
export function readCompletionsLogLikelihood(
  answer: CompletionsAnswer,
  context: string,
  continuations: readonly string[],
  describe: string,
): ContinuationScore[] {
  const bad = (why: string) =>
    new ModelError(`${describe} answered /completions ${why}`, {
      kind: "bad-response",
      hint: "log-likelihood needs a server that returns prompt log-probabilities with echo (vLLM's /v1/completions does)",
    });
  const choices = answer.choices;
  if (!Array.isArray(choices) || choices.length !== continuations.length) {
    throw bad(`with ${Array.isArray(choices) ? choices.length : "no"} choices for ${continuations.length} prompts`);
  }
  const byIndex: unknown[] = new Array(continuations.length);
  choices.forEach((choice: { index?: unknown }, position) => {
    const index = typeof choice?.index === "number" ? choice.index : position;
    if (!Number.isInteger(index) || index < 0 || index >= continuations.length || byIndex[index] !== undefined) {
      throw bad(`with a bad or repeated choice index ${String(choice?.index)}`);
    }
    byIndex[index] = choice;
  });
  const boundary = codePoints(context);
  return byIndex.map((choice, index) => {
    const logprobs = (choice as { logprobs?: ChoiceLogprobs }).logprobs;
    const offsets = logprobs?.text_offset;
    const values = logprobs?.token_logprobs;
    if (!Array.isArray(offsets) || !Array.isArray(values) || offsets.length !== values.length || offsets.length === 0) {
      throw bad(`without token_logprobs and text_offset of the prompt for choice ${index} (was echo honoured?)`);
    }
    const end = boundary + codePoints(continuations[index]!);
    const first = firstContinuationToken(offsets, boundary, end);
    if (first === undefined) throw bad(`with no token covering continuation ${index} ("${continuations[index]}")`);
    let sum = 0;
    let count = 0;
    for (let t = first; t < offsets.length && (offsets[t] as number) < end; t++) {
      const value = values[t];
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw bad(`with no log-probability for token ${t} of choice ${index} (${JSON.stringify(value)})`);
      }
      sum += value;
      count++;
    }
    return { logprob: sum, tokens: count };
  });
}

/**
 * The index of the continuation's first token: the first token starting at or after `boundary`,
 * or the one before it when that one runs over `boundary` (it straddles the context's end).
 */
function firstContinuationToken(offsets: readonly unknown[], boundary: number, end: number): number | undefined {
  let at = offsets.length;
  for (let t = 0; t < offsets.length; t++) {
    if (typeof offsets[t] !== "number") return undefined;
    if ((offsets[t] as number) >= boundary) {
      at = t;
      break;
    }
  }
  const startsAtBoundary = at < offsets.length && offsets[at] === boundary;
  if (!startsAtBoundary && at > 0) return at - 1;
  if (at >= offsets.length || (offsets[at] as number) >= end) return undefined;
  return at;
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
