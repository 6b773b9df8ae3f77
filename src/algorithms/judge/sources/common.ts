/**
 * What the baseline rubric sources of `spri judge` share (spec §6.3): their templates, the judge's
 * calls for one row, and the reference's record layout `X`, `X-score`, `X-prompt`.
 *
 * - Templates: with `--prompts` directories every template comes from them (the paper's
 *   `[task2]-BiGGenBench/prompts` files and inline strings, by file name); without, the judge's
 *   built-in prompts (grading, judge system, rubric template) and spri's own baseline prompts
 *   (src/io/prompts/builtin-judge-baselines.ts). Every template a source reads is resolved when the run
 *   is prepared, so a missing one is a ConfigError before any call is paid for.
 * - Calls: the base model is the judge, called through `ModelCaller`. Judging calls sample as
 *   SPRI's judging calls do (`context.judgeSampling`: temperature `--judge-temperature` with a seed
 *   by default; under `--compat reference` the base model's sampling, and no parameters for GPT
 *   models under `gptSampling`). Each row is its own sample: the row's key is the caller's
 *   `sampleKey`, so it goes into every call's sample index and into the seed (as for
 *   `--rubrics spri`), and a call cache never answers one row with another's.
 * - Outputs are cleaned as `compat.outputStrip` says; the score is read from the cleaned text with
 *   the judge's parser (`context.score`), and each call's trace records it.
 */
import { type CallContext, ModelCaller } from "../../contract/model-caller.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import type { CallRecord, ItemRecord } from "../../../io/records.ts";
import type { ChatMessage, LanguageModel } from "../../../models/language-model.ts";
import { BUILTIN_JUDGE_BASELINE_PROMPTS } from "../../../io/prompts/builtin-judge-baselines.ts";
import type { PromptPack } from "../../../io/prompts/prompt-pack.ts";
import { pyFormat } from "../../../base/util/python.ts";
import type { ParsedJudgement } from "../judge-score.ts";
import type { JudgeContext } from "../rubric-source.ts";

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
export function checkedTemplates(
  context: Pick<JudgeContext, "settings">,
  judgeTemplates: readonly string[],
  own: readonly string[],
): string[] {
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
        throw new ConfigError(`${name} line ${index + 1} is not JSON`, {
          line: index + 1,
          cause: error,
          hint: "write one JSON object per line",
        });
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new ConfigError(`${name} line ${index + 1} is not a JSON object`, {
          line: index + 1,
          hint: "write one JSON object per line",
        });
      }
      rows.push(value as Record<string, unknown>);
    });
  if (rows.length === 0) throw new ConfigError(`${name} holds no entries`, { hint: "write one JSON object per line" });
  return rows;
}

export interface JudgeCall {
  /** The answer cleaned as the source stores it. */
  text: string;
  judgement: ParsedJudgement;
  record: CallRecord;
}

/**
 * The caller of one row's judging calls: the run's compat, and the row's own sample namespace (its
 * key as `sampleKey`, see the module comment).
 */
export function rowCaller(context: Pick<JudgeContext, "compat">, callContext: CallContext): ModelCaller {
  return new ModelCaller({ ...callContext, sampleKey: callContext.itemId }, context.compat);
}

/**
 * One judging call: the judging sampling (the base model's under `judgeSampling: as-base`), the
 * grading schema (asked only where the model enforces it), the score read from the cleaned answer.
 * `strip: "whitespace"`: Python's plain `strip()` under `outputStrip: python`.
 */
export async function judgeCall(
  caller: ModelCaller,
  context: JudgeContext,
  spec: { model: LanguageModel; step: string; iteration: number; messages: ChatMessage[]; strip?: "whitespace" },
): Promise<JudgeCall> {
  const { text, record } = await caller.call({
    ...spec,
    role: "base",
    sampling: context.judgeSampling ?? context.spri.baseSampling,
    schema: context.spri.responseCalls?.schema,
    parse: (answer) => {
      const { score, marker } = context.score(answer);
      return { score, marker };
    },
  });
  return { text, judgement: context.score(text), record };
}

/** The reference's fields of one judgement: `X` (the cleaned text), `X-score`, `X-prompt` (the messages sent). */
export function judgementFields(field: string, call: Pick<JudgeCall, "text" | "judgement">, messages: ChatMessage[]): ItemRecord {
  return { [field]: call.text, [`${field}-score`]: call.judgement.score, [`${field}-prompt`]: messages };
}

/** One call per row. */
export const ONE_CALL = Object.freeze({ min: 1, expected: 1, max: 1, criticShare: 0 });
