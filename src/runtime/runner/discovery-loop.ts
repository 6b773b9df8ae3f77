/**
 * `spri discover loop`: STaPLe's EM loop run unattended over an iterations directory
 * (discovery-iterations.ts). Iteration t:
 *
 *   mine       slice t with the model recorded for t (M_t)                   `discover iterate mine`
 *   cluster    the accepted principles into a constitution (+ statistics)     `discover cluster`, `iterate record`
 *   regenerate y2 under each cluster's medoid (optional)                      `discover regenerate`
 *   train      the labelled (or regenerated) trajectories → M_{t+1}, recorded `discover train`, `iterate model`
 *              as iteration t + 1's model
 *   eval       M_t on held-out prompts (optional)                             `discover iterate eval`
 *
 * Each stage calls the library function its subcommand calls, and its completion is written to
 * state.json (loop-stages.ts), so a re-run after kill -9 starts at the stage that was cut short: a
 * runner stage resumes its run in the store (calls already paid for come from the cache), training
 * resumes its training run (which follows the same job), and a clustering is done again from the
 * embeddings the store's cache kept (only the texts not embedded yet are sent). The loop stops with the state saved when a run stops or leaves failed items
 * (a re-run retries them), when interrupted, and when a manual trainer waits for a person.
 */
import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { loadConstitution } from "../../algorithms/discovery/constitution.ts";
import type { IterationEvalOptions } from "../../algorithms/discovery/iteration-eval.ts";
import { iterationReportRows } from "../../algorithms/discovery/iteration-metrics.ts";
import {
  entry,
  type IterationEntry,
  type IterationModel,
  type IterationState,
  iterDir,
  iterFile,
  STATE_FILE,
} from "../../algorithms/discovery/iterations.ts";
import { type IterationLoop, type LoopStage, loopStages, stageDone } from "../../algorithms/discovery/loop-stages.ts";
import type { MiningOptions } from "../../algorithms/discovery/mining-options.ts";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { redactUrl } from "../../base/util/redact-url.ts";
import type { DownloadProgress } from "../../config/models.ts";
import type { Trainer } from "../../models/trainer.ts";
import { prepareIterationEval, prepareMedoidRegeneration, prepareMining } from "../../presets/tasks/prepare-discovery.ts";
import type { RunStore } from "../store/run-store.ts";
import { type ClusterRunOptions, runDiscoverCluster } from "./discover-cluster.ts";
import { type InitOptions, initIterations, readState, recordIteration, writeState } from "./discovery-iterations.ts";
import { prepareEvalInput, recordIterationEval } from "./iteration-eval.ts";
import { writeMiningSummary } from "./mining-summary-file.ts";
import type { RunJobResult } from "./run-job.ts";
import type { ProgressSink } from "./run-progress.ts";
import type { Invocation } from "./run-state.ts";
import { runWithSettings, type SettingsRunRequest } from "./settings-run.ts";
import { resumeTraining, trainModel } from "./train-model.ts";

export type LoopClusterOptions = Pick<ClusterRunOptions, "embedder" | "linkage" | "clusters" | "clusterCount" | "maxExact" | "cache">;

export interface DiscoveryLoopOptions {
  dir: string;
  /** Iterations to run, from 1; the directory must have a slice for each. */
  iterations: number;
  /** Splits the dataset into the directory when it holds no state yet (`discover iterate init`). */
  init?: Omit<InitOptions, "dir" | "force">;
  store: RunStore;
  trainer: Trainer;
  /** The settings flags and config file of the runner stages; each iteration's model replaces the base model. */
  settings: SettingsRunRequest["settings"];
  mining: MiningOptions;
  questionField?: string;
  cluster: LoopClusterOptions;
  regenerate?: boolean;
  training?: { validation?: number; seed?: number; restartFromBase?: boolean };
  /** Held-out rows and the evaluation's sampling; without it there is no eval stage. */
  evaluation?: { heldout: string } & IterationEvalOptions;
  /** The model a person trained for the training that waits (manual trainer): recorded, and the loop goes on. */
  trainedModel?: { model: string; baseUrl?: string };
  /** One line per stage event: `iteration t/N: <stage>: <what>`. */
  log: (line: string) => void;
  /** A progress display for each runner stage. */
  progress?: () => ProgressSink | undefined;
  onDownload?: (progress: DownloadProgress) => void;
  invocation?: Invocation;
  signal?: AbortSignal;
}

