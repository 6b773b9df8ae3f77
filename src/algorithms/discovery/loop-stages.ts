/**
 * The stages `spri discover loop` takes each iteration through, and what it keeps of each in the
 * iteration's `loop` entry of `<dir>/state.json`. A stage counts as done once its record has
 * `doneAt`, written only after everything the stage makes is on disk or in the store; a re-run
 * (after kill -9 at any moment) skips the stages done and starts the first one that is not.
 * The stages in between resume on their own: mining, regeneration and evaluation are runs in the
 * store, clustering finds the embeddings it already asked for in the store's call cache, and
 * training finds its training run (and the job that run follows) again.
 */

/** In order: E-step (mine, cluster, optional regenerate), M-step (train), then evaluation (optional). */
export const LOOP_STAGES = ["mine", "cluster", "regenerate", "train", "eval"] as const;
export type LoopStage = (typeof LOOP_STAGES)[number];

export interface StageRecord {
  /** When the stage finished; absent while it has not. */
  doneAt?: string;
  /** The run in the store that did the work (mining, clustering, regeneration, training, evaluation). */
  runId?: string;
}

export interface IterationLoop {
  mine?: StageRecord & { examples?: number; accepted?: number };
  cluster?: StageRecord & { clusters?: number; uniquePrinciples?: number; labelled?: string };
  regenerate?: StageRecord & { output?: string };
  /** The training run, and once done the model it gave (the next iteration's model). */
  train?: StageRecord & { model?: string; baseUrl?: string; job?: string; costUsd?: number; waiting?: boolean };
  eval?: StageRecord & { rougeL?: number | null };
}

/** The stages of one iteration, as the options choose them. */
export function loopStages(options: { regenerate: boolean; evaluate: boolean }): LoopStage[] {
  return LOOP_STAGES.filter((stage) => (stage !== "regenerate" || options.regenerate) && (stage !== "eval" || options.evaluate));
}

export function stageDone(loop: IterationLoop | undefined, stage: LoopStage): boolean {
  return loop?.[stage]?.doneAt !== undefined;
}
