/**
 * What the baseline rubric sources of `spri judge` share (spec §6.3): their templates, the judge's
 * calls for one row, and the reference's record layout `X`, `X-score`, `X-prompt`.
 *
 * - Templates: with `--prompts` directories every template comes from them (the paper's
 *   `[task2]-BiGGenBench/prompts` files and inline strings, by file name); without, the judge's
 *   built-in prompts (grading, judge system, rubric template) and spri's own baseline prompts
 *   (src/prompts/builtin-judge-baselines.ts). Every template a source reads is resolved when the run
 *   is prepared, so a missing one is a ConfigError before any call is paid for.
 * - Calls: the base model is the judge. Judging calls sample as SPRI's judging calls do
 *   (`context.judgeSampling`: temperature `--judge-temperature` with a seed by default; under
 *   `--compat reference` the base model's sampling, and no parameters for GPT models under
 *   `gptSampling`). Each row is its own sample: the row's key goes into every call's sample index and
 *   into the seed (as for `--rubrics spri`), so a call cache never answers one row with another's.
 * - Outputs are cleaned as `compat.outputStrip` says; the score is read from the cleaned text with
 *   the judge's parser (`context.score`), and each call's trace records it.
 */
import type { SpriModels } from "../../algorithm/item-algorithm.ts";
import { type CallContext, ModelCaller } from "../../algorithm/model-caller.ts";
import { ConfigError } from "../../errors/errors.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { ChatMessage, LanguageModel, OutputSchema, SamplingOptions } from "../../models/language-model.ts";
import { BUILTIN_JUDGE_BASELINE_PROMPTS } from "../../prompts/builtin-judge-baselines.ts";
import type { PromptPack } from "../../prompts/prompt-pack.ts";
import { isGptModel } from "../../spri/compat.ts";
import { pyFormat, pyStrip, pythonClean, saneClean } from "../../util/python.ts";
import type { ParsedJudgement } from "../judge-score.ts";
import type { JudgeContext } from "../rubric-source.ts";
import { rowModels, rowSeeded } from "../spri-judge.ts";

export function system(content: string): ChatMessage {
  return { role: "system", content };
}
export function user(content: string): ChatMessage {
  return { role: "user", content };
}

/** Whether the run reads its templates from `--prompts` directories only. */
export function usesPromptDirectories(context: Pick<JudgeContext, "settings">): boolean {
  return (context.settings.prompts?.length ?? 0) > 0;
}

/**
 * The pack the baseline sources read: the run's pack, which without `--prompts` directories falls
 * back to spri's own baseline prompts for the templates the judge's built-in pack lacks.
 */
export function baselinePack(context: Pick<JudgeContext, "pack" | "settings">): PromptPack {
  const { pack } = context;
  if (usesPromptDirectories(context)) return pack;
  return {
    description: `${pack.description} + built-in (judge baselines)`,
    has: (name) => pack.has(name) || name in BUILTIN_JUDGE_BASELINE_PROMPTS,
    get(name) {
      if (pack.has(name)) return pack.get(name);
      const text = BUILTIN_JUDGE_BASELINE_PROMPTS[name];
      if (text === undefined) throw new ConfigError(`the built-in judge prompts have no template ${name}`);
      return text;
    },
  };
}

/**
 * The templates `templates()` reports for the run's own pack check: the judge's pack holds the
 * grading templates, and (with `--prompts`) the baseline's own; spri's built-in baseline prompts are
 * checked by the source itself when it builds its algorithm.
 */
export function checkedTemplates(context: Pick<JudgeContext, "settings">, judgeTemplates: readonly string[], own: readonly string[]): string[] {
  return usesPromptDirectories(context) ? [...judgeTemplates, ...own] : [...judgeTemplates];
}

/** The judge's scale as format fields, offered to every text template. */
export function scaleFields(context: Pick<JudgeContext, "options">): Record<string, string> {
  return { min_score: String(context.options.scale.min), max_score: String(context.options.scale.max) };
}

