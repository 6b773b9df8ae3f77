/** `spri run`: a file of items through SPRI (or a baseline), resumable, cached and concurrent. */
import type { Command } from "commander";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { EXIT_CODES, type ExitCode } from "../../base/errors/exit-codes.ts";
import { modelSpecs } from "../../config/models.ts";
import { checkInputFile } from "../../io/input-reader.ts";
import type { BatchApi } from "../../models/batch-provider.ts";
import { formatCost } from "../../runtime/runner/cost.ts";
import { sampleCount } from "../../runtime/runner/samples.ts";
import { settingsRunOptions } from "../../runtime/runner/run-settings.ts";
import { dryRun } from "../../runtime/runner/dry-run.ts";
import { type BatchRunOptions, DEFAULT_LEASE_MS, runJob, type RunJobResult, type StopKind } from "../../runtime/runner/run-job.ts";
import { openStore } from "../../runtime/store/open-store.ts";
import { parseByteSize } from "../../base/util/byte-size.ts";
import type { FieldMapping } from "../../presets/tasks/task-item.ts";
import { ENVIRONMENT_HELP, addSettingFlags } from "./options.ts";
import { interruptSignal } from "./interrupt.ts";
import { parseOptions } from "./option-schema.ts";
import { addRunOptions, RUN_FLAGS, type RunFlags } from "./run-options.ts";
import { progressSink } from "./progress.ts";
import { shellQuote } from "../../base/util/shell-quote.ts";
import { thisInvocation } from "./invocation.ts";
import { recordCommand } from "../../runtime/runner/recorded-command.ts";
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
  const flags = parseOptions(RUN_FLAGS, options);
  const { input, output, limit } = flags;
  checkInputFile(input);
  if (output === input) throw new InputError("--output must differ from --input", { file: output });
  const cacheFlag = flags.cache === false ? "off" : flags.refresh ? "refresh" : typeof flags.cache === "string" ? flags.cache : undefined;
  const session = await openSession(
    { ...options, cache: undefined },
    { ...extraFlags, ...(cacheFlag ? { cache: cacheFlag } : {}) },
    prepare,
  );
  const { settings } = session.resolved;
  const mapping: FieldMapping = {
    questionField: flags.questionField,
    idField: flags.idField,
    goalField: flags.goalField,
    referenceField: flags.referenceField,
    systemPromptField: flags.systemPromptField,
    domainField: flags.domainField,
  };
  const maxItemBytes = flags.maxItemSize === undefined ? undefined : parseByteSize(flags.maxItemSize, "--max-item-size");
  // The run's call settings (timeout, cache, retries, prices, budget, rate limits), made once: the estimate reads its prices.
  const runOptions = settingsRunOptions(session.resolved, mapping);
  // What the estimate and the run read alike.
  const job = {
    input,
    output,
    prepared: session.prepared,
    models: session.models,
    mapping,
    samples: sampleCount(settings.samples),
    limit,
    maxItemBytes,
  };
  try {
    if (flags.dryRun) {
      const estimate = await dryRun({ ...job, maxNewTokens: settings.maxNewTokens, prices: runOptions.prices });
      process.stdout.write(flags.json ? `${JSON.stringify(estimate)}\n` : formatEstimate(estimate));
      return;
    }
    const batch = await batchOptions(flags, session, settings.timeout);
    const store = await openStore(settings.store);
    const interrupt = interruptSignal();
    try {
      const result = await runJob({
        ...job,
        store,
        ...runOptions,
        progress: progressSink(process.stderr, settings.progressInterval),
        signal: interrupt.signal,
        batch,
        work: flags.work,
        leaseMs: leaseSeconds(flags.lease) * 1000,
        log: (line) => process.stderr.write(`spri: ${line}\n`),
        command: prepare ? undefined : recordCommand(session.resolved, mapping),
        invocation: thisInvocation(),
        newRun: flags.newRun,
      });
      report(result, flags.json);
      process.exitCode = runExitCode(result);
      return { runId: result.runId, store: settings.store };
    } finally {
      interrupt.release();
      await store.close();
    }
  } finally {
    await session.close();
  }
}

/** How a run ended, as the exit code (errors/exit-codes.ts); a stopped run's code says why it stopped. */
export function runExitCode(result: RunJobResult): ExitCode {
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
async function batchOptions(flags: RunFlags, session: Session, timeoutSeconds: number): Promise<BatchRunOptions | undefined> {
  const { batchResults: resultsFiles, batchPoll: pollSeconds } = flags;
  if (!flags.batch && !flags.batchOffline && resultsFiles.length === 0) {
    if (pollSeconds !== undefined) throw new ConfigError("--batch-poll needs --batch", { field: "batchPoll" });
    return undefined;
  }
  // The Batch API lives where each model does, with the same key; building a client calls nothing.
  const specs = modelSpecs(session.resolved);
  const apis = new Map<string, BatchApi>();
  const { OpenAIBatchApi, OPENAI_BATCH_FORMAT } = await import("../../models/openai-batch.ts");
  for (const [model, spec] of [
    [session.models.base, specs.base],
    [session.models.critic, specs.critic],
  ] as const) {
    if (spec.provider === "openai-compatible")
      apis.set(model.id, new OpenAIBatchApi({ baseURL: spec.baseURL, apiKey: spec.apiKey, timeoutMs: timeoutSeconds * 1000 }));
  }
  return {
    offline: flags.batchOffline,
    format: OPENAI_BATCH_FORMAT,
    apis,
    pollSeconds,
    resultsFiles,
    log: (line) => process.stderr.write(`spri: ${line}\n`),
  };
}

/** `--lease` in seconds, checked by the flag's schema (default 30). */
export function leaseSeconds(value: number | undefined): number {
  return value ?? DEFAULT_LEASE_MS / 1000;
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
