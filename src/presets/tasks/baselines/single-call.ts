/**
 * The four one-call Task 3 baselines (spec §5): direct answer, Self-Instruct, Self-Align and seed
 * principles. Each sends [system = its template as is, user = the question in its frame] to the base
 * model once and writes the cleaned answer and the messages under the reference's field names.
 */
import type { ItemAlgorithm } from "../../../algorithms/contract/item-algorithm.ts";
import { ModelCaller } from "../../../algorithms/contract/model-caller.ts";
import type { TaskItem } from "../../../algorithms/contract/task-item.ts";
import { BASELINE_TEMPLATE_NAMES } from "../../../io/prompts/builtin-baselines.ts";
import { pyStrip } from "../../../base/util/python.ts";
import { type BaselineSettings, system, user } from "./common.ts";

export type SingleCallBaseline = "baseline-direct" | "baseline-self-instruct" | "baseline-self-align" | "baseline-seed-principles";

export interface SingleCallSpec {
  /** The system prompt's template name. */
  template: string;
  /** The user message for a question. */
  user(question: string): string;
  /** The output field; the messages go to `${field}_prompt`. */
  field: string;
}

/** `### Question: q\n\n### Response:`: the direct baseline and self-refine's first turn. */
export function directUser(question: string): string {
  return `### Question: ${question}\n\n### Response:`;
}

export const SINGLE_CALL_BASELINES: Readonly<Record<SingleCallBaseline, SingleCallSpec>> = Object.freeze({
  "baseline-direct": {
    template: BASELINE_TEMPLATE_NAMES.direct,
    user: directUser,
    field: "baseline-direct_response",
  },
  // Python's `user_input.strip()` in the reference, hence pyStrip.
  "baseline-self-instruct": {
    template: BASELINE_TEMPLATE_NAMES.selfInstruct,
    user: (q) => `Task: ${pyStrip(q)}\nOutput:`,
    field: "self-instruct_response",
  },
  "baseline-self-align": {
    template: BASELINE_TEMPLATE_NAMES.selfAlign,
    user: (q) => `User: ${q}`,
    field: "baseline-[self-align]_response",
  },
  "baseline-seed-principles": {
    template: BASELINE_TEMPLATE_NAMES.seedPrinciples,
    user: (q) => `User Input: ${pyStrip(q)}\nResponse:`,
    field: "[6-seed-principles]_response",
  },
});

export function singleCallAlgorithm(task: SingleCallBaseline, settings: BaselineSettings): ItemAlgorithm {
  const spec = SINGLE_CALL_BASELINES[task];
  return {
    name: `baseline/${task.slice("baseline-".length)}`,
    calls: { min: 1, expected: 1, max: 1, criticShare: 0 },
    async run(item: TaskItem, models, context) {
      const caller = new ModelCaller(context, settings.compat);
      const messages = [system(settings.pack.get(spec.template)), user(spec.user(item.question))];
      const { text } = await caller.call({
        model: models.base,
        role: "base",
        step: "baseline.generate",
        iteration: 0,
        messages,
        sampling: settings.sampling,
      });
      return { fields: { [spec.field]: text, [`${spec.field}_prompt`]: messages }, calls: caller.calls };
    },
  };
}
