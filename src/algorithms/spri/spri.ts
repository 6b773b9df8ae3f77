/**
 * Algorithm 1 of the SPRI paper for one input. Stage 1 drafts principles with the base model and
 * refines them under the critic; stage 2 writes a response under the final principles and refines
 * it the same way. Pure orchestration over the model port: prompts come from `SpriSteps`, which a
 * task builds for the item.
 */
import type { SpriModels } from "../contract/item-algorithm.ts";
import { type CallAnswer, type CallContext, isGptModel, ModelCaller } from "../contract/model-caller.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { ChatMessage, OutputSchema, SamplingOptions } from "../../models/language-model.ts";
import { type CompatOptions, DEFAULT_COMPAT } from "./compat.ts";
import { CRITIC_SCALE, critiqueSchema, parseCritique } from "./critic-score.ts";
import { type Critique, type LoopOutcome, type Refinement, refineUntilAccepted } from "./refine-loop.ts";

/** The prompts of the six SPRI steps, bound to one item. */
export interface SpriSteps {
  principleDraft(): ChatMessage[];
  principleCritique(principles: string): ChatMessage[];
  principleRefine(principles: string, feedback: string): ChatMessage[];
  responseDraft(principles: string): ChatMessage[];
  responseCritique(principles: string, response: string): ChatMessage[];
  responseRefine(principles: string, response: string, feedback: string): ChatMessage[];
}

export interface UnscoredPolicy {
  /** `stop`: end the stage, as the paper does. `retry`: ask the critic again, up to `retries` times. */
  policy: "stop" | "retry";
  retries: number;
}

export interface SpriSettings {
  threshold: number;
  maxCritiques: number;
  baseSampling: SamplingOptions;
  criticSampling: SamplingOptions;
  unscored: UnscoredPolicy;
  compat: CompatOptions;
  /** `principles` runs stage 1 only (e.g. rubric generation). */
  stages: "both" | "principles";
  /**
   * Stage-2 base calls (the response draft and its refinements), where they differ from stage 1's:
   * `spri judge` grades deterministically while its rubrics are sampled. `schema` is asked of base
   * models that can enforce one. GPT models still get the API defaults under `gptSampling`.
   */
  responseCalls?: { sampling?: SamplingOptions; schema?: OutputSchema };
}

/** Paper defaults: τ = 4, n_max = 4, temperature 0.7, top-k 50, top-p 0.95, 2,048 new tokens. */
export const PAPER_SAMPLING: Readonly<SamplingOptions> = Object.freeze({
  temperature: 0.7,
  topP: 0.95,
  topK: 50,
  maxTokens: 2048,
});

/**
 * What a critic that can constrain its output is asked to follow; one object for every critique,
 * so the stores' per-schema texts are made once (see store-rows.ts).
 */
const CRITIQUE_SCHEMA: OutputSchema = Object.freeze({ name: "critique", schema: critiqueSchema(CRITIC_SCALE) });

export const DEFAULT_SETTINGS: Readonly<SpriSettings> = Object.freeze<SpriSettings>({
  threshold: 4,
  maxCritiques: 4,
  baseSampling: PAPER_SAMPLING,
  criticSampling: PAPER_SAMPLING,
  unscored: { policy: "stop", retries: 0 },
  compat: DEFAULT_COMPAT,
  stages: "both",
});

export interface StageResult {
  draft: string;
  draftMessages: ChatMessage[];
  outcome: LoopOutcome;
}

export interface SpriResult {
  principles: StageResult;
  response?: StageResult;
  /** The SPRI fields of the output record, in the reference's order. */
  fields: ItemRecord;
  calls: CallRecord[];
}

export async function runSpri(steps: SpriSteps, models: SpriModels, settings: SpriSettings, context: CallContext): Promise<SpriResult> {
  const caller = new ModelCaller(context, settings.compat);
  const run = new StepRunner(models, settings, caller);

  const principles = await run.stage("principle", () => steps.principleDraft(), {
    critique: (text) => steps.principleCritique(text),
    refine: (text, feedback) => steps.principleRefine(text, feedback),
  });
  let response: StageResult | undefined;
  if (settings.stages === "both") {
    const finalPrinciples = principles.outcome.final;
    response = await run.stage("response", () => steps.responseDraft(finalPrinciples), {
      critique: (text) => steps.responseCritique(finalPrinciples, text),
      refine: (text, feedback) => steps.responseRefine(finalPrinciples, text, feedback),
    });
  }
  const unscoredMessage = settings.compat.scoreParser === "reference" ? REFERENCE_UNSCORED_MESSAGE : UNSCORED_MESSAGE;
  return { principles, response, fields: recordFields(principles, response, unscoredMessage), calls: caller.calls };
}

type StageName = "principle" | "response";

/**
 * The six steps over one `ModelCaller`, which applies the calling compat switches (output
 * cleaning, GPT API-default sampling, schemas only where enforced). What stays here is the loop's
 * own switch: under `rawRefinementText`, the running text of a refinement is its raw answer.
 */
class StepRunner {
  private readonly keepRawRefinement: boolean;
  private readonly responseSampling: SamplingOptions;
  private readonly models: SpriModels;
  private readonly settings: SpriSettings;
  private readonly caller: ModelCaller;

