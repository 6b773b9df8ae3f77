/** What every model-using command does first: resolve settings once, build models, prepare the task. */
import { type Resolved, resolveSettings } from "../../config/config.ts";
import { closeModels, createModels, modelFactoryOptions, modelSpecs } from "../../config/models.ts";
import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import { type PreparedTask, prepareTask } from "../../presets/tasks/prepare.ts";
import { downloadProgress } from "./download-progress.ts";
import { settingInputs } from "./options.ts";

export interface Session {
  resolved: Resolved;
  prepared: PreparedTask;
  models: SpriModels;
  close(): Promise<void>;
}

import type { Prepare } from "../../presets/tasks/prepare.ts";

export type { Prepare };

export async function openSession(
  options: Record<string, unknown>,
  extraFlags: Record<string, unknown> = {},
  prepare: Prepare = prepareTask,
): Promise<Session> {
  const inputs = settingInputs(options);
  const resolved = resolveSettings({ ...inputs, flags: { ...inputs.flags, ...extraFlags } });
  const prepared = prepare(resolved.settings);
  const specs = modelSpecs(resolved);
  const models = await createModels(specs, { ...modelFactoryOptions(resolved), onDownload: downloadProgress() });
  return {
    resolved,
    prepared,
    models,
    close: () => closeModels(models),
  };
}
