/**
 * The `command` trainer: runs the user's training command (a TRL or Axolotl script, say) on the
 * exported files, then a serve step brings the result into service and waits until it answers:
 * either vLLM loads it as a LoRA adapter at run time, or the user's serve command starts a server.
 *
 * The command is a template run by the shell; its placeholders are replaced by shell-quoted values:
 * {train} {validation} {output} {model} {name} {format} ({validation} is empty without a split).
 * A command that exited 0 is saved as done in the trainer state, so a re-run goes straight to serving.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { ConfigError, SpriError } from "../../base/errors/errors.ts";
import { loadLoraAdapter, waitUntilAnswers } from "../../models/served-model.ts";
import type { Trainer, TrainerContext, TrainingJob, TrainingOutcome } from "../../models/trainer.ts";

export type ServeStep =
  /** Load `<output>` into a running vLLM server as the adapter `name`. */
  | { kind: "vllm-lora"; baseUrl: string; name?: string; apiKey?: string }
  /** Start the user's serve command (same placeholders), which serves `model` at `baseUrl`. */
  | { kind: "command"; command: string; baseUrl: string; model?: string; apiKey?: string };

export interface CommandTrainerOptions {
  command: string;
  serve: ServeStep;
  /** The format the command reads (default `trl`). */
  format?: string;
  /** How long the served model may take to answer (default 600 s), and how often to ask (default 2 s). */
  serveTimeoutSeconds?: number;
  servePollSeconds?: number;
  /** Where the commands' output goes (default: this process's stderr). */
  output?: NodeJS.WritableStream;
}

/** The command failed, or the serve step could not bring the model up. */
export class TrainingCommandError extends SpriError {}

const PLACEHOLDERS = ["train", "validation", "output", "model", "name", "format"] as const;

/** POSIX shell quoting: the value as one word, whatever it holds. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The template with each {placeholder} replaced by its quoted value; an unknown one is a ConfigError. */
export function fillTemplate(template: string, values: Record<(typeof PLACEHOLDERS)[number], string>): string {
  return template.replace(/\{([a-z]+)\}/g, (whole, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name))
      throw new ConfigError(`unknown placeholder ${whole} in the command template`, {
        field: "command",
        hint: `use ${PLACEHOLDERS.map((p) => `{${p}}`).join(" ")}`,
      });
    const value = values[name as keyof typeof values];
    return value === "" ? "''" : shellQuote(value);
  });
}

export class CommandTrainer implements Trainer {
  readonly kind = "command";
  readonly format: string;
  private readonly options: CommandTrainerOptions;
  /** A serve command's server, kept running after `train` returns (the next iteration samples from it). */
  server?: ChildProcess;

  constructor(options: CommandTrainerOptions) {
    this.options = options;
    this.format = options.format ?? "trl";
  }

  async train(job: TrainingJob, context: TrainerContext): Promise<TrainingOutcome> {
    const values = {
      train: job.train,
      validation: job.validation ?? "",
      output: job.outputDir,
      model: job.baseModel,
      name: job.name,
      format: job.format,
    };
    const state = ((await context.state.load()) as { trained?: boolean } | undefined) ?? {};
    if (!state.trained) {
      mkdirSync(job.outputDir, { recursive: true });
      const command = fillTemplate(this.options.command, values);
      context.progress?.({ stage: "train", message: `running ${command}` });
      await this.run(command, context.signal);
      await context.state.save({ version: 1, trained: true, outputDir: job.outputDir });
    }
    return this.serve(job, values, context);
  }

  private async serve(job: TrainingJob, values: Parameters<typeof fillTemplate>[1], context: TrainerContext): Promise<TrainingOutcome> {
    const serve = this.options.serve;
    const access = { baseUrl: serve.baseUrl, apiKey: serve.apiKey, signal: context.signal };
    let model: string;
    if (serve.kind === "vllm-lora") {
      model = serve.name ?? `spri-${job.name}`;
      context.progress?.({ stage: "serve", message: `loading ${job.outputDir} into vLLM at ${serve.baseUrl} as ${model}` });
      await loadLoraAdapter(access, model, job.outputDir);
    } else {
      model = serve.model ?? job.name;
      const command = fillTemplate(serve.command, values);
      context.progress?.({ stage: "serve", message: `starting ${command}` });
      this.server = this.start(command);
    }
    await waitUntilAnswers(access, model, { timeoutSeconds: this.options.serveTimeoutSeconds, pollSeconds: this.options.servePollSeconds });
    context.progress?.({ stage: "serve", message: `${model} answers at ${serve.baseUrl}` });
    return { status: "trained", model, baseUrl: serve.baseUrl, job: job.outputDir };
  }

  private run(command: string, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, { shell: true, stdio: ["ignore", "pipe", "pipe"], signal });
      const out = this.options.output ?? process.stderr;
      child.stdout!.on("data", (chunk) => out.write(chunk));
      child.stderr!.on("data", (chunk) => out.write(chunk));
      child.on("error", (error) =>
        reject(new TrainingCommandError(`cannot run the training command: ${error.message}`, { field: "command", cause: error })),
      );
      child.on("close", (code, signalName) => {
        if (code === 0) resolve();
        else
          reject(
            new TrainingCommandError(`the training command exited with ${code === null ? `signal ${signalName}` : `code ${code}`}`, {
              field: "command",
              hint: "its output is above; fix it and re-run the same spri command (it trains again)",
            }),
          );
      });
    });
  }

  private start(command: string): ChildProcess {
    const child = spawn(command, { shell: true, stdio: ["ignore", "inherit", "inherit"], detached: true });
    child.unref();
    return child;
  }
}
