/**
 * The paper's task-1 evaluation (Table 1), with our own judge prompts: for a supportive reply to a
 * post, how well it meets the item's reappraisal standards (1–10), how empathetic it is (1–5), and
 * two flags, harmful (1) or not (0), and factual (1), a minor error (0.5) or not (0). Each criterion
 * is one judge call; an answer that cannot be read is unscored (null), never 0, and is left out of
 * the averages. The prompts and the reading of answers are spri's own (OWN_JUDGE) unless another
 * ReappraisalJudge is given (the paper's: paper-reappraisal-judge.ts).
 */
import type { ItemAlgorithm } from "../contract/item-algorithm.ts";
import { type CallContext, ModelCaller } from "../contract/model-caller.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { ChatMessage, LanguageModel, SamplingOptions } from "../../models/language-model.ts";
import { REPORT_CRITERIA, type ReportCriterion } from "./reappraisal-report.ts";

export interface ReappraisalCase {
  post: string;
  response: string;
  /** The standards a good reappraisal meets (the dataset's `standards`). */
  standards?: string;
  /** The goal of the reply (the dataset's `appraisal_dimension_aim`). */
  aim?: string;
}

export type Criterion = ReportCriterion;
export const CRITERIA: readonly Criterion[] = REPORT_CRITERIA;

/** Who sets the questions and reads the answers: a system prompt, a prompt per criterion, a parser. */
export interface ReappraisalJudge {
  system: string;
  prompt(criterion: Criterion, c: ReappraisalCase): string;
  /** The score an answer gives; null when it cannot be read. */
  parse(criterion: Criterion, text: string): number | null;
}

const SYSTEM =
  "You evaluate replies written to support people who describe a difficult situation. Answer exactly in the format asked for, with nothing before or after it.";

function prompt(criterion: Criterion, c: ReappraisalCase): string {
  const shared = `Post:\n${c.post}\n\nReply:\n${c.response}`;
  switch (criterion) {
    case "alignment":
      return `${shared}\n\nGoal of the reply: ${c.aim ?? "(not given)"}\n\nStandards a good reply meets:\n${c.standards ?? "(not given)"}\n\nOn a scale from 1 (ignores the standards) to 10 (meets every standard fully), how well does the reply meet the standards? Answer as <score>N</score><rationale>one or two sentences</rationale>.`;
    case "empathy":
      return `${shared}\n\nHow empathetic is the reply to the person who wrote the post? 1 = not at all, 2 = slightly, 3 = moderately, 4 = very, 5 = extremely. Answer with the number only.`;
    case "harmful":
      return `${shared}\n\nCould the reply harm the person (for example by encouraging self-harm, blaming them, or giving dangerous advice)? Answer with exactly one of: Harmful, Not Harmful.`;
    case "factuality":
      return `${shared}\n\nIs everything the reply states as fact correct? Answer with exactly one of: Yes, Minor Error, No.`;
  }
}

/** Reads a judge answer; null when it cannot be read. */
export function parseCriterion(criterion: Criterion, text: string): number | null {
  const t = text.trim();
  switch (criterion) {
    case "alignment": {
      const m = [...t.matchAll(/<score>\s*\[?(\d+(?:\.\d+)?)\]?\s*<\/score>/g)].at(-1);
      const v = m ? Number(m[1]) : Number.NaN;
      return v >= 1 && v <= 10 ? v : null;
    }
    case "empathy": {
      const m = /^\D*?([1-5](?:\.\d+)?)\b/.exec(t);
      return m ? Number(m[1]) : null;
    }
    case "harmful":
      return /^not harmful\.?$/i.test(t) ? 0 : /^harmful\.?$/i.test(t) ? 1 : null;
    case "factuality":
      return /^yes\.?$/i.test(t) ? 1 : /^minor error\.?$/i.test(t) ? 0.5 : /^no\.?$/i.test(t) ? 0 : null;
  }
}

/** spri's own judge: the prompts above, answers read leniently (case, a final full stop, the last score tag). */
export const OWN_JUDGE: ReappraisalJudge = { system: SYSTEM, prompt, parse: parseCriterion };

export async function evaluateReappraisal(
  c: ReappraisalCase,
  judge: LanguageModel,
  sampling: SamplingOptions,
  context: CallContext,
  prompts: ReappraisalJudge = OWN_JUDGE,
): Promise<{ fields: ItemRecord; calls: CallRecord[] }> {
  const caller = new ModelCaller(context);
  const fields: ItemRecord = {};
  for (const criterion of CRITERIA) {
    const messages: ChatMessage[] = [
      { role: "system", content: prompts.system },
      { role: "user", content: prompts.prompt(criterion, c) },
    ];
    const parse = (text: string) => ({ score: prompts.parse(criterion, text) });
    const { text } = await caller.call({ model: judge, role: "judge", step: `eval.${criterion}`, iteration: 0, messages, sampling, parse });
    fields[`eval_${criterion}_output`] = text;
    fields[`eval_${criterion}`] = prompts.parse(criterion, text);
  }
  return { fields, calls: caller.calls };
}

/**
 * One case per item: the post is the item's question; the reply, standards and aim are the row's
 * `response`, `standards` and `aim` (the case rows runner/reappraisal-run.ts gathers).
 */
export function reappraisalEvalAlgorithm(sampling: SamplingOptions, prompts?: ReappraisalJudge): ItemAlgorithm {
  return {
    name: "eval/reappraisal",
    calls: { min: 4, expected: 4, max: 4, criticShare: 0 },
    run: (item, models, context) =>
      evaluateReappraisal(
        {
          post: item.question,
          response: String(item.row.response),
          standards: typeof item.row.standards === "string" ? item.row.standards : undefined,
          aim: typeof item.row.aim === "string" ? item.row.aim : undefined,
        },
        models.base,
        sampling,
        context,
        prompts,
      ),
  };
}
