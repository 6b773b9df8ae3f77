/** `spri run`: a file of items through SPRI (or a baseline), resumable, cached and concurrent. */
import { type Command, Option } from "commander";
import { type ResolvedSettings, redacted } from "../config/config.ts";
import { ConfigError, InputError } from "../errors/errors.ts";
import { EXIT_CODES, type ExitCode } from "../errors/exit-codes.ts";
import { modelSpecs } from "../config/models.ts";
import { checkInputFile } from "../io/input-reader.ts";
import type { BatchApi } from "../models/batch-provider.ts";
import { formatCost, PriceTable } from "../runner/cost.ts";
import { sampleCount } from "../runner/samples.ts";
import { dryRun } from "../runner/dry-run.ts";
import { type BatchRunOptions, DEFAULT_LEASE_MS, runJob, type RunJobResult, type StopKind } from "../runner/run-job.ts";
import type { RetryOptions } from "../runner/retry.ts";
import { identitySettings } from "../runner/run-identity.ts";
import type { CacheMode } from "../store/call-cache.ts";
import { openStore } from "../store/open-store.ts";
import { parseByteSize } from "../util/byte-size.ts";
import type { FieldMapping } from "../tasks/task-item.ts";
import { ENVIRONMENT_HELP, addSettingFlags } from "./options.ts";
import { progressSink } from "./progress.ts";
import { shellQuote } from "../util/shell-quote.ts";
import { thisInvocation } from "./invocation.ts";
import { recordCommand } from "./recorded-command.ts";
import { openSession, type Prepare, type Session } from "./session.ts";

export function runCommand(program: Command): void {
  const command = program
    .command("run")
    .description("run every item of an input file through SPRI and write one record per item (re-run the same command to resume)");
  addRunOptions(command, { fields: ["goal", "reference", "systemPrompt", "domain"], workers: true });
  addSettingFlags(command);
  command.addHelpText("after", ENVIRONMENT_HELP);
  command.action((options: Record<string, unknown>) => executeRun(options));
}

/** Row fields that only some tasks read: a command lists those its algorithm reads. */
export type TaskField = "goal" | "reference" | "systemPrompt" | "domain";

const TASK_FIELD_OPTIONS: Record<TaskField, [flag: string, help: string]> = {
  goal: ["--goal-field <name>", "reappraisal: field holding the response goal (default: appraisal_dimension_aim)"],
  reference: ["--reference-field <name>", "rubric: field holding a reference answer (default: reference-free)"],
  systemPrompt: ["--system-prompt-field <name>", "rubric: field holding the input's system prompt (default: system_prompt)"],
  domain: [
    "--domain-field <name>",
    "field matched against seeds with --seeds-per-domain (reappraisal: appraisal_dimension_id; rubric: capability)",
  ],
};

/**
 * The input, output and runner options of every command that runs a file through the runner, with
 * the task fields its algorithm reads, and `--no-work` only where `spri worker` can take the run
 * over (runs that record their command: `spri run`).
 */
export function addRunOptions(command: Command, options: { fields?: readonly TaskField[]; workers?: boolean } = {}): Command {
  command
    .requiredOption("--input <file>", "items: JSON Lines (.jsonl), a JSON array (.json), CSV (.csv/.tsv) or Parquet (.parquet)")
    .requiredOption("--output <file>", "output JSON Lines; written as <file>.partial until the whole input has been through")
    .option("--limit <n>", "only the first n items of the input, to try a run; a later run with a larger n (or none) goes on from there")
    .option(
      "--max-item-size <size>",
      "largest item (its input row as JSON) sent to the models, e.g. 500KB, 5MB; larger items are rejected before any call (default 1MB)",
    )
    .option(
      "--question-field <name>",
      "field holding the question (default: first of user_input, prompt, instruction, question, input; reappraisal: Reddit Post)",
    )
    .option("--id-field <name>", "field holding the item id (default: id, else the line number)");
  for (const field of options.fields ?? []) command.option(...TASK_FIELD_OPTIONS[field]);
  command
    .option("--no-cache", "do not read or write the call cache (same as --cache off)")
    .option("--refresh", "call the models again and overwrite cached answers (same as --cache refresh)")
    .option("--dry-run", "estimate calls, tokens and cost, and spend nothing")
    .option(
      "--batch",
      "send the calls through the OpenAI Batch API, one batch per SPRI step (half price, up to 24 h a round; OpenAI-compatible models only; files in <output>.batch/; needs the openai package installed)",
    )
    .option(
      "--batch-offline",
      "batch mode that only writes each round's file (OpenAI batch JSONL, for `vllm run-batch`) and stops with exit code 4; continue with --batch-results",
    )
    .option(
      "--batch-results <file>",
      "import a batch output file (OpenAI batch output JSONL, e.g. from `vllm run-batch`) into the call cache, then go on (repeatable; implies --batch)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--batch-poll <seconds>", "seconds before the first poll of a submitted batch; later polls back off (default 30)");
  if (options.workers)
    command.option("--no-work", "only enqueue the items and write the output as `spri worker` processes finish them (a shared --store)");
  return command
    .option(
      "--lease <seconds>",
      "how long a worker's hold on an item lasts without a heartbeat; a lost worker's items go to another after it (default 30)",
    )
    .option("--json", "print the run summary as JSON")
    .addOption(newRunOption());
}

