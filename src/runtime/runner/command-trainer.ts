/**
 * The `command` trainer: runs the user's training command (a TRL or Axolotl script, say) on the
 * exported files, then a serve step brings the result into service and waits until it answers:
 * either vLLM loads it as a LoRA adapter at run time, or the user's serve command starts a server.
 *
 * The command is a template run by the shell; its placeholders are replaced by shell-quoted values:
 * {train} {validation} {output} {model} {name} {format} ({validation} is empty without a split).
 *
 * Contract on kill -9 and re-runs (of the same job, i.e. the same trainer state). The command runs
 * in a process group of its own with its output in `<dir>/train-command.<n>.log` (copied to this
 * process's output as it grows) and its exit status written to `<dir>/train-command.<n>.exit` when
 * it ends, `<dir>` being the folder above {output} (training-command.ts). The attempt (its number,
 * host and files) is saved in the trainer state before the command starts, its pid once it has, and `trained` once
 * it has exited 0. So a spri killed while the command trains leaves it training, and a re-run:
 *   - goes straight to serving when the state says `trained`;
 *   - takes the result of the earlier attempt when it exited 0 while spri was down: the command is
 *     not run twice;
 *   - waits for the earlier attempt while it still runs on this host (its process group is alive),
 *     then goes on as above, never starting a second one beside it;
 *   - otherwise runs the command again from the start, as attempt n + 1: when the earlier one
 *     failed, was killed with its process group, or ran on another host (where it cannot be watched).
 * The wrapper also writes its pid to `<exit file>.pid` before the command starts, so an attempt
 * saved without its pid (spri killed just after starting it) is still found and waited for.
 * Stopping spri with Ctrl-C or SIGTERM (its abort signal) stops the attempt it started (SIGTERM to
 * the group); the re-run starts a new one. Serving runs on every re-run until the job's outcome is
 * recorded. vLLM tells adapters apart by name only, so each job's adapter has a name of its own
 * (`spri-<job>-<hash of the output directory>`, or the given name, per job when `perJob`), and a
 * name vLLM already has is accepted only when this job's state says it loaded it (a re-run).
 * A serve command's server runs until the next job's serve step, which stops its process group
 * first (also one recorded by a killed spri for the same job); a server left by a spri killed in
 * an earlier job is not known here and must be stopped by hand.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { ConfigError, SpriError } from "../../base/errors/errors.ts";
import { EXIT_CODES } from "../../base/errors/exit-codes.ts";
import { redactUrl } from "../../base/util/redact-url.ts";
import { loadLoraAdapter, type ServerAccess, waitUntilAnswers } from "../../models/served-model.ts";
import type { Trainer, TrainerContext, TrainingJob, TrainingOutcome } from "../../models/trainer.ts";
import {
  attemptPid,
  type CommandAttempt,
  exitStatus,
  type GroupOrigin,
  newAttempt,
  startCommand,
  startedHere,
  stillRuns,
  stopCommand,
  stopGroup,
  thisOrigin,
  waitForCommand,
} from "./training-command.ts";

export type ServeStep =
  /** Load `<output>` into a running vLLM server as the adapter `name` (`<name>-<job>` when `perJob`). */
  | { kind: "vllm-lora"; baseUrl: string; name?: string; perJob?: boolean; apiKey?: string }
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
  /** How often to look at a running training command: its new output, whether it ended (default 2 s). */
  pollSeconds?: number;
  /** Where the commands' output goes (default: this process's stderr). */
  output?: NodeJS.WritableStream;
}

/** The command failed, or the serve step could not bring the model up. */
export class TrainingCommandError extends SpriError {}

/** Ctrl-C or SIGTERM stopped the training command; a re-run starts it again. */
export class TrainingInterruptedError extends SpriError {
  override readonly exitCode = EXIT_CODES.interrupted;
}

