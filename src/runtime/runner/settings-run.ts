/**
 * A file through the runner with its models built from a command's settings, the way `spri run`
 * builds them, for library callers that run many files in one process (`spri discover loop`: each
 * iteration mines, regenerates and evaluates with that iteration's model as the base model).
 *
 * The run's identity comes from the settings as `spri run`'s does (run-settings.ts), so the same
 * call finds its run in the store again and resumes it: finished items are skipped and calls already
 * paid for are answered from the cache.
 */
import { type ResolveInput, resolveSettings } from "../../config/config.ts";
import { closeModels, createModels, type DownloadProgress, modelFactoryOptions, modelSpecs } from "../../config/models.ts";
import type { Prepare } from "../../presets/tasks/prepare.ts";
import type { FieldMapping } from "../../presets/tasks/task-item.ts";
import type { RunStore } from "../store/run-store.ts";
import { runJob, type RunJobResult } from "./run-job.ts";
import type { ProgressSink } from "./run-progress.ts";
import type { Invocation } from "./run-state.ts";
import { settingsRunOptions } from "./run-settings.ts";

/** The base model that replaces the settings' own. */
export interface BaseModelChoice {
  baseModel: string;
  baseUrl?: string;
  baseProvider?: string;
}

export interface SettingsRunRequest {
  /** The command's settings flags and config file. */
  settings: Pick<ResolveInput, "flags" | "configFile">;
  /** Replaces the settings' base model (the URL and provider too, when given). */
  model?: BaseModelChoice;
  prepare: Prepare;
  input: string;
  output: string;
  mapping: FieldMapping;
  store: RunStore;
  progress?: ProgressSink;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** The command line that resumes the run, for `spri status` and the viewer. */
  invocation?: Invocation;
  onDownload?: (progress: DownloadProgress) => void;
}

/** Runs `prepare`'s algorithm over `input` into `output`, one sample per item; the models are closed after. */
export async function runWithSettings(request: SettingsRunRequest): Promise<RunJobResult> {
  const { settings, model, mapping } = request;
  const flags = {
    ...settings.flags,
    samples: 1,
    ...(model ? { baseModel: model.baseModel } : {}),
    ...(model?.baseUrl === undefined ? {} : { baseUrl: model.baseUrl }),
    ...(model?.baseProvider === undefined ? {} : { baseProvider: model.baseProvider }),
  };
  const resolved = resolveSettings({ flags, configFile: settings.configFile });
  const prepared = request.prepare(resolved.settings);
  const models = await createModels(modelSpecs(resolved), { ...modelFactoryOptions(resolved), onDownload: request.onDownload });
  try {
    return await runJob({
      input: request.input,
      output: request.output,
      prepared,
      models,
      mapping,
      samples: 1,
      store: request.store,
      ...settingsRunOptions(resolved, mapping),
      progress: request.progress,
      signal: request.signal,
      log: request.log,
      invocation: request.invocation,
    });
  } finally {
    await closeModels(models);
  }
}
