/**
 * MT-Bench single-answer grading (Zheng et al. 2023) as FastChat's `gen_judgment.py --mode single`
 * does it: each two-turn conversation is graded twice on 1–10, turn 1 on its own and turn 2 with the
 * whole conversation in view. Questions of the categories that need a reference (math, reasoning,
 * coding) are graded with the reference answers and the math prompts. The judge prompts are FastChat's
 * own (`judge_prompts.jsonl`), loaded at run time by the caller and filled with Python's `str.format`.
 *
 * The rating is FastChat's: the first `[[n]]` in the judgement, else the first `[n]`; a judgement with
 * neither is unscored (FastChat's -1), and the means leave it out, as FastChat's `show_result` does.
 */
import { type CallContext, ModelCaller } from "../contract/model-caller.ts";
import type { ItemAlgorithm, ItemOutcome } from "../contract/item-algorithm.ts";
import { InputError } from "../../base/errors/errors.ts";
import type { ChatMessage, LanguageModel, SamplingOptions } from "../../models/language-model.ts";
import { pyFormat } from "../../base/util/python.ts";

export interface MtBenchJudgePrompt {
  system_prompt: string;
  prompt_template: string;
  output_format: string;
}

/** FastChat's judge prompts by name (`single-v1`, `single-math-v1`, and their `-multi-turn` forms). */
export type MtBenchPrompts = Readonly<Record<string, MtBenchJudgePrompt>>;

/** FastChat's NEED_REF_CATS. */
export const REFERENCE_CATEGORIES: readonly string[] = ["math", "reasoning", "coding"];

export const MT_BENCH_PROMPT_NAMES = ["single-v1", "single-math-v1", "single-v1-multi-turn", "single-math-v1-multi-turn"] as const;

export interface MtBenchCase {
  questionId: string;
  category: string;
  questions: readonly [string, string];
  answers: readonly [string, string];
  /** The reference answer's two turns, for the categories that need one. */
  references?: readonly [string, string];
}

/** FastChat's `[[rating]]` rule; null where FastChat records -1. */
export function parseRating(text: string): number | null {
  const match = /\[\[(\d+\.?\d*)\]\]/.exec(text) ?? /\[(\d+\.?\d*)\]/.exec(text);
  return match ? Number(match[1]) : null;
}

function promptName(kase: MtBenchCase, turn: 1 | 2): string {
  const math = REFERENCE_CATEGORIES.includes(kase.category) ? "single-math-v1" : "single-v1";
  return turn === 1 ? math : `${math}-multi-turn`;
}

function fields(kase: MtBenchCase, turn: 1 | 2): Record<string, string> {
  const references: Record<string, string> =
    kase.references === undefined ? {} : { ref_answer_1: kase.references[0], ref_answer_2: kase.references[1] };
  if (turn === 1) return { question: kase.questions[0], answer: kase.answers[0], ...references };
  const [question_1, question_2] = kase.questions;
  const [answer_1, answer_2] = kase.answers;
  return { question_1, question_2, answer_1, answer_2, ...references };
}

/** The judge's messages for one turn: the prompt's system text, then the filled template. */
export function mtBenchMessages(kase: MtBenchCase, prompts: MtBenchPrompts, turn: 1 | 2): { name: string; messages: ChatMessage[] } {
  const name = promptName(kase, turn);
  const prompt = prompts[name];
  if (prompt === undefined)
    throw new InputError(`the MT-Bench judge prompts have no "${name}"`, { hint: "give FastChat's judge_prompts.jsonl" });
  if (REFERENCE_CATEGORIES.includes(kase.category) && kase.references === undefined) {
    throw new InputError(`question ${kase.questionId} (${kase.category}) needs a reference answer and has none`, {
      field: "question_id",
      hint: "give the reference answers of MT-Bench (reference_answer_gpt-4.jsonl) with the data",
    });
  }
  return {
    name,
    messages: [
      { role: "system", content: prompt.system_prompt },
      { role: "user", content: pyFormat(prompt.prompt_template, fields(kase, turn), name) },
    ],
  };
}

export async function gradeMtBench(
  kase: MtBenchCase,
  judge: LanguageModel,
  prompts: MtBenchPrompts,
  sampling: SamplingOptions,
  context: CallContext,
): Promise<ItemOutcome> {
  const caller = new ModelCaller(context);
  const out: Record<string, unknown> = {};
  for (const turn of [1, 2] as const) {
    const { name, messages } = mtBenchMessages(kase, prompts, turn);
    const parse = (text: string) => ({ score: parseRating(text), marker: null });
    const { text } = await caller.call({
      model: judge,
      role: "judge",
      step: `mt-bench.turn-${turn}`,
      iteration: 0,
      messages,
      sampling,
      parse,
    });
    out[`mt_bench_turn_${turn}_prompt_name`] = name;
    out[`mt_bench_turn_${turn}_judgment`] = text;
    out[`mt_bench_turn_${turn}_score`] = parseRating(text);
  }
  return { fields: out, calls: caller.calls };
}

export function mtBenchAlgorithm(prompts: MtBenchPrompts, sampling: SamplingOptions): ItemAlgorithm {
  return {
    name: "eval/mt-bench",
    calls: { min: 2, expected: 2, max: 2, criticShare: 0 },
    run: (item, models, context) => gradeMtBench(caseOf(item.id, item.row), models.base, prompts, sampling, context),
  };
}

/** A case row as the CLI writes it (`category`, `questions`, `answers`, `references`). */
function caseOf(id: string, row: Readonly<Record<string, unknown>>): MtBenchCase {
  const pair = (value: unknown) => value as readonly [string, string];
  return {
    questionId: id,
    category: String(row.category),
    questions: pair(row.questions),
    answers: pair(row.answers),
    ...(Array.isArray(row.references) ? { references: pair(row.references) } : {}),
  };
}

export interface MtBenchSummary {
  turn1: number | null;
  turn2: number | null;
  /** Over every scored judgement of both turns, as FastChat's average. */
  average: number | null;
  /** Scored judgements. */
  n: number;
  unscored: number;
  categories: Record<string, number | null>;
}

export function mtBenchSummary(rows: readonly { category: string; turn1: number | null; turn2: number | null }[]): MtBenchSummary {
  const scored = (values: (number | null)[]) => values.filter((v): v is number => v !== null);
  const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
  const all = scored(rows.flatMap((r) => [r.turn1, r.turn2]));
  const categories: Record<string, number | null> = {};
  for (const category of new Set(rows.map((r) => r.category)))
    categories[category] = mean(scored(rows.filter((r) => r.category === category).flatMap((r) => [r.turn1, r.turn2])));
  return {
    turn1: mean(scored(rows.map((r) => r.turn1))),
    turn2: mean(scored(rows.map((r) => r.turn2))),
    average: mean(all),
    n: all.length,
    unscored: rows.length * 2 - all.length,
    categories,
  };
}