/** A text template formatted with the scale fields (the paper's templates have no fields: unchanged). */
export function scaledTemplate(pack: PromptPack, name: string, context: Pick<JudgeContext, "options">): string {
  return pyFormat(pack.get(name), scaleFields(context), name);
}

/** One JSON object per non-empty line of a `.jsonl` template. */
export function jsonlTemplate(pack: PromptPack, name: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  pack
    .get(name)
    .split("\n")
    .forEach((line, index) => {
      if (line.trim() === "") return;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw new ConfigError(`${name} line ${index + 1} is not JSON`, { line: index + 1, cause: error, hint: "write one JSON object per line" });
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ConfigError(`${name} line ${index + 1} is not a JSON object`, { line: index + 1, hint: "write one JSON object per line" });
      }
      rows.push(value as Record<string, unknown>);
    });
  if (rows.length === 0) throw new ConfigError(`${name} holds no entries`, { hint: "write one JSON object per line" });
  return rows;
}

/** FNV-1a over UTF-16 code units: a stable 32-bit hash. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export interface JudgeCall {
  /** The model's answer as returned. */
  raw: string;
  /** The answer cleaned as the source stores it. */
  text: string;
  judgement: ParsedJudgement;
  record: CallRecord;
}

/** The base model's judging calls for one row, traced, with the row's sample indices and seed. */
export class JudgeCaller {
  /** Whether the reference reached this model over OpenAI chat (its id contains "gpt"). */
  readonly gpt: boolean;
  private readonly model: LanguageModel;
  private readonly sampling: SamplingOptions;
  private readonly schema: OutputSchema | undefined;
  private readonly caller: ModelCaller;
  private readonly context: JudgeContext;

  constructor(models: SpriModels, context: JudgeContext, callContext: CallContext) {
    const key = callContext.itemId;
    this.context = context;
    this.caller = new ModelCaller(callContext);
    this.model = rowModels(models, key).base;
    this.gpt = isGptModel(models.base.modelId);
    const apiDefaults = context.compat.gptSampling === "api-defaults" && this.gpt;
    this.sampling = apiDefaults ? {} : rowSeeded(context.judgeSampling ?? context.spri.baseSampling, key);
    const schema = context.spri.responseCalls?.schema;
    this.schema = schema && this.model.capabilities.constrainedOutput ? schema : undefined;
  }

  /** The reference's clean-up (`strip("\n#").strip()`, or a plain `strip()` where `whitespaceOnly`), or ours. */
  clean(text: string, whitespaceOnly = false): string {
    if (this.context.compat.outputStrip !== "python") return saneClean(text);
    return whitespaceOnly ? pyStrip(text) : pythonClean(text);
  }

  async call(step: string, iteration: number, messages: ChatMessage[], options: { whitespaceOnly?: boolean } = {}): Promise<JudgeCall> {
    const { raw, record } = await this.caller.call({
      model: this.model,
      role: "base",
      step,
      iteration,
      messages,
      sampling: this.sampling,
      schema: this.schema,
      parse: (raw) => {
        const { score, marker } = this.context.score(this.clean(raw, options.whitespaceOnly));
        return { score, marker };
      },
    });
    const text = this.clean(raw, options.whitespaceOnly);
    const judgement = this.context.score(text);
    return { raw, text, judgement, record };
  }

  get calls(): CallRecord[] {
    return this.caller.calls;
  }
}

/** The reference's fields of one judgement: `X` (the cleaned text), `X-score`, `X-prompt` (the messages sent). */
export function judgementFields(field: string, call: Pick<JudgeCall, "text" | "judgement">, messages: ChatMessage[]): ItemRecord {
  return { [field]: call.text, [`${field}-score`]: call.judgement.score, [`${field}-prompt`]: messages };
}

/** One call per row. */
export const ONE_CALL = Object.freeze({ min: 1, expected: 1, max: 1, criticShare: 0 });