/** The flag of every command that runs a file into an output through the runner. */
export function newRunOption(): Option {
  return new Option(
    "--new-run",
    "when the output holds the records of a run with other settings, task or input: replace them with this command's run (without it, the command is refused)",
  );
}

/**
 * For commands whose algorithm runs once per item (no `--samples` flag): a flag beats an SPRI_SAMPLES
 * environment variable or config entry meant for `spri run`.
 */
export const ONE_SAMPLE: Readonly<Record<string, unknown>> = Object.freeze({ samples: 1 });

/** Runs a file through the runner; `prepare` chooses the per-item algorithm (SPRI tasks by default). */
/** The run a command worked and the store that holds it (e.g. to keep a report with it). */
export interface FinishedRun {
  runId: string;
  store: string;
}

export async function executeRun(
  options: Record<string, unknown>,
  prepare?: Prepare,
  extraFlags: Record<string, unknown> = {},
): Promise<void> {
  await executeRecordedRun(options, prepare, extraFlags);
}

/** `executeRun`, answering which run it worked (undefined for --dry-run, which makes none). */
export async function executeRecordedRun(
  options: Record<string, unknown>,
  prepare?: Prepare,
  extraFlags: Record<string, unknown> = {},
): Promise<FinishedRun | undefined> {
  const input = String(options.input);
  const output = String(options.output);
  checkInputFile(input);
  if (output === input) throw new InputError("--output must differ from --input", { file: output });
  // `--no-cache` and `--cache <mode>` share the attribute: false, a mode, or commander's default true.
  const cacheFlag =
    options.cache === false ? "off" : options.refresh ? "refresh" : typeof options.cache === "string" ? options.cache : undefined;
  delete options.cache;
  const session = await openSession(options, { ...extraFlags, ...(cacheFlag ? { cache: cacheFlag } : {}) }, prepare);
  const { settings } = session.resolved;
  const mapping: FieldMapping = {
    questionField: options.questionField as string | undefined,
    idField: options.idField as string | undefined,
    goalField: options.goalField as string | undefined,
    referenceField: options.referenceField as string | undefined,
    systemPromptField: options.systemPromptField as string | undefined,
    domainField: options.domainField as string | undefined,
  };
  const prices = PriceTable.fromSetting(settings.prices);
  const limit = limitOption(options.limit);
  const maxItemBytes = options.maxItemSize === undefined ? undefined : parseByteSize(String(options.maxItemSize), "--max-item-size");
  const samples = sampleCount(settings.samples);
  try {
    if (options.dryRun) {
      const estimate = await dryRun({
        input,
        output,
        prepared: session.prepared,
        models: session.models,
        mapping,
        samples,
        maxNewTokens: settings.maxNewTokens,
        prices,
        limit,
        maxItemBytes,
      });
      process.stdout.write(options.json ? `${JSON.stringify(estimate)}\n` : formatEstimate(estimate));
      return;
    }
    const batch = await batchOptions(options, session, settings.timeout);
    const store = await openStore(settings.store);
    const interrupt = new AbortController();
    const onSignal = () => interrupt.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const result = await runJob({
        input,
        output,
        rejects: settings.rejects,
        prepared: session.prepared,
        models: session.models,
        mapping,
        samples,
        concurrency: settings.concurrency,
        timeoutMs: settings.timeout * 1000,
        store,
        cacheMode: cacheMode(settings.cache),
        runSettings: identitySettings(redacted(session.resolved), mapping),
        budget: { maxCostUsd: settings.maxCost, maxTokens: settings.maxTokens },
        prices,
        retry: retryOptions(settings),
        progress: progressSink(process.stderr, settings.progressInterval),
        signal: interrupt.signal,
        batch,
        work: options.work !== false,
        rateLimits: { requestsPerMinute: settings.rpm, tokensPerMinute: settings.tpm },
        leaseMs: leaseSeconds(options.lease) * 1000,
        log: (line) => process.stderr.write(`spri: ${line}\n`),
        command: prepare ? undefined : recordCommand(session.resolved, mapping),
        limit,
        maxItemBytes,
        invocation: thisInvocation(),
        newRun: Boolean(options.newRun),
      });
      report(result, Boolean(options.json));
      process.exitCode = runExitCode(result);
      return { runId: result.runId, store: settings.store };
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await store.close();
    }
  } finally {
    await session.close();
  }
}

