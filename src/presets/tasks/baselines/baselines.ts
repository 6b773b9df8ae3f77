/**
 * The paper's five Task 3 (SFT data) baselines as item algorithms, run by the same runner as SPRI
 * (`spri run --task baseline-…`). Output fields keep the reference scripts' names.
 */
import type { ItemAlgorithm } from "../../../algorithms/contract/item-algorithm.ts";
import type { BaselineTaskName } from "../task-item.ts";
import type { BaselineSettings } from "./common.ts";
import { SELF_REFINE_FINAL_FIELD, SELF_REFINE_TEMPLATES, selfRefineAlgorithm } from "./self-refine.ts";
import { SINGLE_CALL_BASELINES, singleCallAlgorithm } from "./single-call.ts";

export { builtinBaselinePack, type BaselineSettings } from "./common.ts";

/** The templates a baseline needs, so a pack can be checked before any call is paid for. */
export function baselineTemplates(task: BaselineTaskName): string[] {
  if (task === "baseline-self-refine") return [...SELF_REFINE_TEMPLATES];
  return [SINGLE_CALL_BASELINES[task].template];
}

export function baselineAlgorithm(task: BaselineTaskName, settings: BaselineSettings): ItemAlgorithm {
  if (task === "baseline-self-refine") return selfRefineAlgorithm(settings);
  return singleCallAlgorithm(task, settings);
}

/** The output field holding a baseline's answer (the reference scripts name it per baseline). */
export function baselineResponseField(task: BaselineTaskName): string {
  return task === "baseline-self-refine" ? SELF_REFINE_FINAL_FIELD : SINGLE_CALL_BASELINES[task].field;
}
