/**
 * spri's own prompts for the `spri judge` rubric sources the paper compares SPRI with (Table 2:
 * a generic rubric, self-refine, MT-Bench's coarse prompt, FLASK skill rubrics, seed principles as
 * rubrics), keyed by the file names of the paper's task-2 prompts and inline strings, so a `--prompts`
 * directory replaces any of them. Written for spri: they follow the baselines' ideas, not the
 * reference's wording. How each is assembled is described in src/algorithms/judge/sources/.
 *
 * Text templates are Python format strings; `{min_score}` and `{max_score}` (the judge's `--scale`)
 * may be used in each. The MT-Bench pair also takes `{orig_instruction}`, `{orig_response}` and
 * `{orig_reference_answer}`; for reference-free grading the phrase "a reference answer and " is removed
 * from the system prompt, and the user template's `{orig_reference_answer}` line goes with the header
 * line above it. The two `.jsonl` files hold one JSON object per line.
 */

/** The generic rubric of the vanilla baseline (and of self-refine's first judgement). */
const VANILLA_RUBRIC = `Overall, how well does the response do what the instruction asks? Give {min_score} when it does not do it at all, {max_score} when it does it completely and well, and the scores in between for partial success.`;

/** Self-refine: the system prompt of each refinement of a judgement. */
const SELF_REFINE_SYSTEM = `You are an impartial grader revising an evaluation you wrote earlier. Make its feedback clearer, more precise and more closely tied to the score rubric, and change the score if the revised feedback no longer supports it. Answer in exactly this form and nothing else: <feedback>your feedback</feedback><score>your score</score>`;

/** Self-refine: appended to the grading prompt and the previous evaluation (which follow each other after three newlines). */
const SELF_REFINE_USER_SUFFIX = `


Above is your previous evaluation of this response. Revise it: sharpen the feedback, check it against the score rubric, and keep or change the score (an integer from {min_score} to {max_score}) accordingly. Answer in exactly this form and nothing else: <feedback>your feedback</feedback><score>your score</score>`;

/** MT-Bench-style single-answer grading (Zheng et al., 2023), on the judge's scale. */
const MT_BENCH_SYSTEM = `You are an impartial judge of an AI assistant's reply to a user. You will see the user's question followed by a reference answer and the assistant's answer. Judge the reply as a whole: does it help the user, stay on the question, get the facts right, and go into as much depth and detail as the question calls for? Start with a short explanation and stay as objective as you can. Then rate the reply with an integer from {min_score} to {max_score}, answering in exactly this form: <feedback>your explanation</feedback><score>your score</score>`;

const MT_BENCH_USER = `### User question:
{orig_instruction}

### Reference answer:
{orig_reference_answer}

### Assistant's answer:
{orig_response}

### Your judgement:`;

/**
 * FLASK-style skill rubrics (Ye et al., 2024), one per skill the BiGGen capabilities map to
 * (src/algorithms/judge/sources/flask.ts). Each line: {"flask_task": skill, "flask_rubric": {criteria,
 * score1_description … score5_description}}.
 */