/** How a run ended, as the exit code (errors/exit-codes.ts); a stopped run's code says why it stopped. */
function runExitCode(result: RunJobResult): ExitCode {
  switch (result.outcome) {
    case "completed":
      return EXIT_CODES.ok;
    case "completed-with-failures":
      return EXIT_CODES.itemsFailed;
    case "awaiting-batch":
      return EXIT_CODES.batchPending;
    case "stopped":
      return stopExitCode(result.stopKind);
  }
}

const STOP_EXIT_CODES: Record<StopKind, ExitCode> = {
  budget: EXIT_CODES.budgetStop,
  provider: EXIT_CODES.providerRefused,
  interrupted: EXIT_CODES.interrupted,
  input: EXIT_CODES.usage,
};

/** The exit code of a run or worker that stopped early (`spri worker` too). */
export function stopExitCode(kind: StopKind | undefined): ExitCode {
  return kind === undefined ? EXIT_CODES.internal : STOP_EXIT_CODES[kind];
}

/** The batch lane's options, or undefined without --batch (nor --batch-offline, --batch-results). */
async function batchOptions(
  options: Record<string, unknown>,
  session: Session,
  timeoutSeconds: number,
): Promise<BatchRunOptions | undefined> {
  const resultsFiles = (options.batchResults as string[] | undefined) ?? [];
  if (!options.batch && !options.batchOffline && resultsFiles.length === 0) {
    if (options.batchPoll !== undefined) throw new ConfigError("--batch-poll needs --batch", { field: "batchPoll" });
    return undefined;
  }
  let pollSeconds: number | undefined;
  if (options.batchPoll !== undefined) {
    pollSeconds = Number(options.batchPoll);
    if (!Number.isFinite(pollSeconds) || pollSeconds < 0) {
      throw new ConfigError(`--batch-poll must be a number of seconds, got ${JSON.stringify(options.batchPoll)}`, { field: "batchPoll" });
    }
  }
  // The Batch API lives where each model does, with the same key; building a client calls nothing.
  const specs = modelSpecs(session.resolved);
  const apis = new Map<string, BatchApi>();
  const { OpenAIBatchApi, OPENAI_BATCH_FORMAT } = await import("../models/openai-batch.ts");
  for (const [model, spec] of [
    [session.models.base, specs.base],
    [session.models.critic, specs.critic],
  ] as const) {
    if (spec.provider === "openai-compatible")
      apis.set(model.id, new OpenAIBatchApi({ baseURL: spec.baseURL, apiKey: spec.apiKey, timeoutMs: timeoutSeconds * 1000 }));
  }
  return {
    offline: Boolean(options.batchOffline),
    format: OPENAI_BATCH_FORMAT,
    apis,
    pollSeconds,
    resultsFiles,
    log: (line) => process.stderr.write(`spri: ${line}\n`),
  };
}

/** `--limit`: a positive whole number of items, or undefined for the whole input. */
function limitOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1)
    throw new ConfigError(`--limit must be a positive whole number of items, got ${JSON.stringify(value)}`, { field: "limit" });
  return limit;
}

