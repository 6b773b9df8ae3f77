/** `spri discover train` and `spri discover resume`: flags onto `trainModel` / `resumeTraining` (runner/train-model.ts). */
import { type Command, Option } from "commander";
import { resolveSettings } from "../../config/config.ts";
import { loadConstitution } from "../../discovery/constitution.ts";
import { ConfigError } from "../../errors/errors.ts";
import { OpenAIFineTuningApi } from "../../models/openai-fine-tuning.ts";
import type { Trainer, TrainingOutcome } from "../../models/trainer.ts";
import { CommandTrainer, type ServeStep } from "../../runner/command-trainer.ts";
import { ManualTrainer } from "../../runner/manual-trainer.ts";
import { OpenAITrainer } from "../../runner/openai-trainer.ts";
import { resumeTraining, trainModel } from "../../runner/train-model.ts";
import { openStore } from "../../store/open-store.ts";
import { numberOption, nonNegative } from "./discover-options.ts";

export const TRAINERS = ["openai", "command", "manual"] as const;

export function trainCommand(discover: Command): Command {
  return discover
    .command("train")
    .description(
      "the M-step: export accepted trajectories in the trainer's format and train the next model (resumable: re-run the same command)",
    )
    .requiredOption("--input <file>", "mining records (spri discover mine output, or the labelled copy of spri discover cluster)")
    .addOption(new Option("--trainer <name>", "who trains").choices([...TRAINERS]).makeOptionMandatory())
    .requiredOption("--base-model <id>", "the model to train (the current policy; with --restart-from-base the initial model)")
    .requiredOption("--dir <dir>", "where the export, the training request and a local trainer's output go")
    .option("--name <name>", "the job's name (fine-tuned model suffix, LoRA name)", "mstep")
    .option("--format <name>", "export format (default: openai for --trainer openai, else trl; alpaca for base models)")
    .option("--validation <fraction>", "held-out fraction for validation", "0.05")
    .option("--constitution <file>", "replace principles by their cluster representatives")
    .option("--seed <n>", "training and split seed", "0")
    .option("--restart-from-base", "train --base-model (M0) on every iteration's data: --previous and this export")
    .option("--previous <files>", "with --restart-from-base: earlier iterations' training files, comma-separated")
    .option("--fine-tuning-url <url>", "openai: the API base URL (env: OPENAI_BASE_URL; default https://api.openai.com/v1)")
    .option("--training-price <usd>", "openai: USD per million trained tokens (default: OpenAI's list price on api.openai.com)")
    .option("--poll-interval <s>", "openai: seconds between reads of the job", "15")
    .option("--command <template>", "command: training command; placeholders {train} {validation} {output} {model} {name} {format}")
    .option("--serve-url <url>", "command: the OpenAI-compatible /v1 URL the trained model is served at")
    .addOption(
      new Option("--serve <how>", "command: vllm-lora (load {output} into the running vLLM) or command (--serve-command)").choices([
        "vllm-lora",
        "command",
      ]),
    )
    .option("--serve-command <template>", "command: starts a server for the trained model (same placeholders)")
    .option("--served-model <id>", "command: the served model's id (default spri-<name> for vllm-lora, <name> for a serve command)")
    .option("--serve-timeout <s>", "command: seconds to wait until the model answers", "600")
    .option("--store <path>", "the run store (default from the configuration)")
    .option("--new-run", "start a new training run even if this command has one")
    .option("--json", "print the outcome as JSON")
    .addHelpText(
      "after",
      `
openai   uploads train/validation files, creates a fine-tuning job on --base-model, follows its events;
         the fine_tuned_model is the next model. Its ids are kept in the run store: after a kill,
         re-run the same command to follow the same job (no second upload or job). Env: OPENAI_API_KEY.
command  runs --command, then --serve vllm-lora (vLLM started with --enable-lora and
         VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) or --serve command, and waits until the model answers.
manual   stops after the export and prints the next steps; then: spri discover resume --model ID`,
    )
    .action(async (options: Record<string, unknown>) => {
      const resolved = resolveSettings({ flags: { store: options.store }, configFile: options.config as string | undefined });
      const store = await openStore(resolved.settings.store);
      try {
        const trainer = makeTrainer(options, resolved.settings.store);
        const result = await trainModel({
          input: String(options.input),
          dir: String(options.dir),
          name: String(options.name),
          baseModel: String(options.baseModel),
          trainer,
          store,
          validation: numberOption(options, "validation", "--validation must be a fraction in [0, 1),", (n) => n >= 0 && n < 1),
          constitution: options.constitution === undefined ? undefined : loadConstitution(String(options.constitution)),
          constitutionFile: options.constitution as string | undefined,
          seed: numberOption(options, "seed", "--seed must be an integer,", Number.isInteger),
          restartFromBase: options.restartFromBase
            ? {
                previousFiles: String(options.previous ?? "")
                  .split(",")
                  .filter(Boolean),
              }
            : undefined,
          newRun: Boolean(options.newRun),
          progress: options.json
            ? undefined
            : (e) => process.stderr.write(`spri: ${e.stage}: ${e.message}${e.totalSteps ? ` (${e.step}/${e.totalSteps})` : ""}\n`),
        });
        printOutcome(result.runId, result.outcome, Boolean(options.json));
      } finally {
        await store.close();
      }
    });
}

