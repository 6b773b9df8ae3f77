/**
 * spri's own prompts, keyed by the template names a prompt pack uses (the file names of the paper's
 * prompt directories, so a pack directory can replace any of them). Critique templates are Python
 * format strings over the fields listed in docs/prompt-packs.md; they ask for `[RESULT] N` so any
 * critic, constrained or not, can be read.
 */

const CRITIQUE_RULES = `Work in two steps:
1. Write short, specific feedback judged only against the rubric below, not your general taste.
2. Give a score, an integer from 1 to 5, taken from the rubric.
Reply on one line in exactly this form: "Feedback: <your feedback> [RESULT] <score>". Add nothing before or after it, and keep the feedback under 120 words.`;

const PRINCIPLE_GEN = `You write guiding principles for answering one specific question well. A principle is a short, high-level rule that a good answer should follow in this situation: what to take into account, what to avoid, whose interests matter. Principles steer an answer; they are not the answer, so do not answer the question yourself. Write a short numbered list, at most 120 words in all, with no preamble and no closing remarks. When writing principles, follow these examples:`;

const REAPPRAISAL_PRINCIPLE_GEN = `You write guiding principles for a supportive reply to a person describing a difficult situation. You are given their post and the goal the reply must reach. Each principle is a short, high-level rule for how a reply can help the person see the situation differently (cognitive reappraisal) while staying empathetic, honest and safe. Principles steer the reply; they are not the reply, so do not write it yourself. Write a short numbered list, at most 120 words in all, with no preamble and no closing remarks. When writing principles, follow these examples:`;

const PRINCIPLE_REFINE = `You improve a set of guiding principles. You are given a question, the current principles and a reviewer's feedback on them. Rewrite the principles so that they address the feedback while keeping what already works. Reply with the revised principles only: a short numbered list of at most 120 words, with no preamble and no closing remarks.`;

const PRINCIPLE_CRITIQUE = `You review guiding principles written for a question. ${CRITIQUE_RULES}

Question:
{orig_question}

Principles to review:
{orig_principle}

Rubric: Are these principles specific to this question and useful for writing an excellent answer to it?
Score 1: The principles are irrelevant, generic or would lead to a harmful or unhelpful answer.
Score 2: The principles touch the question but miss its main needs or are too vague to act on.
Score 3: The principles are relevant and usable but leave out important considerations.
Score 4: The principles are specific, relevant and actionable, with only minor gaps.
Score 5: The principles are specific, complete and clearly actionable; an answer following them would be excellent.`;

const REAPPRAISAL_PRINCIPLE_CRITIQUE = `You review guiding principles written for a supportive reply to a person's post. ${CRITIQUE_RULES}

Post:
{orig_question}

Goal of the reply:
{response_goal}

Principles to review:
{orig_principle}

Rubric: Would a reply that follows these principles reach the goal for this person, with empathy and without harm?
Score 1: The principles ignore the goal or the person's situation, or could cause harm.
Score 2: The principles are generic and would barely move the reply toward the goal.
Score 3: The principles serve the goal in part but miss important aspects of the person's situation.
Score 4: The principles are specific to the person and serve the goal well, with minor gaps.
Score 5: The principles are specific, empathetic and fully aimed at the goal.`;

const RESPONSE_GEN = `You answer questions by following a given set of principles closely. You are given a question and the principles that should guide the answer. Write the answer only, with no preamble and no closing remarks, in at most 120 words.`;

const REAPPRAISAL_RESPONSE_GEN = `You help people reappraise a difficult situation they describe. You are given their post and the principles a reply should follow. Write a warm, concise reply that follows the principles closely, in at most 120 words, with no preamble and no closing remarks.`;

const RESPONSE_REFINE = `You improve an answer using a reviewer's feedback. You are given the question, the current answer and the feedback (and, when available, the principles the answer should follow). Revise the answer so that it addresses the feedback, staying close to the original where it is already good. Reply with the revised answer only, in at most 120 words.`;

const RESPONSE_CRITIQUE = `You review an answer that was meant to follow a set of principles. ${CRITIQUE_RULES}

Question:
{orig_question}

Principles the answer should follow:
{orig_principle}

Answer to review:
{orig_response}

Rubric: Does the answer follow the principles and answer the question well?
Score 1: The answer ignores the principles or fails to answer the question.
Score 2: The answer follows few of the principles or answers poorly.
Score 3: The answer follows the principles in part and answers adequately.
Score 4: The answer follows the principles well and answers the question well, with minor gaps.
Score 5: The answer follows every principle and answers the question excellently.`;

const RUBRIC_GEN = `You write a scoring rubric for judging answers to one specific input. The rubric states one criterion, phrased as a question about the answer, and describes what an answer scoring 1, 2, 3, 4 and 5 looks like for this input. Make it specific to the input yet general enough to grade any answer to it. Reply with a Python dictionary only, with the keys "criteria", "score1_description", "score2_description", "score3_description", "score4_description" and "score5_description", and nothing else. When writing the rubric, follow these examples:`;

const RUBRIC_REFINE = `You improve a scoring rubric using a reviewer's feedback. You are given the input being graded, the current rubric and the feedback. Reply with the revised rubric only, as a Python dictionary with the keys "criteria" and "score1_description" to "score5_description", and nothing else.`;

const RUBRIC_CRITIQUE = `You review a scoring rubric written for judging answers to one input. ${CRITIQUE_RULES}

Input:
{orig_input}

Rubric to review:
{orig_rubric}

Rubric for your review: Is this rubric specific to the input, clear, and able to separate answers of different quality?
Score 1: The rubric is unrelated to the input or unusable.
Score 2: The rubric is generic; its levels are vague or overlap.
Score 3: The rubric fits the input, but some levels are unclear or miss key aspects.
Score 4: The rubric is specific and its levels are clear and distinct, with minor gaps.
Score 5: The rubric is specific, complete and its levels separate answers cleanly.`;

export const BUILTIN_PROMPTS: Readonly<Record<string, Readonly<Record<string, string>>>> = Object.freeze({
  sft: {
    "instruct-stage1_01-principle_gen.txt": PRINCIPLE_GEN,
    "instruct-stage1_02-principle_critique.txt": PRINCIPLE_CRITIQUE,
    "instruct-stage1_02-principle_refinement.txt": PRINCIPLE_REFINE,
    "instruct-stage2_01-gen_init_responses.txt": RESPONSE_GEN,
    "instruct-stage2_02-response_critique.txt": RESPONSE_CRITIQUE,
    "instruct-stage2_02-response_refinement.txt": RESPONSE_REFINE,
  },
  reappraisal: {
    "instruct-stage1_01-principle_gen.txt": REAPPRAISAL_PRINCIPLE_GEN,
    "instruct-stage1_02-principle_critique.txt": REAPPRAISAL_PRINCIPLE_CRITIQUE,
    "instruct-stage1_02-principle_refinement.txt": PRINCIPLE_REFINE,
    "instruct-stage2_01-gen_init_responses.txt": REAPPRAISAL_RESPONSE_GEN,
    "instruct-stage2_02-response_critique.txt": RESPONSE_CRITIQUE,
    "instruct-stage2_02-response_refinement.txt": RESPONSE_REFINE,
  },
  rubric: {
    "instruct-stage1_01-rubric_gen.txt": RUBRIC_GEN,
    "instruct-stage1_02-rubric_critique.txt": RUBRIC_CRITIQUE,
    "instruct-stage1_02-rubric_refinement.txt": RUBRIC_REFINE,
  },
});
