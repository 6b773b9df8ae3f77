/**
 * STaPLe's M-step as one library call, for `spri discover train` and the loop: export the accepted
 * trajectories in the trainer's format (with a validation split and a training request), hand them
 * to the trainer, and record the outcome as a `discover/train` run in the store.
 *
 * The run is found again by the same command (its key: trainer, model, name, input), so a re-run
 * after kill -9 gives the trainer the state it saved (the run's `trainer` artifact) and a finished
 * run answers with its recorded outcome without training again. A `waiting` outcome (the manual
 * trainer) leaves the run stopped until `resumeTraining` records the model a person trained.
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ConstitutionLike } from "../../algorithms/discovery/label-map.ts";
import type { TrainingExportSummary } from "../../algorithms/discovery/training-card.ts";
import { parseDiscoveryExportFormat, TRAINING_FORMATS } from "../../algorithms/discovery/training-formats.ts";
import { InputError } from "../../base/errors/errors.ts";
import { readInputRows } from "../../io/input-reader.ts";
import { writeJsonlAtomically } from "../../io/jsonl-output.ts";
import type { Trainer, TrainingOutcome, TrainingProgress } from "../../models/trainer.ts";
import { type RunMeta, runKey, type RunStore } from "../store/run-store.ts";
import { exportTrainingData } from "./training-export.ts";

export const TRAIN_TASK = "discover/train";
export const TRAINER_ARTIFACT = "trainer";
export const OUTCOME_ARTIFACT = "training-outcome";

export interface TrainModelOptions {
  /** Mining records (or the labelled copy of `spri discover cluster`). */
  input: string;
  /** Where the export, the request and a local trainer's output go. */
  dir: string;
  /** The job's name (e.g. `iter-1`); the same name is the same job. */
  name: string;
  /** The model to train: M_t, or M_0 with `restartFromBase`. */
  baseModel: string;
  trainer: Trainer;
  store: RunStore;
  /** Hold out this fraction for validation (default 0.05; 0 for none). */
  validation?: number;
  constitution?: ConstitutionLike;
  constitutionFile?: string;
  includeCritique?: boolean;
  seed?: number;
  /** Train `baseModel` (M_0) on these earlier iterations' training files and this export. */
  restartFromBase?: { previousFiles: readonly string[] };
  progress?: (event: TrainingProgress) => void;
  /** Stops following the trainer (the state saved so far resumes it). */
  signal?: AbortSignal;
  /** Start a new run even if one with the same key exists. */
  newRun?: boolean;
}

export interface TrainModelResult {
  runId: string;
  outcome: TrainingOutcome;
  export?: TrainingExportSummary;
  /** The run had finished before: nothing was exported or trained. */
  resumedFinished: boolean;
}

export async function trainModel(options: TrainModelOptions): Promise<TrainModelResult> {
  const { store, trainer } = options;
  const format = parseDiscoveryExportFormat(trainer.format);
  const run = await findOrCreateRun(options);
  const recorded = (await store.getArtifact(run.id, OUTCOME_ARTIFACT)) as TrainingOutcome | undefined;
  if (run.status === "completed" && recorded) return { runId: run.id, outcome: recorded, resumedFinished: true };

  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  const summary = await exportTrainingData({
    input: options.input,
    output: join(dir, "train.jsonl"),
    format,
    constitution: options.constitution,
    constitutionFile: options.constitutionFile,
    includeCritique: options.includeCritique,
    validation: options.validation ?? 0.05,
    splitSeed: options.seed,
    request: {
      file: join(dir, "mstep.request.json"),
      baseModel: options.baseModel,
      seed: options.seed,
      ...(options.restartFromBase ? { restartFromBase: true, previousFiles: options.restartFromBase.previousFiles } : {}),
    },
  });
  if (summary.exported === 0)
    throw new InputError("no accepted trajectory to train on", {
      file: options.input,
      hint: "mine more examples, or check the records are `spri discover mine` output",
    });
  const train = options.restartFromBase ? await unionFile(dir, options.restartFromBase.previousFiles, summary.output) : summary.output;

  const outcome = await trainer.train(
    {
      name: options.name,
      baseModel: options.baseModel,
      train,
      ...(summary.validation ? { validation: summary.validation.file } : {}),
      format: TRAINING_FORMATS[format].trainFormat,
      outputDir: join(dir, "model"),
      ...(summary.trlConfig ? { trlConfig: summary.trlConfig } : {}),
      seed: options.seed ?? 0,
    },
    {
      state: {
        load: () => store.getArtifact(run.id, TRAINER_ARTIFACT),
        save: (value) => store.putArtifact(run.id, TRAINER_ARTIFACT, value),
      },
      progress: options.progress,
      signal: options.signal,
    },
  );
  await recordOutcome(store, run, outcome);
  return { runId: run.id, outcome, export: summary, resumedFinished: false };
}

