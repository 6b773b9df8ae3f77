/** `spri discover train` and `spri discover resume`: flags onto `trainModel` / `resumeTraining` (runner/train-model.ts). */
import { type Command, Option } from "commander";
import { resolveSettings } from "../../../config/config.ts";
import { loadConstitution } from "../../../algorithms/discovery/constitution.ts";
import { ConfigError, isSpriError } from "../../../base/errors/errors.ts";
import { EXIT_CODES } from "../../../base/errors/exit-codes.ts";
import { redactUrl } from "../../../base/util/redact-url.ts";
import { OpenAIFineTuningApi } from "../../../models/openai-fine-tuning.ts";
import type { Trainer, TrainingOutcome } from "../../../models/trainer.ts";
import { CommandTrainer, type ServeStep } from "../../../runtime/runner/command-trainer.ts";
import { ManualTrainer } from "../../../runtime/runner/manual-trainer.ts";
import { OpenAITrainer } from "../../../runtime/runner/openai-trainer.ts";
import { resumeTraining, trainModel } from "../../../runtime/runner/train-model.ts";
import { openStore } from "../../../runtime/store/open-store.ts";
import { interruptSignal } from "../interrupt.ts";
import { choice, commaList, flag, integer, number, optionalText, optionSchema, parseOptions, text } from "../option-schema.ts";
import type { z } from "zod";

export const TRAINERS = ["openai", "command", "manual"] as const;

const seconds = number("a number ≥ 0", (n) => n >= 0);

/** The flags that choose and set up the trainer (`discover train` and `discover loop`). */
export const TRAINER_FLAGS = {
  trainer: choice(TRAINERS),
  format: optionalText,
  validation: number("a fraction in [0, 1)", (n) => n >= 0 && n < 1),
  restartFromBase: flag,
  fineTuningUrl: optionalText,
  trainingPrice: number("a number ≥ 0", (n) => n >= 0).optional(),
  pollInterval: seconds.optional(),
  command: optionalText,
  serveUrl: optionalText,
  serve: choice(["vllm-lora", "command"]).optional(),
  serveCommand: optionalText,
  servedModel: optionalText,
  serveTimeout: seconds,
};

const TRAIN_FLAGS = optionSchema({
  input: text,
  baseModel: text,
  dir: text,
  name: text,
  constitution: optionalText,
  seed: integer("an integer"),
  previous: commaList.optional(),
  store: optionalText,
  config: optionalText,
  newRun: flag,
  json: flag,
  ...TRAINER_FLAGS,
});

const TRAINER_SCHEMA = optionSchema(TRAINER_FLAGS);
/** The trainer flags, typed. */
export type TrainerFlags = z.output<typeof TRAINER_SCHEMA>;

const RESUME_FLAGS = optionSchema({
  model: text,
  baseUrl: optionalText,
  run: optionalText,
  store: optionalText,
  config: optionalText,
  json: flag,
});

/** Declares the trainer flags (TRAINER_FLAGS) on `command`. */
export function addTrainerOptions(command: Command): Command {
  return command
    .addOption(new Option("--trainer <name>", "who trains").choices([...TRAINERS]).makeOptionMandatory())
    .option("--format <name>", "export format (default: openai for --trainer openai, else trl; alpaca for base models)")
    .option("--validation <fraction>", "held-out fraction for validation", "0.05")
    .option("--restart-from-base", "train the initial model on every iteration's data instead of the current model on this one's")
    .option("--fine-tuning-url <url>", "openai: the API base URL (env: OPENAI_BASE_URL; default https://api.openai.com/v1)")
    .option("--training-price <usd>", "openai: USD per million trained tokens (default: OpenAI's list price on api.openai.com)")
    .option(
      "--poll-interval <s>",
      "seconds between reads of the job (openai; default 15) or looks at the training command (command; default 2)",
    )
    .option("--command <template>", "command: training command; placeholders {train} {validation} {output} {model} {name} {format}")
    .option("--serve-url <url>", "command: the OpenAI-compatible /v1 URL the trained model is served at")
    .addOption(
      new Option("--serve <how>", "command: vllm-lora (load {output} into the running vLLM) or command (--serve-command)").choices([
        "vllm-lora",
        "command",
      ]),
    )
    .option("--serve-command <template>", "command: starts a server for the trained model (same placeholders)")
    .option(
      "--served-model <id>",
      "command: the served model's id (vllm-lora: default spri-<name>-<hash of the output dir>; the loop serves <id>-iter-<t>; a serve command: default <name>)",
    )
    .option("--serve-timeout <s>", "command: seconds to wait until the model answers", "600");
}

/** What each trainer does, for the commands' help. */
export const TRAINERS_HELP = `
openai   uploads train/validation files, creates a fine-tuning job on the model to train, follows its
         events; the fine_tuned_model is the next model. Its ids are kept in the run store: after a
         kill, re-run the same command to follow the same job (no second upload or job). Env: OPENAI_API_KEY.
command  runs --command, then --serve vllm-lora (vLLM started with --enable-lora and
         VLLM_ALLOW_RUNTIME_LORA_UPDATING=True) or --serve command, and waits until the model answers.
         Killed while the command runs, a re-run waits for that command if it still runs, uses its
         result if it finished, and runs it again otherwise.
manual   stops after the export and prints the next steps; then: spri discover resume --model ID`;

