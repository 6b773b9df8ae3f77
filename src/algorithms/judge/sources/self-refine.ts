/**
 * `--rubrics self-refine` (spec §6.3, the paper's self-refine judge baseline): the judge grades the
 * row with the generic rubric (iteration 0, the vanilla baseline's call), then refines its own
 * judgement 5 times, with no stopping rule: 6 calls a row, no critic.
 *
 * Refinement i (1..5), under the refinement system prompt (`task2-self-refine-judge-system.txt`):
 * - by default, and for GPT models in the reference: the user message is the grading prompt, three
 *   newlines, the previous judgement, then `task2-self-refine-user-suffix.txt` (which starts with its
 *   own newlines);
 * - under compat `judgeSelfRefineContext: reference`, models the reference served over BAM (ids
 *   without "gpt") are sent the previous judgement alone, without the instruction, response or rubric.
 *
 * Fields: `[self-refine]-iteration-i`, `-score`, `-prompt` for i = 0..5, in that order; the final
 * score is `[self-refine]-iteration-5-score`. `-prompt` holds the messages actually sent (the
 * reference's BAM path stored the iteration-0 prompt in every `-prompt` field). Under
 * `outputStrip: python` GPT judgements are stored with a plain `strip()` and the others with the
 * reference's `strip("\n#").strip()`, as the reference script does.
 */
import type { ItemAlgorithm } from "../../contract/item-algorithm.ts";
import { isGptModel } from "../../contract/model-caller.ts";
import type { ChatMessage } from "../../../models/language-model.ts";
import { JUDGE_BASELINE_TEMPLATES } from "../../../io/prompts/builtin-judge-baselines.ts";
import type { JudgeContext, RubricSource } from "../rubric-source.ts";
import { baselinePack, checkedTemplates, judgeCall, judgementFields, rowCaller, scaledTemplate, system, user } from "./common.ts";
import { GRADING_TEMPLATES, gradingRequest } from "./grading-sources.ts";

/** Refinements after the first judgement (the reference's fixed 5). */
export const SELF_REFINE_REFINEMENTS = 5;

export const selfRefineField = (iteration: number) => `[self-refine]-iteration-${iteration}`;

const OWN_TEMPLATES = [
  JUDGE_BASELINE_TEMPLATES.vanillaRubric,
  JUDGE_BASELINE_TEMPLATES.selfRefineSystem,
  JUDGE_BASELINE_TEMPLATES.selfRefineUserSuffix,
] as const;

/** The user message of a refinement in its full form. */
export function selfRefineUser(gradingText: string, previous: string, suffix: string): string {
  return `${gradingText}\n\n\n${previous}${suffix}`;
}

export function selfRefineAlgorithm(context: JudgeContext): ItemAlgorithm {
  const pack = baselinePack(context);
  for (const name of [...GRADING_TEMPLATES, ...OWN_TEMPLATES]) pack.get(name);
  const rubric = scaledTemplate(pack, JUDGE_BASELINE_TEMPLATES.vanillaRubric, context);
  const refineSystem = scaledTemplate(pack, JUDGE_BASELINE_TEMPLATES.selfRefineSystem, context);
  const suffix = scaledTemplate(pack, JUDGE_BASELINE_TEMPLATES.selfRefineUserSuffix, context);
  const calls = SELF_REFINE_REFINEMENTS + 1;
  return {
    name: "judge/self-refine",
    calls: { min: calls, expected: calls, max: calls, criticShare: 0 },
    async run(item, models, callContext) {
      const caller = rowCaller(context, callContext);
      // The reference's transport decides both: GPT judgements are plain-stripped and fully re-sent.
      const gpt = isGptModel(models.base.modelId);
      const strip = gpt ? "whitespace" : undefined;
      const fullContext = context.compat.judgeSelfRefineContext === "full" || gpt;
      const judged = (iteration: number, messages: ChatMessage[]) =>
        judgeCall(caller, context, { model: models.base, step: "judge.self-refine", iteration, messages, strip });
      const { grading, messages } = gradingRequest(pack, context, item, rubric);
      let judgement = await judged(0, messages);
      const fields = judgementFields(selfRefineField(0), judgement, messages);
      for (let i = 1; i <= SELF_REFINE_REFINEMENTS; i++) {
        const previous = judgement.text;
        const refineMessages = [system(refineSystem), user(fullContext ? selfRefineUser(grading.text, previous, suffix) : previous)];
        judgement = await judged(i, refineMessages);
        Object.assign(fields, judgementFields(selfRefineField(i), judgement, refineMessages));
      }
      return { fields, calls: caller.calls };
    },
  };
}

export const selfRefineRubricSource: RubricSource = {
  name: "self-refine",
  description: `the generic rubric, then the judge refines its own judgement ${SELF_REFINE_REFINEMENTS} times (${SELF_REFINE_REFINEMENTS + 1} calls)`,
  usesSeeds: false,
  scoreField: `${selfRefineField(SELF_REFINE_REFINEMENTS)}-score`,
  templates: (context) => checkedTemplates(context, GRADING_TEMPLATES, OWN_TEMPLATES),
  algorithm: selfRefineAlgorithm,
};