export type LoopResult =
  | { status: "completed"; state: IterationState; final?: { model: string; baseUrl?: string } }
  | { status: "waiting"; iter: number; runId: string; nextSteps: string[] }
  | { status: "stopped"; iter: number; stage: LoopStage; run: RunJobResult }
  | { status: "interrupted"; iter: number; stage: LoopStage };

/** One iteration's context: the stages read the state afresh, since each one writes it. */
interface Step {
  options: DiscoveryLoopOptions;
  iter: number;
  say(stage: LoopStage, text: string): void;
}

type StageStep = (step: Step) => Promise<LoopResult | undefined>;

const STEPS: Record<LoopStage, StageStep> = { mine, cluster, regenerate, train, eval: evaluate };

export async function runDiscoveryLoop(options: DiscoveryLoopOptions): Promise<LoopResult> {
  await openState(options);
  const stages = loopStages({ regenerate: options.regenerate === true, evaluate: options.evaluation !== undefined });
  for (let iter = 1; iter <= options.iterations; iter++) {
    const step: Step = { options, iter, say: (stage, text) => options.log(`iteration ${iter}/${options.iterations}: ${stage}: ${text}`) };
    for (const stage of stages) {
      if (stageDone(current(step).loop, stage)) {
        step.say(stage, "done before");
        continue;
      }
      if (options.signal?.aborted) return { status: "interrupted", iter, stage };
      const ended = await STEPS[stage](step).catch((error: unknown) => {
        if (options.signal?.aborted) return { status: "interrupted", iter, stage } as const;
        throw error;
      });
      if (ended) return ended;
    }
  }
  const state = readState(options.dir);
  const last = entry(state, options.iterations).loop?.train;
  return { status: "completed", state, ...(last?.model ? { final: { model: last.model, ...baseUrlOf(last.baseUrl) } } : {}) };
}

/** The directory's state, made from `init` when there is none; it must have a slice per iteration. */
async function openState(options: DiscoveryLoopOptions): Promise<void> {
  const file = join(options.dir, STATE_FILE);
  if (!existsSync(file)) {
    if (!options.init)
      throw new InputError(`${options.dir} holds no iterations yet`, { file, hint: "give --input <dataset> to start the loop there" });
    await initIterations({ slices: options.iterations, ...options.init, dir: options.dir });
  }
  const state = readState(options.dir);
  if (options.init && resolve(options.init.input) !== state.dataset.file)
    throw new InputError(`${options.dir} holds a loop over ${state.dataset.file}, not ${resolve(options.init.input)}`, {
      file,
      field: "input",
      hint: "give the same --input (or none) to go on with it, or another --dir to start a new loop",
    });
  if (state.iterations.length < options.iterations)
    throw new InputError(`the directory has ${state.iterations.length} slices, fewer than --iterations ${options.iterations}`, {
      file,
      field: "iterations",
      hint: "lower --iterations, or start a new --dir with more slices (--sizes)",
    });
}

function current(step: Step): IterationEntry {
  return entry(readState(step.options.dir), step.iter);
}

/** Writes the stage's record (done unless `pending`) into the iteration's `loop` entry, with `update` applied to the state. */
function record(
  step: Step,
  stage: LoopStage,
  value: NonNullable<IterationLoop[LoopStage]>,
  update?: (state: IterationState) => void,
): void {
  const state = readState(step.options.dir);
  const loop = (entry(state, step.iter).loop ??= {});
  loop[stage] = "waiting" in value && value.waiting ? value : { ...value, doneAt: new Date().toISOString() };
  update?.(state);
  writeState(step.options.dir, state);
}

/** The model recorded for the step's iteration; a ConfigError saying where it comes from when none is. */
function modelOf(step: Step): IterationModel {
  const model = current(step).model;
  if (model) return model;
  throw new ConfigError(`no model is recorded for iteration ${step.iter}`, {
    file: join(step.options.dir, STATE_FILE),
    field: "baseModel",
    hint:
      step.iter === 1
        ? "give --base-model (and --base-url) for the initial model"
        : `iteration ${step.iter - 1}'s training records it; or run spri discover iterate model --dir ${step.options.dir} --iter ${step.iter} --base-model <id>`,
  });
}