/** What the trainer saves between re-runs of a job. */
interface CommandTrainerState {
  version: 1;
  attempt?: CommandAttempt;
  /** The command exited 0 (for this job's output directory). */
  trained?: boolean;
  outputDir?: string;
  /** The adapter this job loads into vLLM, saved before the request (so a re-run may find it loaded). */
  served?: { name: string; path: string };
  /** The serve command's server this job started (its process group, and where it started). */
  server?: { pid: number } & GroupOrigin;
}

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
    const state = ((await context.state.load()) as CommandTrainerState | undefined) ?? { version: 1 };
    if (!state.trained) {
      await this.trainOnce(fillTemplate(this.options.command, values), job, state, context);
      Object.assign(state, { trained: true, outputDir: job.outputDir });
      await context.state.save({ ...state });
    }
    return this.serve(job, values, state, context);
  }

  /** The command's result for this job: an earlier attempt's when it ended well (waiting for it while it runs), else a new attempt's. */
  private async trainOnce(command: string, job: TrainingJob, state: CommandTrainerState, context: TrainerContext): Promise<void> {
    const earlier = state.attempt;
    if (earlier && (await this.earlierSucceeded(earlier, context))) return;
    mkdirSync(job.outputDir, { recursive: true });
    const attempt = newAttempt(dirname(job.outputDir), (earlier?.n ?? 0) + 1);
    state.attempt = attempt;
    await context.state.save({ ...state });
    context.progress?.({ stage: "train", message: `running ${command} (output also in ${attempt.log})` });
    const child = startCommand(command, attempt);
    if (child.pid === undefined) {
      const [error] = (await once(child, "error")) as [Error];
      throw new TrainingCommandError(`cannot run the training command: ${error.message}`, { field: "command", cause: error });
    }
    // Later errors (a signal that cannot be sent) change nothing: the exit status says how it ended.
    child.on("error", () => undefined);
    state.attempt = { ...attempt, pid: child.pid };
    await context.state.save({ ...state });
    const status = await this.waitFor(state.attempt, context, child);
    if (status === 0) return;
    throw new TrainingCommandError(`the training command exited with ${status === undefined ? "no status" : `code ${status}`}`, {
      field: "command",
      hint: `its output is above and in ${attempt.log}; fix it and re-run the same spri command (it trains again)`,
    });
  }

  /** Whether the attempt a killed spri left behind ended with 0, waiting for it while it still runs here. */
  private async earlierSucceeded(earlier: CommandAttempt, context: TrainerContext): Promise<boolean> {
    const say = (message: string) => context.progress?.({ stage: "train", message });
    let status = exitStatus(earlier);
    if (status === undefined && stillRuns(earlier)) {
      say(
        `the training command started earlier (pid ${attemptPid(earlier)}, ${earlier.startedAt}) still runs; waiting for it (output: ${earlier.log})`,
      );
      status = await this.waitFor(earlier, context);
    }
    if (status === 0) {
      say(`the training command started earlier (${earlier.startedAt}) has finished; its result is used`);
      return true;
    }
    const why =
      status !== undefined
        ? `ended with code ${status}`
        : earlier.host !== hostname()
          ? `ran on ${earlier.host}, where it cannot be watched from here`
          : "no longer runs and left no exit status";
    say(`the training command started earlier (${earlier.startedAt}) ${why}; running it again`);
    return false;
  }

  /** The attempt's exit status; on abort, the attempt this process started is stopped and the wait ends in an error. */
  private async waitFor(attempt: CommandAttempt, context: TrainerContext, child?: ChildProcess): Promise<number | undefined> {
    try {
      return await waitForCommand(attempt, {
        child,
        out: this.options.output ?? process.stderr,
        fromStart: child !== undefined,
        pollSeconds: this.options.pollSeconds ?? 2,
        signal: context.signal,
      });
    } catch (error) {
      if (!context.signal?.aborted) throw error;
      if (child) stopCommand(attempt);
      throw new TrainingInterruptedError(
        child ? "interrupted: the training command was stopped" : "interrupted while waiting for the training command",
        {
          hint: "run the same spri command again to go on",
        },
      );
    }
  }

  private async serve(
    job: TrainingJob,
    values: Parameters<typeof fillTemplate>[1],
    state: CommandTrainerState,
    context: TrainerContext,
  ): Promise<TrainingOutcome> {
    const serve = this.options.serve;
    const access = { baseUrl: serve.baseUrl, apiKey: serve.apiKey, signal: context.signal };
    const at = redactUrl(serve.baseUrl);
    let model: string;
    if (serve.kind === "vllm-lora") {
      model = adapterName(serve, job);
      context.progress?.({ stage: "serve", message: `loading ${job.outputDir} into vLLM at ${at} as ${model}` });
      await this.loadAdapter(access, model, job.outputDir, state, context);
    } else {
      model = serve.model ?? job.name;
      await this.stopServer(state.server);
      const command = fillTemplate(serve.command, values);
      context.progress?.({ stage: "serve", message: `starting ${command}` });
      this.server = this.start(command);
      if (this.server.pid !== undefined) await context.state.save({ ...state, server: { pid: this.server.pid, ...thisOrigin() } });
    }
    await waitUntilAnswers(access, model, { timeoutSeconds: this.options.serveTimeoutSeconds, pollSeconds: this.options.servePollSeconds });
    context.progress?.({ stage: "serve", message: `${model} answers at ${at}` });
    return { status: "trained", model, baseUrl: serve.baseUrl, job: job.outputDir };
  }

  /** Loads the job's adapter; the intent is saved first, so a re-run cut short after the load accepts it as loaded. */
  private async loadAdapter(access: ServerAccess, name: string, path: string, state: CommandTrainerState, context: TrainerContext) {
    const resuming = state.served?.name === name && state.served.path === path;
    await context.state.save({ ...state, served: { name, path } });
    try {
      await loadLoraAdapter(access, name, path, resuming);
    } catch (error) {
      if (!resuming) await context.state.save({ ...state, served: undefined });
      throw error;
    }
  }

  /**
   * Stops the serve command's server this trainer started, and `recorded` (one a killed spri started
   * for the same job, on this host since its boot: after a reboot the number may be another
   * process's), and waits until their process groups are gone: the next server may need the same
   * port, and must not be mistaken for the old one.
   */
  async stopServer(recorded?: { pid: number } & GroupOrigin): Promise<void> {
    const groups = new Set<number>();
    if (this.server?.pid !== undefined) groups.add(this.server.pid);
    if (recorded && startedHere(recorded)) groups.add(recorded.pid);
    this.server = undefined;
    for (const pgid of groups) await stopGroup(pgid);
  }

  private start(command: string): ChildProcess {
    const child = spawn(command, { shell: true, stdio: ["ignore", "inherit", "inherit"], detached: true });
    child.unref();
    return child;
  }
}

/** The job's adapter name: the given one (with the job's name when `perJob`), else one of its own for this output directory. */
export function adapterName(serve: { name?: string; perJob?: boolean }, job: Pick<TrainingJob, "name" | "outputDir">): string {
  if (serve.name !== undefined) return serve.perJob ? `${serve.name}-${job.name}` : serve.name;
  const digest = createHash("sha256").update(resolve(job.outputDir)).digest("hex").slice(0, 8);
  return `spri-${job.name}-${digest}`;
}