/** How a run retries its calls, from `--max-tries`, `--retry-delay` and `--max-retry-wait`. */
export function retryOptions(settings: ResolvedSettings): RetryOptions {
  if (!(settings.maxRetryWait >= 0))
    throw new ConfigError(`--max-retry-wait must be a number of seconds ≥ 0, got ${settings.maxRetryWait}`, { field: "maxRetryWait" });
  return { maxAttempts: settings.maxTries, baseDelayMs: settings.retryDelay * 1000, maxWaitMs: settings.maxRetryWait * 1000 };
}

/** `--lease` in seconds (default 30). */
export function leaseSeconds(value: unknown): number {
  if (value === undefined) return DEFAULT_LEASE_MS / 1000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new ConfigError(`--lease must be a positive number of seconds, got ${JSON.stringify(value)}`, { field: "lease" });
  return seconds;
}

export function cacheMode(value: string): CacheMode {
  if (value === "use" || value === "refresh" || value === "off") return value;
  throw new ConfigError(`unknown --cache "${value}"`, { field: "cache", hint: "use use, refresh or off" });
}

function report(result: RunJobResult, json: boolean): void {
  const { spend } = result;
  if (json) {
    // `calls`: the calls sent to the models; cache hits apart (spend.calls also counts hits and calls cancelled before they went out).
    process.stdout.write(
      `${JSON.stringify({ ...result, items: result.done, calls: spend.sent, cacheHits: spend.cacheHits, inputTokens: spend.inputTokens, outputTokens: spend.outputTokens, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
    return;
  }
  const where = result.outcome === "stopped" || result.outcome === "awaiting-batch" ? `${result.output}.partial` : result.output;
  const lines = [
    `spri: ${result.done} records written to ${where}${result.skipped ? ` (${result.skipped} were already there)` : ""}; ${spend.sent} calls sent to the models, ${spend.cacheHits} answered from the cache, ${spend.inputTokens + spend.outputTokens} tokens, ${formatCost(spend)}`,
  ];
  if (result.unscored) lines.push(`spri: ${result.unscored}`);
  for (const reason of result.rejectSamples) lines.push(`spri: ${reason}`);
  if (result.failed > 0)
    lines.push(`spri: ${result.failed} item(s) failed; reasons in ${result.rejects}; re-run the same command to retry them`);
  if (result.stopReason) lines.push(`spri: run stopped: ${result.stopReason}; re-run the same command to resume`);
  const awaiting = result.batch?.awaiting;
  if (awaiting) {
    lines.push(`spri: batch round ${awaiting.round} is written and waits to be run offline, e.g. with vLLM:`);
    for (const part of awaiting.parts)
      lines.push(`  vllm run-batch -i ${shellQuote(part.file)} -o ${shellQuote(part.results)} --model ${shellQuote(part.model)}`);
    lines.push("spri: then continue with:");
    lines.push(`  ${continueCommand(awaiting.parts.map((p) => p.results))}`);
  }
  process.stderr.write(`${lines.join("\n")}\n`);
}

function formatEstimate(e: Awaited<ReturnType<typeof dryRun>>): string {
  const cost =
    e.costUsd === null
      ? "unknown (no price for a model: give --prices)"
      : `$${e.costUsd.min.toFixed(4)} / $${e.costUsd.expected.toFixed(4)} / $${e.costUsd.max.toFixed(4)} (min / expected / max)`;
  return [
    `items to run: ${e.items}${e.alreadyDone ? ` (${e.alreadyDone} already in the output)` : ""}${e.invalid ? `, ${e.invalid} invalid` : ""}`,
    `model calls: ${e.calls.min} / ${e.calls.expected} / ${e.calls.max} (min / expected / max)`,
    `tokens (expected): ${e.tokens.input} in, ${e.tokens.output} out`,
    `cost: ${cost}`,
    "",
  ].join("\n");
}

/** This command again, with `--batch-results` for the given files instead of any it had. */
function continueCommand(results: readonly string[]): string {
  const args: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--batch-results") {
      i++;
      continue;
    }
    if (arg.startsWith("--batch-results=")) continue;
    args.push(arg);
  }
  for (const file of results) args.push("--batch-results", file);
  return ["spri", ...args].map(shellQuote).join(" ");
}