function baseUrlOf(baseUrl: string | undefined): { baseUrl?: string } {
  return baseUrl === undefined ? {} : { baseUrl };
}

/** One runner stage over `input` with the iteration's model; undefined when its run completed. */
async function runStage(
  step: Step,
  stage: LoopStage,
  request: Pick<SettingsRunRequest, "prepare" | "input" | "output">,
): Promise<{ run: RunJobResult; stopped?: LoopResult }> {
  const { options } = step;
  const run = await runWithSettings({
    ...request,
    settings: options.settings,
    model: modelOf(step),
    mapping: { idField: readState(options.dir).dataset.idField, questionField: options.questionField },
    store: options.store,
    progress: options.progress?.(),
    signal: options.signal,
    log: (line) => step.say(stage, line),
    invocation: options.invocation,
    onDownload: options.onDownload,
  });
  if (run.outcome === "completed") return { run };
  step.say(stage, `run ${run.runId} ${run.outcome}${run.stopReason ? `: ${run.stopReason}` : ""}; run the same command again to go on`);
  return { run, stopped: { status: "stopped", iter: step.iter, stage, run } };
}

async function mine(step: Step): Promise<LoopResult | undefined> {
  const { options, iter } = step;
  const slice = current(step).slice;
  const output = iterFile(options.dir, iter, "mined");
  step.say("mine", `${slice.size} prompts with ${modelOf(step).baseModel}`);
  const { run, stopped } = await runStage(step, "mine", {
    prepare: prepareMining({ ...options.mining, iter }),
    input: resolve(options.dir, slice.file),
    output,
  });
  if (stopped) return stopped;
  const summary = await writeMiningSummary(output, {
    candidatesPerExample: options.mining.candidates,
    similarity: options.mining.similarity,
  });
  step.say("mine", `${summary.accepted} of ${summary.examples} examples accepted`);
  if (summary.accepted === 0)
    throw new InputError(`iteration ${iter} accepted no example: there is nothing to cluster or train on`, {
      file: output,
      hint: "look at the records' decisions; more prompts (--sizes) or more --candidates may help",
    });
  record(step, "mine", { runId: run.runId, examples: summary.examples, accepted: summary.accepted });
  return undefined;
}

async function cluster(step: Step): Promise<LoopResult | undefined> {
  const { options, iter } = step;
  const mined = iterFile(options.dir, iter, "mined");
  const constitution = iterFile(options.dir, iter, "constitution");
  const summary = await runDiscoverCluster({
    ...options.cluster,
    input: mined,
    output: constitution,
    store: options.store,
    log: (line) => step.say("cluster", line),
    signal: options.signal,
  });
  await recordIteration(options.dir, iter, { mined, constitution, readConstitution: loadConstitution });
  step.say("cluster", `${summary.clusters} principles in the constitution, from ${summary.uniquePrinciples} unique`);
  record(step, "cluster", {
    ...(summary.runId ? { runId: summary.runId } : {}),
    clusters: summary.clusters,
    uniquePrinciples: summary.uniquePrinciples,
    labelled: relative(options.dir, summary.labelled!),
  });
  return undefined;
}

function labelledFile(step: Step): string {
  return resolve(step.options.dir, current(step).loop!.cluster!.labelled!);
}

function regeneratedFile(step: Step): string {
  return join(iterDir(step.options.dir, step.iter), "regenerated.jsonl");
}

async function regenerate(step: Step): Promise<LoopResult | undefined> {
  const output = regeneratedFile(step);
  step.say("regenerate", "y2 under each accepted record's cluster medoid");
  const { run, stopped } = await runStage(step, "regenerate", {
    prepare: prepareMedoidRegeneration(step.options.mining),
    input: labelledFile(step),
    output,
  });
  if (stopped) return stopped;
  record(step, "regenerate", { runId: run.runId, output: relative(step.options.dir, output) });
  return undefined;
}