async function findOrCreateRun(options: TrainModelOptions): Promise<RunMeta> {
  const settings = {
    trainer: options.trainer.kind,
    format: options.trainer.format,
    name: options.name,
    baseModel: options.baseModel,
    dir: resolve(options.dir),
    validation: options.validation ?? 0.05,
    seed: options.seed ?? 0,
    restartFromBase: options.restartFromBase ? options.restartFromBase.previousFiles.map((f) => resolve(f)) : false,
  };
  const key = runKey({ task: TRAIN_TASK, settings, inputPath: options.input });
  const existing = options.newRun ? undefined : await options.store.findRunByKey(key);
  if (existing) return existing;
  return options.store.createRun({ key, task: TRAIN_TASK, settings, inputPath: resolve(options.input), baseModel: options.baseModel });
}

/** Stores the outcome; a trained model's cost goes into the run's usage as one call, so `spri status` and the viewer show it. */
export async function recordOutcome(store: RunStore, run: RunMeta, outcome: TrainingOutcome): Promise<void> {
  await store.putArtifact(run.id, OUTCOME_ARTIFACT, outcome);
  if (outcome.status === "waiting") {
    await store.updateRun(run.id, { status: "stopped" });
    return;
  }
  if (outcome.trainedTokens !== undefined || outcome.costUsd !== undefined) {
    await store.recordCalls([
      {
        runId: run.id,
        itemId: "m-step",
        step: "train.fine-tune",
        iteration: 0,
        attempt: 0,
        role: "base",
        model: run.baseModel,
        endpoint: outcome.job ?? "trainer",
        request: { messages: [], sampling: {} },
        response: outcome.model,
        usage: { inputTokens: outcome.trainedTokens ?? 0, outputTokens: 0 },
        latencyMs: 0,
        cacheHit: false,
        startedAt: new Date().toISOString(),
        ...(outcome.costUsd === undefined ? {} : { costUsd: outcome.costUsd }),
      },
    ]);
  }
  await store.updateRun(run.id, { status: "completed", outputPath: outcome.model });
}

/** One JSON Lines file of the earlier iterations' examples and this one's (restart from the base model). */
async function unionFile(dir: string, previous: readonly string[], current: string): Promise<string> {
  const file = join(dir, "train.all.jsonl");
  async function* rows(): AsyncGenerator<unknown> {
    for (const source of [...previous, current]) for await (const row of readInputRows(source)) yield row.value;
  }
  await writeJsonlAtomically(file, rows());
  return file;
}

/**
 * `spri discover resume --model ID`: records the model a person trained for the most recent
 * training run that waits for one (or `runId`), and completes that run.
 */
export async function resumeTraining(options: {
  store: RunStore;
  model: string;
  baseUrl?: string;
  runId?: string;
}): Promise<{ runId: string; outcome: TrainingOutcome }> {
  const run = options.runId ? await options.store.getRun(options.runId) : await waitingRun(options.store);
  if (!run || run.task !== TRAIN_TASK)
    throw new InputError(options.runId ? `no training run ${options.runId} in the store` : "no training run waits for a model", {
      field: "run",
      hint: "start one with spri discover train --trainer manual (and the same --store)",
    });
  const outcome: TrainingOutcome = { status: "trained", model: options.model, ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}) };
  await recordOutcome(options.store, run, outcome);
  return { runId: run.id, outcome };
}

async function waitingRun(store: RunStore): Promise<RunMeta | undefined> {
  for (const run of await store.listRuns({ limit: 1000 })) {
    if (run.task !== TRAIN_TASK || run.status !== "stopped") continue;
    const outcome = (await store.getArtifact(run.id, OUTCOME_ARTIFACT)) as TrainingOutcome | undefined;
    if (outcome?.status === "waiting") return run;
  }
  return undefined;
}