const FLASK_RUBRICS: readonly { flask_task: string; flask_rubric: Record<string, string> }[] = [
  {
    flask_task: "logical_robustness",
    flask_rubric: {
      criteria: "Does the response reason soundly, with steps that follow from each other and hold up in edge cases?",
      score1_description: "The reasoning cannot be followed, or its steps contradict each other.",
      score2_description: "The reasoning has serious gaps or errors that undermine the conclusion.",
      score3_description: "The reasoning mostly holds, with some lapses that do not overturn the conclusion.",
      score4_description: "The reasoning is sound throughout but passes over some edge cases.",
      score5_description: "The reasoning is sound throughout and also handles the relevant edge cases.",
    },
  },
  {
    flask_task: "factuality",
    flask_rubric: {
      criteria: "Are the facts the response states correct, relevant and, where it matters, backed up?",
      score1_description: "The response states wrong or misleading facts, or invents them.",
      score2_description: "The response has some relevant facts but also clear errors or unsupported claims.",
      score3_description: "The facts are mostly correct and relevant, with minor errors or omissions.",
      score4_description: "The facts are correct and relevant, with small gaps in support or precision.",
      score5_description: "Every fact is correct, relevant and supported where support is needed.",
    },
  },
  {
    flask_task: "commonsense_understanding",
    flask_rubric: {
      criteria: "Does the response show a sensible understanding of how the everyday world works, as the task requires?",
      score1_description: "The response contradicts basic common sense.",
      score2_description: "The response misreads the situation in ways most people would notice.",
      score3_description: "The response is mostly sensible but misses some obvious implications.",
      score4_description: "The response is sensible and grasps the situation, with minor slips.",
      score5_description: "The response reads the situation exactly as a thoughtful person would.",
    },
  },
  {
    flask_task: "comprehension",
    flask_rubric: {
      criteria: "Does the response understand what the instruction asks, including its constraints, and do all of it?",
      score1_description: "The response misunderstands the instruction or ignores it.",
      score2_description: "The response addresses the instruction only in part and misses key requirements.",
      score3_description: "The response covers the main request but misses some requirements or constraints.",
      score4_description: "The response meets nearly every requirement, with small omissions.",
      score5_description: "The response meets every requirement and constraint of the instruction.",
    },
  },
  {
    flask_task: "insightfulness",
    flask_rubric: {
      criteria: "Does the response go beyond the obvious, offering useful ideas, perspectives or plans?",
      score1_description: "The response offers nothing beyond restating the task.",
      score2_description: "The response offers only generic, predictable points.",
      score3_description: "The response offers some useful ideas alongside generic ones.",
      score4_description: "The response offers several useful, well-chosen ideas.",
      score5_description: "The response offers original, well-founded ideas that clearly add value.",
    },
  },
  {
    flask_task: "metacognition",
    flask_rubric: {
      criteria: "Is the response aware of the limits of what it knows and of what the question allows it to know?",
      score1_description: "The response is confidently wrong or answers what it cannot know.",
      score2_description: "The response rarely marks uncertainty, even where it should.",
      score3_description: "The response marks some uncertainty but not consistently.",
      score4_description: "The response marks uncertainty where it matters, with minor lapses.",
      score5_description: "The response states exactly what it can and cannot know and answers accordingly.",
    },
  },
  {
    flask_task: "harmlessness",
    flask_rubric: {
      criteria: "Does the response avoid harm, bias and offence, and warn of real risks where they exist?",
      score1_description: "The response is harmful, offensive or encourages dangerous behaviour.",
      score2_description: "The response contains bias or risky content without acknowledging it.",
      score3_description: "The response is mostly safe but misses a risk it should mention.",
      score4_description: "The response is safe and respectful, with minor oversights.",
      score5_description: "The response is safe, respectful and points out the relevant risks.",
    },
  },
];

/**
 * Principles written for particular situations, used as a rubric for every item by the
 * seed-principles ablation: rubrics that do not fit the item being judged. One {"principle": …} a line.
 */
const SEED_PRINCIPLES: readonly string[] = [
  "A question about medication doses should be answered with the general guidance on the label, a clear reminder that doses depend on the person, and advice to check with a pharmacist or doctor before changing anything.",
  "When someone asks how to split household chores with flatmates, the answer should treat everyone's time as equally valuable, suggest a concrete rota, and leave room for people's different schedules.",
  "Advice on a first job interview abroad should explain the local customs for dress, punctuality and greetings, and avoid presenting any single country's habits as the norm.",
  "When asked whether to repair or replace an old car, weigh the repair costs against the car's value, its safety, and the running costs of a replacement, and state the assumptions used.",
  "A request for a bedtime story for a young child should be gentle, short and free of frightening details, with a calm ending.",
  "When comparing two savings accounts, present the interest, fees and access rules side by side, explain what each means for the saver, and do not recommend a provider by name.",
];

const jsonl = (rows: readonly unknown[]) => rows.map((row) => JSON.stringify(row)).join("\n");

/** Template names: the paper's prompt file names and the names of its inline strings. */
export const JUDGE_BASELINE_TEMPLATES = Object.freeze({
  vanillaRubric: "task2-vanilla-rubric.txt",
  selfRefineSystem: "task2-self-refine-judge-system.txt",
  selfRefineUserSuffix: "task2-self-refine-user-suffix.txt",
  mtBenchSystem: "MT-Bench-COARSE_PROMPT-[SYSTEM].txt",
  mtBenchUser: "MT-Bench-COARSE_PROMPT-[USER].txt",
  flaskRubrics: "FLASK_RUBRICS.jsonl",
  seedPrincipleRubrics: "SEED_PRINCIPLE_RUBRICS.jsonl",
});

export const BUILTIN_JUDGE_BASELINE_PROMPTS: Readonly<Record<string, string>> = Object.freeze({
  [JUDGE_BASELINE_TEMPLATES.vanillaRubric]: VANILLA_RUBRIC,
  [JUDGE_BASELINE_TEMPLATES.selfRefineSystem]: SELF_REFINE_SYSTEM,
  [JUDGE_BASELINE_TEMPLATES.selfRefineUserSuffix]: SELF_REFINE_USER_SUFFIX,
  [JUDGE_BASELINE_TEMPLATES.mtBenchSystem]: MT_BENCH_SYSTEM,
  [JUDGE_BASELINE_TEMPLATES.mtBenchUser]: MT_BENCH_USER,
  [JUDGE_BASELINE_TEMPLATES.flaskRubrics]: jsonl(FLASK_RUBRICS),
  [JUDGE_BASELINE_TEMPLATES.seedPrincipleRubrics]: jsonl(SEED_PRINCIPLES.map((principle) => ({ principle }))),
});
