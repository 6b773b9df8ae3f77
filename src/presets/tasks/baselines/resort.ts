/**
 * The paper's task-1 (cognitive reappraisal) baselines, as its RESORT pipeline runs them, as item
 * algorithms (`spri run --task resort-…`). Two scripts, four modes each:
 *
 * - INDV (one reappraisal): `vanilla` asks for a reappraisal of the post; `+cons` adds the guidance
 *   (expert constitution) of the item's dimension; `+appr` first asks the dimension's appraisal
 *   question, then, in the same conversation, for a reappraisal based on it; `+appr_+cons` the same
 *   with the guidance.
 * - ITER (a chain over the script's dimensions, 1, 4, 6, 7, 8, 23 as released): `self-refine`
 *   asks once, then asks to revise the previous answer at each later step; `+cons` (the paper's
 *   "oracle principles") revises under each dimension's guidance in turn; `+appr` appraises each
 *   dimension and revises from the appraisal; `+appr_+cons` does both, two revisions per dimension.
 *
 * Each conversation is the pipeline's chat agent: a system message opens it, each further turn of
 * the same conversation adds a user message (no system message), and it is reset between steps.
 * Answers are used and stored as the model returned them, as the pipeline does (it never strips
 * them). Field names are the pipeline's; `response_final` is what the paper's selection notebooks
 * add: the one reappraisal (INDV), the last step (self-refine) or the step of the item's own
 * dimension (the other ITER modes).
 */
import type { ItemAlgorithm } from "../../../algorithms/contract/item-algorithm.ts";
import { ModelCaller } from "../../../algorithms/contract/model-caller.ts";
import type { TaskItem } from "../../../algorithms/contract/task-item.ts";
import { InputError } from "../../../base/errors/errors.ts";
import type { ItemRecord } from "../../../io/records.ts";
import type { ChatMessage, LanguageModel, SamplingOptions } from "../../../models/language-model.ts";
import type { ResortPrompts, ResortScript } from "../../../io/prompts/resort-pack.ts";
import type { CompatOptions } from "../../../algorithms/spri/compat.ts";
import type { ResortTaskName } from "../task-item.ts";

export type { ResortTaskName };

/** Each task's script and experiment mode, as the pipeline names them. */
export const RESORT_TASKS: Readonly<Record<ResortTaskName, { script: ResortScript; mode: string }>> = Object.freeze({
  "resort-vanilla": { script: "INDV", mode: "vanilla" },
  "resort-appr": { script: "INDV", mode: "+appr" },
  "resort-cons": { script: "INDV", mode: "+cons" },
  "resort-appr-cons": { script: "INDV", mode: "+appr_+cons" },
  "resort-self-refine": { script: "ITER", mode: "self-refine" },
  "resort-iter-appr": { script: "ITER", mode: "+appr" },
  "resort-iter-cons": { script: "ITER", mode: "+cons" },
  "resort-iter-appr-cons": { script: "ITER", mode: "+appr_+cons" },
});

export interface ResortSettings {
  prompts: ResortPrompts;
  compat: CompatOptions;
  /** Sent with every call (the pipeline's: temperature 0.7, 512 new tokens, seed 42). */
  sampling: SamplingOptions;
}

/** The pipeline's chat agent over one item's model caller: a conversation, reset between steps. */
class Conversation {
  private history: ChatMessage[] = [];
  private step = 0;
  private readonly caller: ModelCaller;
  private readonly model: LanguageModel;
  private readonly sampling: SamplingOptions;

  constructor(caller: ModelCaller, model: LanguageModel, sampling: SamplingOptions) {
    this.caller = caller;
    this.model = model;
    this.sampling = sampling;
  }

  /** Sends the conversation so far plus `user` (after `system`, when given); returns what was sent and the raw answer. */
  async chat(name: string, system: string | null, user: string): Promise<{ messages: ChatMessage[]; output: string }> {
    if (system !== null) this.history.push({ role: "system", content: system });
    this.history.push({ role: "user", content: user });
    const messages = [...this.history];
    const { raw } = await this.caller.call({
      model: this.model,
      role: "base",
      step: `resort.${name}`,
      iteration: this.step++,
      messages,
      sampling: this.sampling,
    });
    this.history.push({ role: "assistant", content: raw });
    return { messages, output: raw };
  }

