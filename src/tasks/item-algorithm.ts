/**
 * What the runner runs for each item: SPRI or a baseline. An algorithm turns one item into output
 * fields (reference names) and the trace of every model call it made.
 */
import type { CallRecord, ItemRecord } from "../io/records.ts";
import type { CallContext } from "../spri/traced-call.ts";
import type { SpriModels } from "../spri/spri.ts";
import type { TaskItem } from "./task-item.ts";

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
