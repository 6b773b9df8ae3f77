/**
 * The per-item algorithm contract: what the runner runs for each item (SPRI, a baseline, a judge's
 * rubric source, pairwise judging, discovery mining or self-correction). An algorithm turns one
 * item into output fields (reference names) and the trace of every model call it made, each made
 * through `ModelCaller` (model-caller.ts). Everything else (resume, cache, concurrency, budgets,
 * batch rounds) is the runner's.
 */
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { LanguageModel } from "../../models/language-model.ts";
import type { CallContext } from "./model-caller.ts";
import type { TaskItem } from "./task-item.ts";

/** The models of a run by role: the base model writes, the critic scores (SPRI's two roles). */
export interface SpriModels {
  base: LanguageModel;
  critic: LanguageModel;
}

export interface ItemOutcome {
  fields: ItemRecord;
  calls: CallRecord[];
}

/** Model calls per item, for dry-run estimates. `criticShare`: the fraction made by the critic. */
export interface CallEstimate {
  min: number;
  expected: number;
  max: number;
  criticShare: number;
}

export interface ItemAlgorithm {
  /** e.g. `spri/sft`, `baseline/self-refine`. Recorded with the run. */
  readonly name: string;
  readonly calls?: CallEstimate;
  run(item: TaskItem, models: SpriModels, context: CallContext): Promise<ItemOutcome>;
}