  reset(): void {
    this.history = [];
  }
}

/** The item's appraisal dimension (`appraisal_dimension_id`), an integer. */
function dimensionOf(item: TaskItem): number {
  const id = Number(item.domain);
  if (item.domain === undefined || !Number.isInteger(id)) {
    throw new InputError(`item ${item.id} has no integer appraisal dimension`, {
      field: "appraisal_dimension_id",
      hint: "give each row its appraisal_dimension_id (or name the field with --domain-field)",
    });
  }
  return id;
}

type Steps = (post: string, item: TaskItem, chat: Conversation, p: ResortPrompts, fields: ItemRecord) => Promise<void>;

const INDIVIDUAL: Record<string, Steps> = {
  async vanilla(post, _item, chat, p, fields) {
    const { messages, output } = await chat.chat("reappraisal", p.system, p.opening!(post, ""));
    Object.assign(fields, { reappraisal_prompt: messages, reappraisal_output: output });
  },
  async "+cons"(post, item, chat, p, fields) {
    const dim = dimensionOf(item);
    const { messages, output } = await chat.chat("reappraisal", p.system, p.opening!(post, p.guidance(dim)));
    Object.assign(fields, { [`reappraisal_prompt_dim_${dim}`]: messages, [`reappraisal_output_dim_${dim}`]: output });
  },
  "+appr": (post, item, chat, p, fields) => appraiseThenReappraise(post, dimensionOf(item), chat, p, fields, ""),
  "+appr_+cons": (post, item, chat, p, fields) => {
    const dim = dimensionOf(item);
    return appraiseThenReappraise(post, dim, chat, p, fields, p.guidance(dim));
  },
};

async function appraiseThenReappraise(
  post: string,
  dim: number,
  chat: Conversation,
  p: ResortPrompts,
  fields: ItemRecord,
  guidance: string,
) {
  const appraisal = await chat.chat("appraisal", p.system, p.appraisal(post, p.appraisalQuestion(dim)));
  fields[`appraisal_prompt_dim_${dim}`] = appraisal.messages;
  fields[`appraisal_output_dim_${dim}`] = appraisal.output;
  const reappraisal = await chat.chat("reappraisal", null, p.followUp!(guidance));
  fields[`reappraisal_prompt_dim_${dim}`] = reappraisal.messages;
  fields[`reappraisal_output_dim_${dim}`] = reappraisal.output;
}

