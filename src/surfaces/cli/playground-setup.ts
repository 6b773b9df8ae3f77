/**
 * The playground of `spri view`: its choices (tasks, default model ids, τ, n_max) and the factory
 * that builds a request's run from the command's own settings: the models, and the runner settings
 * (cache, retries, budget, rate limits) its item runs with, as `spri run` would. A request names
 * model ids only; endpoints and keys stay with the command (flags, environment, config file).
 */
import { type Resolved, redacted, resolveSettings } from "../../config/config.ts";
import { type ModelSpec, modelSpecs } from "../../config/models.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import type { PlaygroundInfo } from "../server/api-types.ts";
import type { PlaygroundOptions } from "../server/playground.ts";
import { TASK_NAMES } from "../../presets/tasks/task-item.ts";
import { redactUrl } from "../../base/util/redact-url.ts";
import { withoutRunControls } from "../../runtime/runner/run-identity.ts";
import { workerRun } from "../../runtime/runner/run-settings.ts";
import { settingFlags } from "./options.ts";
import { recordCommand } from "../../runtime/runner/recorded-command.ts";
import { openSession } from "./session.ts";
import { messageOf } from "../../base/util/message-of.ts";

/** The playground's choices and model factory, from this command's own settings. */
export function playgroundOptions(options: Record<string, unknown>, resolved: Resolved): PlaygroundOptions | undefined {
  let specs: ReturnType<typeof modelSpecs>;
  try {
    specs = modelSpecs(resolved);
  } catch (error) {
    process.stderr.write(`spri view: playground off: ${messageOf(error)}\n`);
    return undefined;
  }
  const info: PlaygroundInfo = {
    tasks: [...TASK_NAMES],
    defaults: {
      task: resolved.settings.task,
      baseModel: specs.base.model,
      criticModel: specs.critic.model,
      threshold: resolved.settings.threshold,
      maxCritiques: resolved.settings.maxCritiques,
    },
  };
  return {
    info,
    factory: async (choice) => {
      const flags: Record<string, unknown> = {
        task: choice.task,
        threshold: choice.threshold,
        maxCritiques: choice.maxCritiques,
        concurrency: 1,
      };
      if (choice.baseModel !== undefined) flags.baseModel = choice.baseModel;
      if (choice.criticModel !== undefined) flags.criticModel = choice.criticModel;
      const chosen = modelSpecs(
        resolveSettings({ flags: { ...settingFlags(options), ...flags }, env: resolved.env, configFile: resolved.configFile }),
      );
      checkPlaygroundModels(specs, chosen);
      const session = await openSession(options, flags);
      const { resolved: chosenSettings, prepared, models } = session;
      return {
        run: workerRun(chosenSettings.settings, prepared, models, choice.mapping.idField ?? "id"),
        settings: withoutRunControls(redacted(chosenSettings)),
        command: recordCommand(chosenSettings, choice.mapping),
      };
    },
  };
}

type RoleSpecs = { base: ModelSpec; critic: ModelSpec };

/**
 * A request's model ids may only select among what spri view was started with: each role keeps its
 * configured provider and endpoint (so a `claude-*` id cannot move a run to Anthropic, spending a
 * key that was never meant for the viewer), and a local model is never swapped (its id is a path).
 */
export function checkPlaygroundModels(configured: RoleSpecs, chosen: RoleSpecs): void {
  for (const role of ["base", "critic"] as const) {
    const want = configured[role];
    const got = chosen[role];
    const field = `${role}Model`;
    const where = (spec: ModelSpec) => (spec.baseURL === undefined ? spec.provider : `${spec.provider} at ${redactUrl(spec.baseURL)}`);
    if (got.provider !== want.provider || got.baseURL !== want.baseURL) {
      throw new ConfigError(`model "${got.model}" would be served by ${where(got)}, but spri view's ${role} is ${where(want)}`, {
        field,
        hint: `choose a model id that endpoint serves, or restart spri view with --${role}-model (and --${role}-provider or --${role}-url) for the other one`,
      });
    }
    if (want.provider === "llama-cpp" && got.model !== want.model) {
      throw new ConfigError(`spri view's ${role} is the local model ${want.model}; the playground cannot load another`, {
        field,
        hint: `restart spri view with --${role}-model set to the model you want`,
      });
    }
  }
}
