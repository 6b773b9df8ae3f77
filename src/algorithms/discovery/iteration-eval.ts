/**
 * Evaluation of one iteration's model on held-out prompts (`spri discover iterate eval`), per item:
 * the model answers the bare prompt (its user-facing answer), Rouge-L F1 of the answer against the
 * gold when the row has one, and the pairwise judge of `judge/pairwise.ts` (the critic model, both
 * orders, no gold shown) of this answer (B) against the previous iteration's answer and the base
 * model's answer (A), when the row carries them (`eval_previous_answer`, `eval_base_answer`, joined
 * in by runner/iteration-eval.ts).
 */
import type { ItemAlgorithm } from "../contract/item-algorithm.ts";
import { ModelCaller } from "../contract/model-caller.ts";
import { judgePair } from "../judge/pairwise.ts";
import type { SamplingOptions } from "../../models/language-model.ts";
import { roundScore } from "../../base/util/round-score.ts";
import { rougeL } from "./rouge-l.ts";

/** The row fields the runner joins in: the earlier answers this one is judged against. */
export const BASELINE_FIELDS = { previous: "eval_previous_answer", base: "eval_base_answer" } as const;

export interface IterationEvalOptions {
  goldField: string;
  /** The answer's sampling (default temperature 0.7, top-p 0.95, 1024 tokens, as mining's y1). */
  answer?: SamplingOptions;
  /** The judge's sampling (default temperature 0). */
  judge?: SamplingOptions;
  stem?: boolean;
}

export interface Comparison {
  /** Preference for this iteration's answer in [0, 1]; null when the judge gave no readable verdict. */
  preference: number | null;
  /** The answer it was judged against. */
  baseline: string;
  aFirst: string | null;
  bFirst: string | null;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}

export function iterationEvalAlgorithm(options: IterationEvalOptions): ItemAlgorithm {
  const answerSampling = options.answer ?? { temperature: 0.7, topP: 0.95, maxTokens: 1024 };
  return {
    name: "discovery/iteration-eval",
    calls: { min: 1, expected: 5, max: 5, criticShare: 4 / 5 },
    async run(item, models, context) {
      const caller = new ModelCaller(context);
      const { raw } = await caller.call({
        model: models.base,
        role: "base",
        step: "eval.answer",
        iteration: 0,
        messages: [{ role: "user", content: item.question }],
        sampling: answerSampling,
      });
      const answer = raw.trim();
      const calls = caller.calls;
      const gold = text(item.row[options.goldField]);
      const score = gold === undefined ? null : rougeL(gold, answer, { useStemmer: options.stem ?? false });
      const compare = async (field: string): Promise<Comparison | null> => {
        const baseline = text(item.row[field]);
        if (baseline === undefined) return null;
        const outcome = await judgePair(
          { id: item.id, question: item.question, responseA: baseline, responseB: answer },
          models.critic,
          { sampling: options.judge ?? { temperature: 0 } },
          context,
        );
        calls.push(...outcome.calls);
        return {
          preference: outcome.preference,
          baseline,
          aFirst: (outcome.fields.pairwise_a_first_verdict as string | null) ?? null,
          bFirst: (outcome.fields.pairwise_b_first_verdict as string | null) ?? null,
        };
      };
      const vsPrevious = await compare(BASELINE_FIELDS.previous);
      const vsBase = await compare(BASELINE_FIELDS.base);
      return {
        fields: {
          eval_answer: answer,
          eval_rougeL:
            score === null
              ? null
              : { precision: roundScore(score.precision), recall: roundScore(score.recall), f1: roundScore(score.fmeasure) },
          eval_vs_previous: vsPrevious,
          eval_vs_base: vsBase,
        },
        calls,
      };
    },
  };
}
