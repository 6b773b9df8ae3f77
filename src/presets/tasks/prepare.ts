/**
 * Turns resolved settings into what a run needs: the task, its prompt pack (checked up front so a
 * missing template fails before any call is paid for), seeds and SPRI settings.
 */
import type { ItemAlgorithm } from "../../algorithms/contract/item-algorithm.ts";
import { type ResolvedSettings, compatPreset, unscoredPolicy } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import type { SamplingOptions } from "../../models/language-model.ts";
import { builtinPack, directoryPack, type PromptPack } from "../../io/prompts/prompt-pack.ts";
import { loadResortPrompts } from "../../io/prompts/resort-pack.ts";
import { type CompatPreset, resolveCompat } from "../../algorithms/spri/compat.ts";
import { DEFAULT_SETTINGS, runSpri, type SpriSettings } from "../../algorithms/spri/spri.ts";
import { baselineAlgorithm, baselineTemplates, builtinBaselinePack } from "./baselines/baselines.ts";
import { RESORT_TASKS, resortAlgorithm } from "./baselines/resort.ts";
import { loadSeeds, type SeedSet } from "./seeds.ts";
import { requiredTemplates, type TaskOptions, taskSteps } from "./spri-task.ts";
import { type AnyTaskName, TASK_NAMES, type TaskName, isBaselineTask, isResortTask, type ResortTaskName } from "./task-item.ts";

export interface PreparedTask {
  task: AnyTaskName;
  /** SPRI's task options; for a baseline task, the SFT task's over the baseline's pack (unused by the runner). */
  taskOptions: TaskOptions;
  spri: SpriSettings;
  algorithm: ItemAlgorithm;
  /** Options of the algorithm that change its outputs beyond the shared settings; part of the run's identity. */
  identity?: Record<string, unknown>;
  /**
   * The run key of an item when its id alone does not identify it (`spri judge`: one instance is
   * judged for several responses, keyed `<id>/<model_name>`). The runner dedupes, resumes and traces
   * by it; output records keep the input's own id field, and the key is recomputed from them.
   */
  itemKey?: ItemKey;
}

/** `id` is the item's id as the field mapping reads it; `row` is the input row (or an output record). */
export type ItemKey = (row: Readonly<Record<string, unknown>>, id: string) => string;

/** How a command turns settings into the per-item algorithm (SPRI tasks and baselines by default). */
export type Prepare = (settings: ResolvedSettings) => PreparedTask;

/** SPRI as an item algorithm: the task's prompts for the item, then Algorithm 1. */
export function spriAlgorithm(task: TaskName, taskOptions: TaskOptions, spri: SpriSettings): ItemAlgorithm {
  return {
    name: `spri/${task}`,
    calls: spriCallEstimate(spri),
    run: (item, models, context) => runSpri(taskSteps(item, taskOptions), models, spri, context),
  };
}

/**
 * SPRI makes 1 + (critiques + refinements) per stage: at least 2 calls a stage, at most 2·n_max.
 * The expected count is the paper's measured average over its task-1 runs (spec §8: 4.3 to 6.0).
 */
function spriCallEstimate(spri: SpriSettings): ItemAlgorithm["calls"] {
  const stages = spri.stages === "both" ? 2 : 1;
  return {
    min: 2 * stages,
    expected: Math.min(2 * spri.maxCritiques, 2.7) * stages,
    max: 2 * spri.maxCritiques * stages,
    criticShare: 0.5,
  };
}

export function parseTaskName(value: string): AnyTaskName {
  if ((TASK_NAMES as readonly string[]).includes(value)) return value as AnyTaskName;
  throw new ConfigError(`unknown task "${value}"`, { field: "task", hint: `use one of ${TASK_NAMES.join(", ")}` });
}

