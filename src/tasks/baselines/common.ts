/**
 * What the Task 3 baselines share: their settings, the built-in prompt pack, and base-model calls
 * that are traced and cleaned the way SPRI cleans its outputs.
 */
import type { SpriModels } from "../../algorithm/item-algorithm.ts";
import { type CallContext, ModelCaller } from "../../algorithm/model-caller.ts";
import type { CallRecord } from "../../io/records.ts";
import type { ChatMessage, SamplingOptions } from "../../models/language-model.ts";
import { BUILTIN_BASELINE_PROMPTS } from "../../prompts/builtin-baselines.ts";
import type { PromptPack } from "../../prompts/prompt-pack.ts";
import { ConfigError } from "../../errors/errors.ts";
import { type CompatOptions, isGptModel } from "../../spri/compat.ts";
import { pythonClean, saneClean } from "../../util/python.ts";

export interface BaselineSettings {
  pack: PromptPack;
  compat: CompatOptions;
  /** The base model's sampling (the paper's: T 0.7, top-k 50, top-p 0.95, 2,048 new tokens). */
  sampling: SamplingOptions;
  /** Self-refine: a feedback score at or above it stops the item (reference: 4). */
  threshold: number;
  /** Self-refine: most feedback rounds, each followed by a refinement unless it stops (reference: 4). */
  maxIterations: number;
}

export function system(content: string): ChatMessage {
  return { role: "system", content };
}

export function user(content: string): ChatMessage {
  return { role: "user", content };
}

/** spri's own baseline prompts as a pack (a `--prompts` directory replaces it). */
export function builtinBaselinePack(): PromptPack {
  return {
    description: "built-in (baselines)",
    has: (name) => name in BUILTIN_BASELINE_PROMPTS,
    get(name) {
      const text = BUILTIN_BASELINE_PROMPTS[name];
      if (text === undefined) throw new ConfigError(`the built-in baseline prompts have no template ${name}`);
      return text;
    },
  };
}

/**
 * Base-model calls for one item: every call traced, outputs cleaned as `compat.outputStrip` says.
 * A request identical to an earlier one of the item (e.g. the self-refine feedback prompt, which
 * repeats on every turn under `selfRefineFeedbackOnTurn0`) asks for a new sample: `ModelCaller` gives
 * it the next `sampleIndex`, so a call cache does not answer it with the earlier answer.
 */
export class BaseCaller {
  readonly clean: (text: string) => string;
  private readonly models: SpriModels;
  private readonly caller: ModelCaller;
  private readonly sampling: SamplingOptions;

  constructor(models: SpriModels, settings: BaselineSettings, context: CallContext) {
    this.models = models;
    this.caller = new ModelCaller(context);
    this.clean = settings.compat.outputStrip === "python" ? pythonClean : saneClean;
    // As in SPRI: under `gptSampling: api-defaults`, GPT models get no sampling parameters.
    const gpt = isGptModel(models.base.modelId);
    this.sampling = settings.compat.gptSampling === "api-defaults" && gpt ? {} : settings.sampling;
  }

  /** One base-model call; returns the cleaned text and the call's record. */
  /** `parse` reads a score from the cleaned answer, recorded with the call. */
  async call(step: string, iteration: number, messages: ChatMessage[], parse?: (text: string) => CallRecord["parsed"]): Promise<{ text: string; record: CallRecord }> {
    const { raw, record } = await this.caller.call({
      model: this.models.base,
      role: "base",
      step,
      iteration,
      messages,
      sampling: this.sampling,
      parse: parse && ((raw) => parse(this.clean(raw))),
    });
    return { text: this.clean(raw), record };
  }

  get calls(): CallRecord[] {
    return this.caller.calls;
  }
}
