/**
 * What a rubric source is: where `spri judge` gets the rubric a response is graded with
 * (`--rubrics <name>`). Each source turns the judge's context into a per-item algorithm and reuses
 * the grading prompt (`grading-prompt.ts`), the score parser (`context.score`) and the judging
 * sampling (`context.judgeSampling`). The registry of sources is `rubric-sources.ts`.
 */
import type { ItemAlgorithm } from "../contract/item-algorithm.ts";
import type { TaskItem } from "../contract/task-item.ts";
import type { ResolvedSettings } from "../../config/config.ts";
import { InputError } from "../../base/errors/errors.ts";
import type { SamplingOptions } from "../../models/language-model.ts";
import type { PromptPack } from "../../io/prompts/prompt-pack.ts";
import type { CompatOptions } from "../spri/compat.ts";
import type { SpriSettings, SpriSteps } from "../spri/spri.ts";
import type { JudgeScale, ParsedJudgement } from "./judge-score.ts";

/** The judge's own options (`spri judge` flags beyond the shared settings). */
export interface JudgeOptions {
  /** The rubric source's name (`--rubrics`). */
  rubrics: string;
  /** The field holding the response to grade (`--response-field`, default `response`). */
  responseField: string;
  /** The field holding a gold rubric (`--rubric-field`, default `score_rubric`), for sources that use one. */
  rubricField: string;
  /** The field holding a human score (`--human-field`), for agreement metrics. */
  humanField?: string;
  /** The field that groups items (`--group-field`, default `capability`): per-group seeds and metrics. */
  groupField: string;
  /** The input's id field, as the run reads it (`--id-field`, default `id`). */
  idField: string;
  scale: JudgeScale;
  /** Temperature of the judging calls under `judgeSampling: deterministic` (`--judge-temperature`, default 0). */
  judgeTemperature: number;
}

/** Everything a rubric source builds its algorithm from, resolved and checked once per run. */
export interface JudgeContext {
  options: JudgeOptions;
  settings: ResolvedSettings;
  compat: CompatOptions;
  pack: PromptPack;
  /** τ, n_max, sampling, the unscored policy and compat; stage-2 calls carry the judging sampling. */
  spri: SpriSettings;
  /** SPRI's rubric task (stage 1: rubric generation), with the run's seeds. */
  rubricStage: RubricStage;
  /** Sampling of judging calls; undefined: the base model's (`judgeSampling: as-base`). */
  judgeSampling?: SamplingOptions;
  /** Reads a judgement's score with the configured parser and scale. */
  score(text: string): ParsedJudgement;
}

/**
 * Stage 1 of a judge that writes its own rubrics: SPRI's rubric task as the preset wires it
 * (`tasks/spri-task.ts`, seeds included). It is handed in because presets sit above the judge.
 */
export interface RubricStage {
  /** The rubric task's steps for an item; the judge uses its stage-1 (principle) steps. */
  steps(item: TaskItem): SpriSteps;
  /** The templates those steps read from the prompt pack. */
  templates: readonly string[];
}

export interface RubricSource {
  readonly name: string;
  /** One line for help texts. */
  readonly description: string;
  /** Whether `--seeds` means something to this source. */
  readonly usesSeeds: boolean;
  /** The record field holding the row's final score (for `spri eval correlate --score-field`). */
  readonly scoreField?: string;
  /** Templates it reads from the prompt pack, checked before any call is paid for. */
  templates(context: JudgeContext): readonly string[];
  algorithm(context: JudgeContext): ItemAlgorithm;
}

/** The response an item's judgement grades. */
export function judgedResponse(item: TaskItem, field: string): string {
  const value = item.row[field];
  if (typeof value === "string") return value;
  if (value === undefined || value === null) {
    throw new InputError(`the item has no response to grade in "${field}"`, {
      field,
      hint: "name the field holding the response with --response-field",
    });
  }
  return JSON.stringify(value);
}

/** The input's own id (the item's id may be a derived run key). */
export function inputId(item: TaskItem, idField: string): string {
  const value = item.row[idField];
  return value === undefined || value === null ? item.id : typeof value === "string" ? value : JSON.stringify(value);
}