export function prepareTask(settings: ResolvedSettings, overrides: { seeds?: SeedSet } = {}): PreparedTask {
  const task = parseTaskName(settings.task);
  if (isResortTask(task)) return prepareResortTask(task, settings, overrides);
  const preset = compatPreset(settings.compat);
  const compat = resolveCompat(preset);
  const baseline = isBaselineTask(task);
  // The baselines are Task 3 (SFT data) baselines; their SPRI-side options are the SFT task's.
  const spriTask: TaskName = baseline ? "sft" : task;
  const stages = spriTask === "rubric" ? "principles" : "both";
  const userPack = settings.prompts && settings.prompts.length > 0 ? directoryPack(settings.prompts) : undefined;
  const pack: PromptPack = userPack ?? (baseline ? builtinBaselinePack() : builtinPack(spriTask));
  for (const name of baseline ? baselineTemplates(task) : requiredTemplates(spriTask, stages)) pack.get(name);

  checkLoopLimits(settings);
  if (baseline && (settings.seeds || settings.seedsPerDomain || overrides.seeds)) {
    throw new ConfigError(`--seeds does not apply to the baseline task ${task}`, {
      field: "seeds",
      hint: "the baselines show no few-shot seeds; leave out --seeds and --seeds-per-domain",
    });
  }
  const seeds = overrides.seeds ?? (settings.seeds ? loadSeeds(settings.seeds) : undefined);
  if (settings.seedsPerDomain && !seeds) {
    throw new ConfigError("--seeds-per-domain needs --seeds", { field: "seedsPerDomain" });
  }
  const taskOptions: TaskOptions = { task: spriTask, pack, seeds, seedsPerDomain: settings.seedsPerDomain, compat };
  const spri = spriSettingsOf(settings, preset, stages);
  const algorithm = baseline
    ? baselineAlgorithm(task, { pack, compat, sampling: spri.baseSampling, threshold: spri.threshold, maxIterations: spri.maxCritiques })
    : spriAlgorithm(spriTask, taskOptions, spri);
  return { task, taskOptions, spri, algorithm };
}

/**
 * A task-1 baseline of the RESORT pipeline: its prompts come only from the pipeline's own files
 * (`--prompts`, read and checked here, before any call), with no seeds and no critic loop.
 */
function prepareResortTask(task: ResortTaskName, settings: ResolvedSettings, overrides: { seeds?: SeedSet }): PreparedTask {
  if (!settings.prompts || settings.prompts.length === 0) {
    throw new ConfigError(`--task ${task} needs the paper's RESORT pipeline as its prompt pack`, {
      field: "prompts",
      hint: "pass --prompts pointing at the paper's [task1]-reappraisal/RESORT_pipeline directory (spri does not ship its prompts)",
    });
  }
  if (settings.seeds || settings.seedsPerDomain || overrides.seeds) {
    throw new ConfigError(`--seeds does not apply to the baseline task ${task}`, { field: "seeds", hint: "leave out --seeds" });
  }
  const { script, mode } = RESORT_TASKS[task];
  const prompts = loadResortPrompts(settings.prompts, script, mode);
  const preset = compatPreset(settings.compat);
  const compat = resolveCompat(preset);
  const spri = spriSettingsOf(settings, preset, "both");
  const taskOptions: TaskOptions = { task: "reappraisal", pack: builtinPack("reappraisal"), compat };
  const algorithm = resortAlgorithm(task, { prompts, compat, sampling: spri.baseSampling });
  return { task, taskOptions, spri, algorithm };
}

/** τ on the critic's 1–5 scale and at least one critique. */
export function checkLoopLimits(settings: Pick<ResolvedSettings, "threshold" | "maxCritiques">): void {
  if (settings.threshold < 1 || settings.threshold > 5) {
    throw new ConfigError(`--threshold ${settings.threshold} is outside the critic's 1–5 scale`, { field: "threshold" });
  }
  if (settings.maxCritiques < 1) throw new ConfigError("--max-critiques must be at least 1", { field: "maxCritiques" });
}

/** The sampling options a run's settings give every model call. */
export function samplingOf(settings: ResolvedSettings): SamplingOptions {
  return {
    temperature: settings.temperature,
    topP: settings.topP,
    topK: settings.topK,
    maxTokens: settings.maxNewTokens,
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
  };
}

/** The SPRI loop's settings from a run's settings: τ, n_max, sampling, the unscored policy, compat. */
export function spriSettingsOf(settings: ResolvedSettings, preset: CompatPreset, stages: SpriSettings["stages"]): SpriSettings {
  const sampling = samplingOf(settings);
  return {
    ...DEFAULT_SETTINGS,
    threshold: settings.threshold,
    maxCritiques: settings.maxCritiques,
    baseSampling: sampling,
    criticSampling: sampling,
    unscored: { policy: unscoredPolicy(settings.onUnscored, preset), retries: settings.unscoredRetries },
    compat: resolveCompat(preset),
    stages,
  };
}
