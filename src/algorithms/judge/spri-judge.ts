/**
 * SPRI as an LLM judge (spec §6.2), one item = one (instance, response) row:
 *
 * 1. Stage 1 (SPRI's rubric task): the base model writes a rubric for the instance, the critic
 *    scores it, the base model refines it (rubric in the `principle*` fields).
 * 2a. The judge (the base model) grades the row's response with the final rubric through the
 *    grading prompt (`grading-prompt.ts`): feedback and a score.
 * 2b. Stage 2 of SPRI on the judgement: the critic checks that it follows the rubric, the judge
 *    refines it (judgement in the `*response*` fields).
 *
 * Records keep the reference's field names and order, plus
 * `formatted_BigGenBench_INIT_GRADING_PROMPT` (before `init_response`), `init_response-[score]`
 * (after `init_response_prompt`) and `response_final-[score]` (after `response_final`: the score of
 * the running final, i.e. of the raw refinement under `rawRefinementText`).
 *
 * Each row is its own sample, as in the paper, where the rows judging different responses to one
 * instance each get a rubric of their own although they send the same rubric prompt: the row's key
 * is the calls' `sampleKey` (algorithm/model-caller.ts), so it goes into every call's `sampleIndex`
 * (a call cache never answers one row with another row's sample, while a resumed row finds its own)
 * and into any sampling seed (a seeded backend samples each row differently, and reproducibly).
 */
import type { ItemAlgorithm } from "../contract/item-algorithm.ts";
import type { TaskItem } from "../contract/task-item.ts";
import type { ItemRecord } from "../../io/records.ts";
import type { ChatMessage } from "../../models/language-model.ts";
import { runSpri, type SpriResult, type SpriSteps } from "../spri/spri.ts";
import { pyFormat } from "../../base/util/python.ts";
import { critiqueInput, type GradingPrompt, gradingPrompt, JUDGE_TEMPLATES, judgementRefineUser } from "./grading-prompt.ts";
import type { ParsedJudgement } from "./judge-score.ts";
import { inputId, type JudgeContext, judgedResponse, type RubricSource } from "./rubric-source.ts";

export const GRADING_PROMPT_FIELD = "formatted_BigGenBench_INIT_GRADING_PROMPT";
export const INIT_SCORE_FIELD = "init_response-[score]";
export const FINAL_SCORE_FIELD = "response_final-[score]";

function system(content: string): ChatMessage {
  return { role: "system", content };
}
function user(content: string): ChatMessage {
  return { role: "user", content };
}

export interface JudgeSteps {
  steps: SpriSteps;
  /** The grading prompt of the last rubric graded with (after stage 2a has been asked for). */
  grading(): GradingPrompt | undefined;
}

/** SPRI's steps for one row: the rubric task's stage 1, then grading and its critique/refinement. */
export function judgeSteps(
  item: TaskItem,
  row: { id: string; response: string },
  context: Pick<JudgeContext, "pack" | "compat" | "rubricStage" | "options">,
): JudgeSteps {
  const { pack, compat, options } = context;
  const rubric = context.rubricStage.steps(item);
  let last: { principles: string; grading: GradingPrompt; critiqueInput?: string } | undefined;
  const graded = (principles: string) => {
    if (last?.principles !== principles) {
      last = {
        principles,
        grading: gradingPrompt(pack, {
          id: row.id,
          instruction: item.question,
          response: row.response,
          rubric: principles,
          reference: item.reference,
          scale: options.scale,
        }),
      };
    }
    return last;
  };
  const inputA = (principles: string): string => {
    const entry = graded(principles);
    entry.critiqueInput ??= critiqueInput(entry.grading, compat.judgeCritiqueInput);
    return entry.critiqueInput;
  };
  const scaleFields = { min_score: String(options.scale.min), max_score: String(options.scale.max) };
  return {
    steps: {
      principleDraft: rubric.principleDraft,
      principleCritique: rubric.principleCritique,
      principleRefine: rubric.principleRefine,
      responseDraft: (principles) => [system(pack.get(JUDGE_TEMPLATES.system)), user(graded(principles).grading.text)],
      responseCritique: (principles, judgement) => [
        user(
          pyFormat(
            pack.get(JUDGE_TEMPLATES.critique),
            { input_and_output_other_model_assessment: inputA(principles) + judgement, ...scaleFields },
            JUDGE_TEMPLATES.critique,
          ),
        ),
      ],
      responseRefine: (principles, judgement, feedback) => [
        system(pack.get(JUDGE_TEMPLATES.refine)),
        user(judgementRefineUser(inputA(principles), judgement, feedback)),
      ],
    },
    grading: () => last?.grading,
  };
}

/** SPRI's record fields with the judge's: the grading prompt and the scores, in the reference's places. */
export function judgeRecordFields(result: SpriResult, grading: GradingPrompt, score: (text: string) => ParsedJudgement): ItemRecord {
  const response = result.response;
  if (!response) throw new Error("the judge runs both SPRI stages");
  const out: ItemRecord = {};
  for (const [key, value] of Object.entries(result.fields)) {
    if (key === "init_response") out[GRADING_PROMPT_FIELD] = grading.text;
    out[key] = value;
    if (key === "init_response_prompt") out[INIT_SCORE_FIELD] = score(response.draft).score;
    if (key === "response_final") out[FINAL_SCORE_FIELD] = score(response.outcome.final).score;
  }
  return out;
}

// --- the algorithm and its rubric source ---------------------------------------------------------------

export function spriJudgeAlgorithm(context: JudgeContext): ItemAlgorithm {
  const critiques = context.spri.maxCritiques;
  return {
    name: "judge/spri",
    // 1 + critiques + refinements per stage; the paper's BiGGen run averaged 5.1 calls a row (spec §8).
    calls: { min: 4, expected: Math.min(5.1, 4 * critiques), max: 4 * critiques, criticShare: 0.5 },
    async run(item, models, callContext) {
      const response = judgedResponse(item, context.options.responseField);
      const judge = judgeSteps(item, { id: inputId(item, context.options.idField), response }, context);
      const result = await runSpri(judge.steps, models, context.spri, { ...callContext, sampleKey: callContext.itemId });
      return { fields: judgeRecordFields(result, judge.grading()!, context.score), calls: result.calls };
    },
  };
}

export const spriRubricSource: RubricSource = {
  name: "spri",
  description: "SPRI: an instance-specific rubric per row (stage 1), the judgement critiqued and refined (stage 2)",
  usesSeeds: true,
  templates: (context) => [
    ...context.rubricStage.templates,
    JUDGE_TEMPLATES.system,
    JUDGE_TEMPLATES.grading,
    JUDGE_TEMPLATES.metaGrading,
    JUDGE_TEMPLATES.rubric,
    JUDGE_TEMPLATES.critique,
    JUDGE_TEMPLATES.refine,
  ],
  algorithm: spriJudgeAlgorithm,
};
