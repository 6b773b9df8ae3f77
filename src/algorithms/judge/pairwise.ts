/**
 * Pairwise judging of two responses to one question, the way AlpacaEval-style evaluations compare
 * two systems: the judge sees the pair twice, once in each order, so a preference for a position
 * cancels out. Each order gives 1 (B better), 0 (A better) or 0.5 (tie); the item's preference for
 * B is their mean. An order whose verdict cannot be read is unscored and left out of the mean; an
 * item with no readable verdict is unscored.
 */
import type { ItemAlgorithm } from "../contract/item-algorithm.ts";
import { type CallContext, ModelCaller } from "../contract/model-caller.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { ChatMessage, LanguageModel, SamplingOptions } from "../../models/language-model.ts";

export type Verdict = "A" | "B" | "tie";

export interface PairItem {
  id: string;
  question: string;
  responseA: string;
  responseB: string;
}

export interface PairwisePrompts {
  system: string;
  /** Python-format template with {question}, {response_a}, {response_b}. */
  user: string;
}

/** Our own judge prompt; the verdict is asked for in MT-Bench's `[[A]]` / `[[B]]` / `[[C]]` form. */
export const DEFAULT_PAIRWISE_PROMPTS: PairwisePrompts = {
  system:
    "You compare two AI assistants' responses to the same user question and decide which one serves the user better: more helpful, accurate, relevant and safe. Judge the content, not the length or the order in which the responses appear. Explain your reasoning briefly, then give your verdict on the last line as [[A]] if Response A is better, [[B]] if Response B is better, or [[C]] for a tie.",
  user: "[User question]\n{question}\n\n[Response A]\n{response_a}\n\n[Response B]\n{response_b}",
};

/** The last verdict marker in the text wins; `[[C]]` and `[[tie]]` are ties. */
export function parseVerdict(text: string): Verdict | null {
  const matches = [...text.matchAll(/\[\[\s*(A|B|C|tie)\s*\]\]/gi)];
  const last = matches.at(-1)?.[1]?.toUpperCase();
  if (last === undefined) return null;
  return last === "A" ? "A" : last === "B" ? "B" : "tie";
}

function fill(template: string, fields: Record<string, string>): string {
  return template.replace(/\{(question|response_a|response_b)\}/g, (_, name: string) => fields[name] ?? "");
}

function preferenceForB(verdict: Verdict | null): number | null {
  return verdict === null ? null : verdict === "B" ? 1 : verdict === "A" ? 0 : 0.5;
}

export interface PairwiseOutcome {
  fields: ItemRecord;
  calls: CallRecord[];
  /** Preference for B in [0, 1], null when unscored. */
  preference: number | null;
}

export async function judgePair(
  item: PairItem,
  judge: LanguageModel,
  options: { prompts?: PairwisePrompts; sampling?: SamplingOptions },
  context: CallContext,
): Promise<PairwiseOutcome> {
  const prompts = options.prompts ?? DEFAULT_PAIRWISE_PROMPTS;
  const sampling = options.sampling ?? { temperature: 0 };
  const caller = new ModelCaller(context);
  const ask = async (first: string, second: string, step: string) => {
    const messages: ChatMessage[] = [
      { role: "system", content: prompts.system },
      { role: "user", content: fill(prompts.user, { question: item.question, response_a: first, response_b: second }) },
    ];
    const parse = (text: string) => {
      const verdict = parseVerdict(text);
      return { score: verdict === null ? null : verdict === "A" ? 0 : verdict === "B" ? 1 : 0.5, marker: verdict };
    };
    const { text } = await caller.call({ model: judge, role: "judge", step, iteration: 0, messages, sampling, parse });
    return { text, verdict: parseVerdict(text), messages };
  };
  const straight = await ask(item.responseA, item.responseB, "pairwise.a-first");
  const swapped = await ask(item.responseB, item.responseA, "pairwise.b-first");
  // In the swapped order "A" names response B.
  const swappedVerdict: Verdict | null = swapped.verdict === "A" ? "B" : swapped.verdict === "B" ? "A" : swapped.verdict;
  const prefs = [preferenceForB(straight.verdict), preferenceForB(swappedVerdict)].filter((p): p is number => p !== null);
  const preference = prefs.length === 0 ? null : prefs.reduce((a, b) => a + b, 0) / prefs.length;
  return {
    preference,
    calls: caller.calls,
    fields: {
      pairwise_a_first: straight.text,
      pairwise_a_first_prompt: straight.messages,
      pairwise_a_first_verdict: straight.verdict,
      pairwise_b_first: swapped.text,
      pairwise_b_first_prompt: swapped.messages,
      pairwise_b_first_verdict: swappedVerdict,
      pairwise_preference_b: preference,
      pairwise_winner: preference === null ? null : preference > 0.5 ? "B" : preference < 0.5 ? "A" : "tie",
      pairwise_consistent: straight.verdict !== null && swappedVerdict !== null ? straight.verdict === swappedVerdict : null,
    },
  };
}

/** One pair per item: the row's `response_a` and `response_b` (as runner/pairwise-run.ts joins them). */
export function pairwiseAlgorithm(options: { prompts?: PairwisePrompts; temperature?: number; seed?: number } = {}): ItemAlgorithm {
  return {
    name: "judge/pairwise",
    calls: { min: 2, expected: 2, max: 2, criticShare: 0 },
    async run(item, models, context) {
      const row = item.row;
      const outcome = await judgePair(
        { id: item.id, question: item.question, responseA: String(row.response_a), responseB: String(row.response_b) },
        models.base,
        {
          prompts: options.prompts,
          sampling: { temperature: options.temperature ?? 0, ...(options.seed === undefined ? {} : { seed: options.seed }) },
        },
        context,
      );
      return { fields: outcome.fields, calls: outcome.calls };
    },
  };
}

export interface WinRate {
  n: number;
  unscored: number;
  winsB: number;
  winsA: number;
  ties: number;
  /** Orders that disagreed (position bias), among items with both verdicts. */
  inconsistent: number;
  /** Mean preference for B, as a percentage; ties count half. */
  winRateB: number;
  /** 95% confidence interval of winRateB (normal approximation of the mean, clipped to [0, 100]). */
  ci95: [number, number];
}

export function winRate(records: readonly { preference: number | null; consistent?: boolean | null }[]): WinRate {
  const scored = records.filter((r) => r.preference !== null).map((r) => r.preference as number);
  const n = scored.length;
  const mean = n === 0 ? 0 : scored.reduce((a, b) => a + b, 0) / n;
  const variance = n < 2 ? 0 : scored.reduce((a, p) => a + (p - mean) ** 2, 0) / (n - 1);
  const half = n === 0 ? 0 : 1.96 * Math.sqrt(variance / n);
  const pct = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 10000) / 100;
  return {
    n,
    unscored: records.length - n,
    winsB: scored.filter((p) => p > 0.5).length,
    winsA: scored.filter((p) => p < 0.5).length,
    ties: scored.filter((p) => p === 0.5).length,
    inconsistent: records.filter((r) => r.consistent === false).length,
    winRateB: pct(mean),
    ci95: [pct(mean - half), pct(mean + half)],
  };
}
