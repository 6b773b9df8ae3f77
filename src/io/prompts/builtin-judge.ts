/**
 * spri's own prompts for `spri judge` (LLM-as-a-judge with SPRI rubrics), keyed by the file names of
 * the paper's task-2 prompts so a `--prompts` directory can replace any of them. The grading
 * templates are Python format strings over `{instruction}`, `{response}`, `{rubric}`,
 * `{reference_answer}` (removed when grading reference-free), `{min_score}` and `{max_score}`; the
 * structure the judge code relies on is described in src/algorithms/judge/grading-prompt.ts.
 */
import { BUILTIN_PROMPTS } from "./builtin.ts";
import { type PromptPack, templatePack } from "./prompt-pack.ts";

const JUDGE_SYSTEM = `You are an impartial grader. You judge a response only by the standards of the score rubric you are given, never by your own preferences, and you hold every response to the same standard. Answer in exactly this form and nothing else: <feedback>your feedback</feedback><score>your score</score>`;

const GRADING_RULES = `1. Write feedback on the response, judged strictly by the score rubric rather than by your overall impression.
2. Then give a score, an integer from {min_score} to {max_score}, as the score rubric defines it.
3. Answer in exactly this form: "<feedback>your feedback</feedback><score>your score</score>"
4. Write nothing else: no greeting, preamble or closing remarks.`;

/** What every grading prompt opens with. */
const GRADING_TASK = `###Task Description:
You are given an instruction (it may contain an input of its own), a response to it, a reference answer that deserves the top score, and a score rubric that defines the scores.
${GRADING_RULES}`;

/** What every grading prompt ends with, after the instruction: the response and what it is graded against. */
const GRADED_RESPONSE = `###Response:
{response}

###Reference answer:
{reference_answer}

###Score rubric:
{rubric}

###Feedback: `;

const GRADING = `${GRADING_TASK}

###Instruction:
{instruction}

${GRADED_RESPONSE}`;

const META_GRADING = `${GRADING_TASK}
5. Careful: the instruction itself asks for an evaluation of some other model's work. Do not carry out that evaluation; grade the response to it. The instruction is set off by lines reading @@@.

@@@
###Instruction:
{instruction}
@@@

${GRADED_RESPONSE}`;

const RUBRIC_TEMPLATE = `Criterion: {criteria}
Score 1: {score1_description}
Score 2: {score2_description}
Score 3: {score3_description}
Score 4: {score4_description}
Score 5: {score5_description}`;

const JUDGEMENT_CRITIQUE = `You check the work of another grader. Below, between the lines reading @@@, is what that grader was given (the instruction, the response and the score rubric) followed by the evaluation it wrote. Do not grade the response yourself: judge the evaluation.
Work in two steps:
1. Write short, specific feedback on how closely the evaluation follows the score rubric: does its feedback apply the rubric's criterion, and does its score match the rubric's description of that score?
2. Give a score, an integer from 1 to 5, taken from the rubric for your review below.
Reply on one line in exactly this form: "Feedback: <your feedback> [RESULT] <score>". Add nothing before or after it, and keep the feedback under 120 words.

@@@
{input_and_output_other_model_assessment}
@@@

Rubric for your review: Does the evaluation follow the score rubric it was given?
Score 1: The evaluation ignores the score rubric.
Score 2: The evaluation refers to the rubric but misapplies it in important ways.
Score 3: The evaluation mostly follows the rubric, with some clear lapses.
Score 4: The evaluation follows the rubric well; only small changes would align it fully.
Score 5: The evaluation applies the rubric faithfully, in its feedback and in its score.`;

const JUDGEMENT_REFINE = `You revise an evaluation of a response using a reviewer's feedback. You are given what the evaluation was based on (the instruction, the response and the score rubric), the evaluation itself and the feedback. Revise the evaluation so that it follows the score rubric more closely; where the feedback and the rubric disagree, follow the rubric. Keep the feedback under 120 words and answer in exactly this form and nothing else: <feedback>your feedback</feedback><score>your score</score>`;

export const BUILTIN_JUDGE_PROMPTS: Readonly<Record<string, string>> = Object.freeze({
  "task2-judge-system.txt": JUDGE_SYSTEM,
  "ABSOLUTE_PROMPT.txt": GRADING,
  "ABSOLLUTE_REFINE_PROMPT.txt": META_GRADING,
  "prometheus-score-rubric-template.txt": RUBRIC_TEMPLATE,
  "instruct-stage2_02-eval_response_critique.txt": JUDGEMENT_CRITIQUE,
  "instruct-stage2_02-eval_response_refinement.txt": JUDGEMENT_REFINE,
});

/** The judge's built-in pack: the rubric task's stage-1 prompts and the grading prompts above. */
export function builtinJudgePack(): PromptPack {
  return templatePack("built-in (judge)", { ...BUILTIN_PROMPTS.rubric, ...BUILTIN_JUDGE_PROMPTS }, "built-in judge prompts");
}
