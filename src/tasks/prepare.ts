/**
 * Turns resolved settings into what a run needs: the task, its prompt pack (checked up front so a
 * missing template fails before any call is paid for), seeds and SPRI settings.
 */
import { type ResolvedSettings, compatPreset, unscoredPolicy } from "../config/config.ts";
import { ConfigError } from "../errors/errors.ts";
import { builtinPack, directoryPack, type PromptPack } from "../prompts/prompt-pack.ts";
import { resolveCompat } from "../spri/compat.ts";
import { DEFAULT_SETTINGS, runSpri, type SpriSettings } from "../spri/spri.ts";
import type { ItemAlgorithm } from "./item-algorithm.ts";
import { loadSeeds, type SeedSet } from "./seeds.ts";
import { requiredTemplates, type TaskOptions, taskSteps } from "./spri-task.ts";
import { TASK_NAMES, type TaskName } from "./task-item.ts";

export interface PreparedTask {
  task: TaskName;
  taskOptions: TaskOptions;
  spri: SpriSettings;
  algorithm: ItemAlgorithm;
}

/** SPRI as an item algorithm: the task's prompts for the item, then Algorithm 1. */
export function spriAlgorithm(task: TaskName, taskOptions: TaskOptions, spri: SpriSettings): ItemAlgorithm {
  return {
    name: `spri/${task}`,
    run: (item, models, context) => runSpri(taskSteps(item, taskOptions), models, spri, context),
  };
}

export function parseTaskName(value: string): TaskName {
  if ((TASK_NAMES as readonly string[]).includes(value)) return value as TaskName;
  throw new ConfigError(`unknown task "${value}"`, { field: "task", hint: `use one of ${TASK_NAMES.join(", ")}` });
}

export function prepareTask(settings: ResolvedSettings, overrides: { seeds?: SeedSet } = {}): PreparedTask {
  const task = parseTaskName(settings.task);
  const preset = compatPreset(settings.compat);
  const compat = resolveCompat(preset);
  const stages = task === "rubric" ? "principles" : "both";
  const pack: PromptPack = settings.prompts && settings.prompts.length > 0 ? directoryPack(settings.prompts) : builtinPack(task);
  for (const name of requiredTemplates(task, stages)) pack.get(name);

  if (settings.threshold < 1 || settings.threshold > 5) {
    throw new ConfigError(`--threshold ${settings.threshold} is outside the critic's 1–5 scale`, { field: "threshold" });
  }
  if (settings.maxCritiques < 1) throw new ConfigError("--max-critiques must be at least 1", { field: "maxCritiques" });
  const seeds = overrides.seeds ?? (settings.seeds ? loadSeeds(settings.seeds) : undefined);
  if (settings.seedsPerDomain && !seeds) {
    throw new ConfigError("--seeds-per-domain needs --seeds", { field: "seedsPerDomain" });
  }
  const sampling = {
    temperature: settings.temperature,
    topP: settings.topP,
    topK: settings.topK,
    maxTokens: settings.maxTokens,
    ...(settings.seed === undefined ? {} : { seed: settings.seed }),
  };
  const taskOptions: TaskOptions = { task, pack, seeds, seedsPerDomain: settings.seedsPerDomain, compat };
  const spri: SpriSettings = {
    ...DEFAULT_SETTINGS,
    threshold: settings.threshold,
    maxCritiques: settings.maxCritiques,
    baseSampling: sampling,
    criticSampling: sampling,
    unscored: { policy: unscoredPolicy(settings.onUnscored, preset), retries: settings.unscoredRetries },
    compat,
    stages,
  };
  return { task, taskOptions, spri, algorithm: spriAlgorithm(task, taskOptions, spri) };
}
