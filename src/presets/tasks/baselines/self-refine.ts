/**
 * The Self-Refine baseline of Task 3 (Madaan et al., 2023; spec §5): the base model answers (turn 0,
 * the direct baseline's prompt), then up to `maxIterations` times it grades an answer on a 1–5 scale
 * and, unless the grade reaches the threshold, rewrites the latest answer from that feedback. The
 * final answer is the last refinement, which is never graded. No critic: every call is the base
 * model's.
 *
 * Loop control, per item, for t = 1..maxIterations:
 *   1. feedback-[turn_t] grades the latest answer (turn t-1), or, under the compat switch
 *      `selfRefineFeedbackOnTurn0` (on with `--compat reference`), always turn 0, as the reference
 *      does by accident;
 *   2. a score ≥ threshold stops the item; an unscored feedback does NOT stop it (as in the
 *      reference, whose regex simply finds no match and the loop goes on);
 *   3. self-refine_response-[turn_t] rewrites turn t-1 from feedback t and becomes the final.
 * So an item gets at most maxIterations feedbacks and maxIterations refinements.
 *
 * Scores: `scoreParser: reference` reads the reference script's own regex `\[?RESULT\]?:\s*([1-5])`
 * (a colon is required, so `[RESULT] 4` does not stop the loop; the first match counts); by default
 * the project's strict critic-score parser reads the last `[RESULT]`, with or without the colon (or
 * the last of the other markers), checked against the 1–5 scale.
 */
import type { ItemAlgorithm } from "../../../algorithms/contract/item-algorithm.ts";
import { ModelCaller } from "../../../algorithms/contract/model-caller.ts";
import type { TaskItem } from "../../../algorithms/contract/task-item.ts";
import type { CallRecord, ItemRecord } from "../../../io/records.ts";
import type { ChatMessage } from "../../../models/language-model.ts";
import { BASELINE_TEMPLATE_NAMES } from "../../../io/prompts/builtin-baselines.ts";
import type { CompatOptions } from "../../../algorithms/spri/compat.ts";
import { parseCritique } from "../../../algorithms/spri/critic-score.ts";
import { type BaselineSettings, system, user } from "./common.ts";
import { directUser } from "./single-call.ts";

export const SELF_REFINE_TEMPLATES = [
  BASELINE_TEMPLATE_NAMES.direct,
  BASELINE_TEMPLATE_NAMES.selfRefineFeedback,
  BASELINE_TEMPLATE_NAMES.selfRefineRefine,
] as const;

/** Python's `\s` (str patterns): JS `\s` without U+FEFF, plus U+001C–U+001F and U+0085. */
const PY_SPACE = String.raw`[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]`;
/** The reference script's score regex, `re.search(r"\[?RESULT\]?:\s*([1-5])", feedback)`. */
const REFERENCE_RESULT = new RegExp(String.raw`\[?RESULT\]?:${PY_SPACE}*([1-5])`);

export interface FeedbackScore {
  score: number | null;
  marker: string | null;
}

/** Reads a self-refine feedback's score; null when unscored. */
export function readFeedbackScore(feedback: string, compat: Pick<CompatOptions, "scoreParser">): FeedbackScore {
  if (compat.scoreParser === "reference") {
    const match = REFERENCE_RESULT.exec(feedback);
    return match ? { score: Number.parseInt(match[1]!, 10), marker: "[RESULT]:" } : { score: null, marker: null };
  }
  const parsed = parseCritique(feedback, { mode: "strict" });
  return { score: parsed.score, marker: parsed.marker };
}

export function feedbackUser(question: string, response: string): string {
  return `### Question: ${question}\n\n### Response: ${response}\n\n### Feedback:`;
}

export function refineUser(question: string, response: string, feedback: string): string {
  return `### Question: ${question}\n\n### Original Response: ${response}\n\n### Feedback: ${feedback}\n\n### Refined Response:`;
}

const TURN = (t: number) => `self-refine_response-[turn_${t}]`;
const FEEDBACK = (t: number) => `feedback-[turn_${t}]`;
/** The field holding the last turn: the baseline's answer. */
export const SELF_REFINE_FINAL_FIELD = "self-refine_response-[final]";
const FINAL = SELF_REFINE_FINAL_FIELD;

/**
 * Calls per item: turn 0, then per round a feedback and, unless it accepts, a refinement; so 2 at
 * least and 1 + 2·maxIterations at most. The expectation assumes each feedback accepts with
 * probability 1/2 (an assumption, not a measurement): 3.8 calls for 4 rounds.
 */
export function selfRefineCallEstimate(maxIterations: number): NonNullable<ItemAlgorithm["calls"]> {
  let expected = 1;
  for (let t = 1; t <= maxIterations; t++) expected += 0.5 ** (t - 1) + 0.5 ** t;
  return { min: 2, expected: Math.round(expected * 100) / 100, max: 1 + 2 * maxIterations, criticShare: 0 };
}

export function selfRefineAlgorithm(settings: BaselineSettings): ItemAlgorithm {
  const { pack, compat, threshold, maxIterations } = settings;
  return {
    name: "baseline/self-refine",
    calls: selfRefineCallEstimate(maxIterations),
    async run(item: TaskItem, models, context) {
      // The feedback prompt recurs on every turn under `selfRefineFeedbackOnTurn0`: each repeat is a
      // new sample (the caller numbers it), not the cached earlier answer.
      const caller = new ModelCaller(context, compat);
      const call = (step: string, iteration: number, messages: ChatMessage[], parse?: (text: string) => CallRecord["parsed"]) =>
        caller.call({ model: models.base, role: "base", step, iteration, messages, sampling: settings.sampling, parse });
      const q = item.question;

      const firstMessages = [system(pack.get(BASELINE_TEMPLATE_NAMES.direct)), user(directUser(q))];
      const { text: first } = await call("self-refine.generate", 0, firstMessages);
      // Insertion order as the reference writes it: turn 0, its prompt, the final (updated in place).
      const fields: ItemRecord = { [TURN(0)]: first, [`${TURN(0)}_prompt`]: firstMessages, [FINAL]: first };

      let latest = first;
      for (let t = 1; t <= maxIterations; t++) {
        const judged = compat.selfRefineFeedbackOnTurn0 ? first : latest;
        const feedbackMessages = [system(pack.get(BASELINE_TEMPLATE_NAMES.selfRefineFeedback)), user(feedbackUser(q, judged))];
        const { text: feedback } = await call("self-refine.feedback", t, feedbackMessages, (text) => readFeedbackScore(text, compat));
        const { score } = readFeedbackScore(feedback, compat);
        fields[FEEDBACK(t)] = feedback;
        fields[`${FEEDBACK(t)}_prompt`] = feedbackMessages;
        if (score !== null && score >= threshold) break;

        const refineMessages = [system(pack.get(BASELINE_TEMPLATE_NAMES.selfRefineRefine)), user(refineUser(q, latest, feedback))];
        const { text: refined } = await call("self-refine.refine", t, refineMessages);
        fields[TURN(t)] = refined;
        fields[`${TURN(t)}_prompt`] = refineMessages;
        fields[FINAL] = refined;
        latest = refined;
      }
      return { fields, calls: caller.calls };
    },
  };
}
