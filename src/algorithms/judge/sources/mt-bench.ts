/**
 * `--rubrics mt-bench` (spec §6.3, the paper's MT-Bench baseline): MT-Bench's coarse single-answer
 * grading, no rubric. One call: system `MT-Bench-COARSE_PROMPT-[SYSTEM].txt`, user
 * `MT-Bench-COARSE_PROMPT-[USER].txt` over `{orig_instruction}` (the instruction), `{orig_response}`
 * (the response) and `{orig_reference_answer}` (the reference answer, with `--reference-field`).
 *
 * Reference-free grading (no `--reference-field`, as in the paper) edits both templates as the
 * reference does: the system prompt loses the phrase "a reference answer and " (so a sentence saying
 * the judge is given a reference answer and the assistant's answer now says it is given the
 * assistant's answer), and the user template loses its `{orig_reference_answer}` line with the header
 * line above it (and nothing else, so the blank lines around them stay). `{min_score}` and `{max_score}` are offered to both.
 *
 * The score is read with the judge's parser (under `--compat reference`, BiGGen's `<score>` regex, as
 * the reference script). Fields: `[baseline]-vanilla-MT_Bench`, `-score`, `-prompt`.
 */
import type { ItemAlgorithm } from "../../contract/item-algorithm.ts";
import type { TaskItem } from "../../contract/task-item.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import { JUDGE_BASELINE_TEMPLATES } from "../../../io/prompts/builtin-judge-baselines.ts";
import type { PromptPack } from "../../../io/prompts/prompt-pack.ts";
import { pyFormat } from "../../../base/util/python.ts";
import { type JudgeContext, judgedResponse, type RubricSource } from "../rubric-source.ts";
import { baselinePack, checkedTemplates, judgeCall, judgementFields, ONE_CALL, rowCaller, scaleFields, system, user } from "./common.ts";

export const MT_BENCH_FIELD = "[baseline]-vanilla-MT_Bench";

const TEMPLATES = [JUDGE_BASELINE_TEMPLATES.mtBenchSystem, JUDGE_BASELINE_TEMPLATES.mtBenchUser] as const;

/** The reference-free edit of the system prompt. */
export function referenceFreeMtBenchSystem(template: string): string {
  return template.replaceAll("a reference answer and ", "");
}

/** The reference-free edit of the user template: the reference answer's line and its header line go. */
export function referenceFreeMtBenchUser(template: string): string {
  return template.replace(/^[^\n]*\n\{orig_reference_answer\}\n/m, "");
}

export interface MtBenchTemplates {
  system: string;
  user: string;
}

/** Both templates, edited for reference-free grading when `referenceFree`. */
export function mtBenchTemplates(pack: PromptPack, referenceFree: boolean): MtBenchTemplates {
  const systemTemplate = pack.get(JUDGE_BASELINE_TEMPLATES.mtBenchSystem);
  const userTemplate = pack.get(JUDGE_BASELINE_TEMPLATES.mtBenchUser);
  return referenceFree
    ? { system: referenceFreeMtBenchSystem(systemTemplate), user: referenceFreeMtBenchUser(userTemplate) }
    : { system: systemTemplate, user: userTemplate };
}

/** The messages of the MT-Bench grading call. */
export function mtBenchMessages(
  templates: MtBenchTemplates,
  context: Pick<JudgeContext, "options">,
  input: { instruction: string; response: string; reference?: string },
) {
  const fields: Record<string, string> = { ...scaleFields(context), orig_instruction: input.instruction, orig_response: input.response };
  if (input.reference !== undefined) fields.orig_reference_answer = input.reference;
  return [
    system(pyFormat(templates.system, scaleFields(context), JUDGE_BASELINE_TEMPLATES.mtBenchSystem)),
    user(pyFormat(templates.user, fields, JUDGE_BASELINE_TEMPLATES.mtBenchUser)),
  ];
}

export function mtBenchAlgorithm(context: JudgeContext): ItemAlgorithm {
  const pack = baselinePack(context);
  const withReference = mtBenchTemplates(pack, false);
  const referenceFree = mtBenchTemplates(pack, true);
  // Checked now: a reference-free user template must not need the reference answer any more.
  const probe = { instruction: "i", response: "r" };
  mtBenchMessages(withReference, context, { ...probe, reference: "a" });
  try {
    mtBenchMessages(referenceFree, context, probe);
  } catch (error) {
    throw new ConfigError(
      `${JUDGE_BASELINE_TEMPLATES.mtBenchUser} cannot be used reference-free: {orig_reference_answer} must sit on a line of its own, below a header line of its own`,
      {
        cause: error,
        hint: "put the reference answer's header and {orig_reference_answer} on two lines of their own, or grade with --reference-field",
      },
    );
  }
  return {
    name: "judge/mt-bench",
    calls: ONE_CALL,
    async run(item: TaskItem, models, callContext) {
      const templates = item.reference === undefined ? referenceFree : withReference;
      const messages = mtBenchMessages(templates, context, {
        instruction: item.question,
        response: judgedResponse(item, context.options.responseField),
        reference: item.reference,
      });
      const caller = rowCaller(context, callContext);
      const judgement = await judgeCall(caller, context, { model: models.base, step: "judge.mt-bench", iteration: 0, messages });
      return { fields: judgementFields(MT_BENCH_FIELD, judgement, messages), calls: caller.calls };
    },
  };
}

export const mtBenchRubricSource: RubricSource = {
  name: "mt-bench",
  description: "MT-Bench's coarse single-answer grading, no rubric, one call",
  usesSeeds: false,
  scoreField: `${MT_BENCH_FIELD}-score`,
  templates: (context) => checkedTemplates(context, [], TEMPLATES),
  algorithm: mtBenchAlgorithm,
};