async function train(step: Step): Promise<LoopResult | undefined> {
  const { options, iter } = step;
  const model = modelOf(step);
  await recordTrainedModel(step);
  const restart = options.training?.restartFromBase === true;
  const result = await trainModel({
    input: options.regenerate ? regeneratedFile(step) : labelledFile(step),
    dir: iterDir(options.dir, iter),
    name: `iter-${iter}`,
    baseModel: restart ? modelOf({ ...step, iter: 1 }).baseModel : model.baseModel,
    trainer: options.trainer,
    store: options.store,
    validation: options.training?.validation,
    seed: options.training?.seed,
    restartFromBase: restart ? { previousFiles: earlierTrainingFiles(step) } : undefined,
    progress: (e) => step.say("train", `${e.stage}: ${e.message}${e.totalSteps ? ` (${e.step}/${e.totalSteps})` : ""}`),
    signal: options.signal,
  });
  const { outcome } = result;
  if (outcome.status === "waiting") {
    record(step, "train", { runId: result.runId, waiting: true });
    return { status: "waiting", iter, runId: result.runId, nextSteps: outcome.nextSteps };
  }
  const baseUrl = outcome.baseUrl ?? model.baseUrl;
  const cost = outcome.costUsd === undefined ? "cost unknown" : `$${outcome.costUsd.toFixed(4)}`;
  step.say("train", `${outcome.model}${baseUrl ? ` at ${redactUrl(baseUrl)}` : ""} (training run ${result.runId}, ${cost})`);
  const trained = {
    runId: result.runId,
    model: outcome.model,
    ...baseUrlOf(outcome.baseUrl),
    ...(outcome.job ? { job: outcome.job } : {}),
    ...(outcome.costUsd === undefined ? {} : { costUsd: outcome.costUsd }),
  };
  record(step, "train", trained, (state) => {
    const next = state.iterations.find((e) => e.iter === iter + 1);
    if (!next) return;
    next.model = {
      baseModel: outcome.model,
      ...baseUrlOf(baseUrl),
      ...(model.baseProvider ? { baseProvider: model.baseProvider } : {}),
      note: `trained after iteration ${iter} (training run ${result.runId})`,
      setAt: new Date().toISOString(),
    };
  });
  return undefined;
}

/** `trainedModel`, recorded for the training this iteration waits on (manual trainer), once. */
async function recordTrainedModel(step: Step): Promise<void> {
  const given = step.options.trainedModel;
  const waiting = current(step).loop?.train;
  if (!given || !waiting?.waiting || !waiting.runId) return;
  const earlier = readState(step.options.dir).iterations.find((e) => e.iter <= step.iter && e.model?.baseModel === given.model);
  if (earlier)
    throw new ConfigError(
      `--trained-model ${given.model} is the model of iteration ${earlier.iter}, not one trained after iteration ${step.iter}`,
      {
        field: "trainedModel",
        hint: "give the model trained on this iteration's export, or leave --trained-model out",
      },
    );
  await resumeTraining({ store: step.options.store, model: given.model, ...baseUrlOf(given.baseUrl), runId: waiting.runId });
  step.say("train", `recorded ${given.model} for training run ${waiting.runId}`);
}

/** The training files of the iterations before this one (restarting from the base model trains on all of them). */
function earlierTrainingFiles(step: Step): string[] {
  const files: string[] = [];
  for (let t = 1; t < step.iter; t++) files.push(join(iterDir(step.options.dir, t), "train.jsonl"));
  return files;
}

async function evaluate(step: Step): Promise<LoopResult | undefined> {
  const { options, iter } = step;
  const evaluation = options.evaluation!;
  const joined = await prepareEvalInput(options.dir, iter, evaluation.heldout);
  step.say("eval", `${joined.items} held-out prompts with ${modelOf(step).baseModel}`);
  const { heldout: _heldout, ...algorithm } = evaluation;
  const { run, stopped } = await runStage(step, "eval", {
    prepare: prepareIterationEval(algorithm),
    input: joined.file,
    output: iterFile(options.dir, iter, "eval"),
  });
  if (stopped) return stopped;
  const state = await recordIterationEval(options.dir, iter, { heldout: evaluation.heldout });
  const row = iterationReportRows(state).find((r) => r.iter === iter)!;
  const percent = (v: number | null) => (v === null ? "-" : `${v.toFixed(2)}%`);
  step.say(
    "eval",
    `Rouge-L ${row.rougeL ?? "-"}, win rate vs previous ${percent(row.winRateVsPrevious)}, vs base ${percent(row.winRateVsBase)}`,
  );
  record(step, "eval", { runId: run.runId, rougeL: row.rougeL });
  return undefined;
}