const ITERATIVE: Record<string, Steps> = {
  async "self-refine"(post, _item, chat, p, fields) {
    let previous = "";
    for (const [i] of p.dimensions.entries()) {
      const user = previous === "" ? p.opening!(post, "") : p.refine(post, previous);
      const { messages, output } = await chat.chat(previous === "" ? "reappraisal" : "refine", p.system, user);
      chat.reset();
      Object.assign(fields, { [`intermediate_prompt_step_${i}`]: messages, [`reappraisal_output_step_${i}`]: output });
      previous = output;
    }
  },
  async "+cons"(post, _item, chat, p, fields) {
    let previous = "";
    for (const dim of p.dimensions) {
      const guidance = p.guidance(dim);
      const user = previous === "" ? p.opening!(post, guidance) : p.refineWithGuidance(post, guidance, previous);
      const { messages, output } = await chat.chat(previous === "" ? "reappraisal" : "refine", p.system, user);
      chat.reset();
      Object.assign(fields, { [`intermediate_prompt_dim_${dim}`]: messages, [`intermediate_output_dim_${dim}`]: output });
      previous = output;
    }
  },
  async "+appr"(post, _item, chat, p, fields) {
    let previous = "";
    for (const dim of p.dimensions) {
      const appraisal = await chat.chat("appraisal", p.system, p.appraisal(post, p.appraisalQuestion(dim)));
      Object.assign(fields, { [`appraisal_prompt_dim_${dim}`]: appraisal.messages, [`appraisal_output_dim_${dim}`]: appraisal.output });
      const user = previous === "" ? p.followUp!("") : p.refineWithAppraisal(post, appraisal.output, previous);
      const { messages, output } = await chat.chat(previous === "" ? "reappraisal" : "refine", null, user);
      chat.reset();
      Object.assign(fields, { [`intermediate_prompt_dim_${dim}`]: messages, [`intermediate_output_dim_${dim}`]: output });
      previous = output;
    }
  },
  async "+appr_+cons"(post, _item, chat, p, fields) {
    let previous = "";
    for (const dim of p.dimensions) {
      const guidance = p.guidance(dim);
      const appraisal = await chat.chat("appraisal", p.system, p.appraisal(post, p.appraisalQuestion(dim)));
      Object.assign(fields, { [`appraisal_question_dim_${dim}`]: appraisal.messages, [`appraisal_output_dim_${dim}`]: appraisal.output });
      // The pipeline records this step's prompt as the question text alone, not the conversation.
      const question = previous === "" ? p.followUp!(guidance) : p.refineWithAppraisal(post, appraisal.output, previous);
      const half = await chat.chat("refine-appraisal", null, question);
      chat.reset();
      Object.assign(fields, { [`intermediate_prompt_.5_dim_${dim}`]: question, [`intermediate_output_.5_dim_${dim}`]: half.output });
      const { messages, output } = await chat.chat("refine", p.system, p.refineWithGuidance(post, guidance, half.output));
      chat.reset();
      Object.assign(fields, { [`intermediate_prompt_dim_${dim}`]: messages, [`intermediate_output_dim_${dim}`]: output });
      previous = output;
    }
  },
};

/** The field the selection notebooks copy into `response_final`. */
function finalField(task: ResortTaskName, item: TaskItem, fields: ItemRecord): string {
  const { script, mode } = RESORT_TASKS[task];
  if (script === "INDV")
    return Object.keys(fields)
      .filter((key) => key.includes("reappraisal_output"))
      .at(-1)!;
  if (mode === "self-refine")
    return Object.keys(fields)
      .filter((key) => key.startsWith("reappraisal_output_step_"))
      .at(-1)!;
  const field = `intermediate_output_dim_${dimensionOf(item)}`;
  if (!(field in fields)) {
    throw new InputError(`item ${item.id}: its appraisal dimension ${item.domain} is not among the chain's dimensions`, {
      field: "appraisal_dimension_id",
      hint: "the iterative baselines answer for one of the dimensions they walk through",
    });
  }
  return field;
}

/** Calls per item: INDV 1 (2 with an appraisal); ITER one per dimension, two with an appraisal, three with both. */
function callCount(task: ResortTaskName, dimensions: number): number {
  const { script, mode } = RESORT_TASKS[task];
  const perStep = mode === "+appr_+cons" ? 3 : mode === "+appr" ? 2 : 1;
  return script === "INDV" ? Math.min(perStep, 2) : perStep * dimensions;
}

export function resortAlgorithm(task: ResortTaskName, settings: ResortSettings): ItemAlgorithm {
  const { script, mode } = RESORT_TASKS[task];
  const steps = (script === "INDV" ? INDIVIDUAL : ITERATIVE)[mode]!;
  const n = callCount(task, settings.prompts.dimensions.length);
  // The pipeline sends its own sampling to GPT models too: no compat switch replaces it.
  const compat = { ...settings.compat, gptSampling: "configured" as const };
  return {
    name: `resort/${script}/${mode}`,
    calls: { min: n, expected: n, max: n, criticShare: 0 },
    async run(item, models, context) {
      const caller = new ModelCaller(context, compat);
      const fields: ItemRecord = {};
      if (script === "INDV" && mode !== "vanilla") dimensionOf(item);
      await steps(item.question, item, new Conversation(caller, models.base, settings.sampling), settings.prompts, fields);
      fields.response_final = fields[finalField(task, item, fields)];
      return { fields, calls: caller.calls };
    },
  };
}