export function resumeCommand(discover: Command): Command {
  return discover
    .command("resume")
    .description("record the model a person trained for a waiting training run (--trainer manual), and complete it")
    .requiredOption("--model <id>", "the trained model's id as served")
    .option("--base-url <url>", "its OpenAI-compatible /v1 URL")
    .option("--run <id>", "the training run (default: the most recent one waiting)")
    .option("--store <path>", "the run store (default from the configuration)")
    .option("--json", "print the outcome as JSON")
    .action(async (options: Record<string, unknown>) => {
      const resolved = resolveSettings({ flags: { store: options.store }, configFile: options.config as string | undefined });
      const store = await openStore(resolved.settings.store);
      try {
        const result = await resumeTraining({
          store,
          model: String(options.model),
          baseUrl: options.baseUrl as string | undefined,
          runId: options.run as string | undefined,
        });
        printOutcome(result.runId, result.outcome, Boolean(options.json));
      } finally {
        await store.close();
      }
    });
}

function makeTrainer(options: Record<string, unknown>, storePath: unknown): Trainer {
  const format = options.format as string | undefined;
  switch (options.trainer) {
    case "openai":
      return new OpenAITrainer({
        api: new OpenAIFineTuningApi({
          baseURL: (options.fineTuningUrl as string | undefined) ?? process.env.OPENAI_BASE_URL,
          apiKey: process.env.OPENAI_API_KEY,
        }),
        pollSeconds: numberOption(options, "pollInterval", "--poll-interval must be a number ≥ 0,", nonNegative),
        trainingPrice: numberOption(options, "trainingPrice", "--training-price must be a number ≥ 0,", nonNegative),
      });
    case "command":
      if (options.command === undefined) throw new ConfigError("--trainer command needs --command <template>", { field: "command" });
      return new CommandTrainer({
        command: String(options.command),
        serve: serveStep(options),
        format,
        serveTimeoutSeconds: numberOption(options, "serveTimeout", "--serve-timeout must be a number ≥ 0,", nonNegative),
      });
    default: {
      const store = typeof storePath === "string" ? ` --store ${storePath}` : "";
      return new ManualTrainer({
        format,
        resumeCommand: `spri discover resume${store}`,
        trlConfig: format === "openai" ? undefined : `${options.dir}/mstep.request.json.trl.yaml`,
      });
    }
  }
}

function serveStep(options: Record<string, unknown>): ServeStep {
  if (options.serveUrl === undefined)
    throw new ConfigError("--trainer command needs --serve-url (where the trained model will answer)", { field: "serveUrl" });
  const baseUrl = String(options.serveUrl);
  const model = options.servedModel as string | undefined;
  if (options.serve === "command" || (options.serve === undefined && options.serveCommand !== undefined)) {
    if (options.serveCommand === undefined)
      throw new ConfigError("--serve command needs --serve-command <template>", { field: "serveCommand" });
    return { kind: "command", command: String(options.serveCommand), baseUrl, model };
  }
  return { kind: "vllm-lora", baseUrl, name: model, apiKey: process.env.VLLM_API_KEY };
}

function printOutcome(runId: string, outcome: TrainingOutcome, json: boolean): void {
  if (json) return void process.stdout.write(`${JSON.stringify({ runId, ...outcome })}\n`);
  if (outcome.status === "waiting") {
    process.stderr.write(`spri: training run ${runId} waits for a trained model. Next steps:\n`);
    outcome.nextSteps.forEach((step, i) => process.stderr.write(`  ${i + 1}. ${step}\n`));
    return;
  }
  const cost = outcome.costUsd === undefined ? "cost unknown" : `$${outcome.costUsd.toFixed(4)}`;
  process.stderr.write(`spri: trained ${outcome.model}${outcome.baseUrl ? ` at ${outcome.baseUrl}` : ""} (run ${runId}, ${cost})\n`);
}