  constructor(models: SpriModels, settings: SpriSettings, caller: ModelCaller) {
    this.models = models;
    this.settings = settings;
    this.caller = caller;
    this.keepRawRefinement = settings.compat.rawRefinementText === "non-gpt-models" && !isGptModel(models.base.modelId);
    this.responseSampling = settings.responseCalls?.sampling ?? settings.baseSampling;
  }

  async stage(
    name: StageName,
    draftMessages: () => ChatMessage[],
    prompts: { critique(text: string): ChatMessage[]; refine(text: string, feedback: string): ChatMessage[] },
  ): Promise<StageResult> {
    const messages = draftMessages();
    const { text: draft } = await this.base(name, `${name}.generate`, 0, messages);
    const outcome = await refineUntilAccepted(
      draft,
      {
        critique: (text, k) => this.critique(name, k, prompts.critique(text)),
        refine: (text, feedback, k) => this.refine(name, k, prompts.refine(text, feedback)),
      },
      { threshold: this.settings.threshold, maxCritiques: this.settings.maxCritiques },
    );
    return { draft, draftMessages: messages, outcome };
  }

  private base(stage: StageName, step: string, iteration: number, messages: ChatMessage[]): Promise<CallAnswer> {
    const response = stage === "response";
    return this.caller.call({
      model: this.models.base,
      role: "base",
      step,
      iteration,
      messages,
      sampling: response ? this.responseSampling : this.settings.baseSampling,
      schema: response ? this.settings.responseCalls?.schema : undefined,
    });
  }

  private async refine(name: StageName, k: number, messages: ChatMessage[]): Promise<Refinement> {
    const { raw, text } = await this.base(name, `${name}.refine`, k, messages);
    return { text, running: this.keepRawRefinement ? raw : text, messages };
  }

  private async critique(name: StageName, k: number, messages: ChatMessage[]): Promise<Critique> {
    const { compat, unscored } = this.settings;
    const schema = compat.criticOutput === "auto" ? CRITIQUE_SCHEMA : undefined;
    const attempts = unscored.policy === "retry" ? 1 + unscored.retries : 1;
    const read = (text: string) => parseCritique(text, { mode: compat.scoreParser, feedbackSplit: compat.feedbackSplit });
    let critique: Critique | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const { text } = await this.caller.call({
        model: this.models.critic,
        role: "critic",
        step: `${name}.critique`,
        iteration: k,
        attempt,
        messages,
        sampling: this.settings.criticSampling,
        schema,
        parse: (answer) => {
          const { score, marker } = read(answer);
          return { score, marker };
        },
      });
      const { score, feedback } = read(text);
      critique = { text, score, feedback, messages };
      if (score !== null) break;
    }
    return critique!;
  }
}

const UNSCORED_MESSAGE = "unscored: no score could be read from the critique";
/** What the reference writes there: Python's TypeError from comparing None with τ. */
const REFERENCE_UNSCORED_MESSAGE = "'>=' not supported between instances of 'NoneType' and 'int'";

/** The reference's record layout (spec §4.3): finals keep the position where they were first set. */
function recordFields(principles: StageResult, response: StageResult | undefined, unscoredMessage: string): ItemRecord {
  const fields: ItemRecord = {
    principle_raw: principles.draft,
    principle_raw_prompt: principles.draftMessages,
  };
  writeLoop(
    fields,
    principles.outcome,
    {
      count: "iteration_principle",
      final: "principle_final",
      critique: "principles_critique_iter_",
      refined: "principle_refined_iter_",
      error: "error_in_principle_critique_iter_",
      critiqueFinal: "principles_critique_final",
    },
    unscoredMessage,
  );
  if (response) {
    fields.init_response = response.draft;
    fields.init_response_prompt = response.draftMessages;
    writeLoop(
      fields,
      response.outcome,
      {
        count: "iteration_response",
        final: "response_final",
        critique: "response_critique_iter_",
        refined: "response_refined_iter_",
        error: "error_in_response_critique_iter_",
        critiqueFinal: "response_critique_final",
      },
      unscoredMessage,
    );
  }
  fields.principles_critique_scores = principles.outcome.iterations.map((it) => it.critique.score);
  if (response) fields.response_critique_scores = response.outcome.iterations.map((it) => it.critique.score);
  return fields;
}

interface LoopFieldNames {
  count: string;
  final: string;
  critique: string;
  refined: string;
  error: string;
  critiqueFinal: string;
}

function writeLoop(fields: ItemRecord, outcome: LoopOutcome, names: LoopFieldNames, unscoredMessage: string): void {
  fields[names.count] = outcome.iterations.length;
  fields[names.final] = outcome.final;
  for (const { k, critique, refinement } of outcome.iterations) {
    fields[`${names.critique}${k}`] = critique.text;
    fields[`${names.critique}${k}_prompt`] = critique.messages;
    if (refinement) {
      fields[`${names.refined}${k}`] = refinement.text;
      fields[`${names.refined}${k}_prompt`] = refinement.messages;
    } else if (critique.score === null) {
      fields[`${names.error}${k}`] = unscoredMessage;
    }
  }
  const last = outcome.iterations.at(-1);
  if (last && last.critique.score !== null) fields[names.critiqueFinal] = last.critique.text;
}