export function trainCommand(discover: Command): Command {
  const command = discover
    .command("train")
    .description(
      "the M-step: export accepted trajectories in the trainer's format and train the next model (resumable: re-run the same command)",
    )
    .requiredOption("--input <file>", "mining records (spri discover mine output, or the labelled copy of spri discover cluster)");
  return addTrainerOptions(command)
    .requiredOption("--base-model <id>", "the model to train (the current policy; with --restart-from-base the initial model)")
    .requiredOption("--dir <dir>", "where the export, the training request and a local trainer's output go")
    .option("--name <name>", "the job's name (fine-tuned model suffix, LoRA name)", "mstep")
    .option("--constitution <file>", "replace principles by their cluster representatives")
    .option("--seed <n>", "training and split seed", "0")
    .option("--previous <files>", "with --restart-from-base: earlier iterations' training files, comma-separated")
    .option("--store <path>", "the run store (default from the configuration)")
    .option("--new-run", "start a new training run even if this command has one")
    .option("--json", "print the outcome as JSON")
    .addHelpText("after", TRAINERS_HELP)
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(TRAIN_FLAGS, raw);
      const resolved = resolveSettings({ flags: { store: options.store }, configFile: options.config });
      const store = await openStore(resolved.settings.store);
      const interrupt = interruptSignal();
      try {
        const trainer = makeTrainer(options, resolved.settings.store);
        const result = await trainModel({
          input: options.input,
          dir: options.dir,
          name: options.name,
          baseModel: options.baseModel,
          trainer,
          store,
          validation: options.validation,
          constitution: options.constitution === undefined ? undefined : loadConstitution(options.constitution),
          constitutionFile: options.constitution,
          seed: options.seed,
          restartFromBase: options.restartFromBase ? { previousFiles: options.previous ?? [] } : undefined,
          newRun: options.newRun,
          progress: options.json
            ? undefined
            : (e) => process.stderr.write(`spri: ${e.stage}: ${e.message}${e.totalSteps ? ` (${e.step}/${e.totalSteps})` : ""}\n`),
          signal: interrupt.signal,
        });
        printOutcome(result.runId, result.outcome, options.json);
      } catch (error) {
        if (!interrupt.signal.aborted || isSpriError(error)) throw error;
        process.stderr.write("spri: interrupted; run the same command again to go on\n");
        process.exitCode = EXIT_CODES.interrupted;
      } finally {
        interrupt.release();
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
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(RESUME_FLAGS, raw);
      const resolved = resolveSettings({ flags: { store: options.store }, configFile: options.config });
      const store = await openStore(resolved.settings.store);
      try {
        const result = await resumeTraining({ store, model: options.model, baseUrl: options.baseUrl, runId: options.run });
        printOutcome(result.runId, result.outcome, options.json);
      } finally {
        await store.close();
      }
    });
}

/**
 * The trainer the flags choose; the manual trainer's next steps name the store the resume step needs
 * (its password redacted). `perJob`: a given --served-model names each job's adapter `<id>-<job>`
 * (the loop, whose jobs are its iterations), since vLLM tells adapters apart by name only.
 */
export function makeTrainer(options: TrainerFlags, storePath: unknown, perJob = false): Trainer {
  const { format } = options;
  switch (options.trainer) {
    case "openai":
      return new OpenAITrainer({
        api: new OpenAIFineTuningApi({
          baseURL: options.fineTuningUrl ?? process.env.OPENAI_BASE_URL,
          apiKey: process.env.OPENAI_API_KEY,
        }),
        pollSeconds: options.pollInterval,
        trainingPrice: options.trainingPrice,
      });
    case "command":
      if (options.command === undefined) throw new ConfigError("--trainer command needs --command <template>", { field: "command" });
      return new CommandTrainer({
        command: options.command,
        serve: serveStep(options, perJob),
        format,
        serveTimeoutSeconds: options.serveTimeout,
        pollSeconds: options.pollInterval,
      });
    default: {
      const store = typeof storePath === "string" ? ` --store ${redactUrl(storePath)}` : "";
      return new ManualTrainer({ format, resumeCommand: `spri discover resume${store}` });
    }
  }
}

function serveStep(options: TrainerFlags, perJob: boolean): ServeStep {
  const { serveUrl: baseUrl, servedModel: model } = options;
  if (baseUrl === undefined)
    throw new ConfigError("--trainer command needs --serve-url (where the trained model will answer)", { field: "serveUrl" });
  if (options.serve === "command" || (options.serve === undefined && options.serveCommand !== undefined)) {
    if (options.serveCommand === undefined)
      throw new ConfigError("--serve command needs --serve-command <template>", { field: "serveCommand" });
    return { kind: "command", command: options.serveCommand, baseUrl, model };
  }
  return { kind: "vllm-lora", baseUrl, name: model, perJob, apiKey: process.env.VLLM_API_KEY };
}

function printOutcome(runId: string, outcome: TrainingOutcome, json: boolean): void {
  if (json) {
    const baseUrl = outcome.status === "trained" && outcome.baseUrl ? { baseUrl: redactUrl(outcome.baseUrl) } : {};
    return void process.stdout.write(`${JSON.stringify({ runId, ...outcome, ...baseUrl })}\n`);
  }
  if (outcome.status === "waiting") {
    process.stderr.write(`spri: training run ${runId} waits for a trained model. Next steps:\n`);
    outcome.nextSteps.forEach((step, i) => process.stderr.write(`  ${i + 1}. ${step}\n`));
    return;
  }
  const cost = outcome.costUsd === undefined ? "cost unknown" : `$${outcome.costUsd.toFixed(4)}`;
  process.stderr.write(
    `spri: trained ${outcome.model}${outcome.baseUrl ? ` at ${redactUrl(outcome.baseUrl)}` : ""} (run ${runId}, ${cost})\n`,
  );
}
