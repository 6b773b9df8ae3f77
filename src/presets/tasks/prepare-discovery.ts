/**
 * The presets of `spri discover mine` and `spri discover apply`: items are read as the SFT task reads
 * them, with no seeds (none of the task-specific fields), and each item runs the discovery algorithm.
 */
import type { MiningOptions } from "../../algorithms/discovery/mining-options.ts";
import { type IterationEvalOptions, iterationEvalAlgorithm } from "../../algorithms/discovery/iteration-eval.ts";
import { medoidRegenerationAlgorithm } from "../../algorithms/discovery/medoid-regeneration.ts";
import { miningAlgorithm } from "../../algorithms/discovery/mining.ts";
import { type SelfCorrectOptions, selfCorrectAlgorithm } from "../../algorithms/discovery/self-correct.ts";
import { type Prepare, prepareTask } from "./prepare.ts";

/** `spri discover mine`'s Prepare: the SFT task's item mapping (question fields), the mining algorithm. */
export function prepareMining(options: MiningOptions): Prepare {
  return (settings) => ({
    ...prepareTask({ ...settings, task: "sft", seeds: undefined, seedsPerDomain: false }),
    algorithm: miningAlgorithm(options),
  });
}

/** `spri discover apply`'s Prepare: the SFT task's item mapping, the self-correction algorithm. */
export function prepareSelfCorrect(options: SelfCorrectOptions): Prepare {
  const algorithm = selfCorrectAlgorithm(options);
  return (settings) => ({ ...prepareTask({ ...settings, task: "sft", seeds: undefined, seedsPerDomain: false }), algorithm });
}

/** `spri discover regenerate`'s Prepare: the SFT task's item mapping, y2 regenerated under each record's medoid. */
export function prepareMedoidRegeneration(options: MiningOptions): Prepare {
  return (settings) => ({
    ...prepareTask({ ...settings, task: "sft", seeds: undefined, seedsPerDomain: false }),
    algorithm: medoidRegenerationAlgorithm(options),
  });
}

/** `spri discover iterate eval`'s Prepare: the SFT task's item mapping, the iteration's model answered and judged. */
export function prepareIterationEval(options: IterationEvalOptions): Prepare {
  return (settings) => ({
    ...prepareTask({ ...settings, task: "sft", seeds: undefined, seedsPerDomain: false }),
    algorithm: iterationEvalAlgorithm(options),
  });
}
