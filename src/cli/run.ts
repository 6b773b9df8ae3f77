/** `spri run`: a file of items through SPRI (or a baseline), resumable, cached and concurrent. */
import type { Command } from "commander";
import { type Resolved, redacted } from "../config/config.ts";
import { ConfigError, InputError } from "../errors/errors.ts";
import { checkInputFile } from "../io/input-reader.ts";
import { PriceTable } from "../runner/cost.ts";
import { dryRun } from "../runner/dry-run.ts";
import { runJob, type RunJobResult } from "../runner/run-job.ts";
import { JsonLogProgressSink, type ProgressSink, TerminalProgressSink } from "../runner/run-progress.ts";
import type { CacheMode } from "../store/call-cache.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import type { FieldMapping } from "../tasks/task-item.ts";
import { ENVIRONMENT_HELP, addSettingFlags } from "./options.ts";
import { openSession, type Prepare } from "./session.ts";

export function runCommand(program: Command): void {
  const command = program
    .command("run")
    .description("run every item of an input file through SPRI and write one record per item (re-run the same command to resume)");
  addRunOptions(command);
  addSettingFlags(command);
  command.addHelpText("after", ENVIRONMENT_HELP);
  command.action((options: Record<string, unknown>) => executeRun(options));
}

/** The input, output and field options of every command that runs a file through the runner. */
export function addRunOptions(command: Command): Command {
  return command
    .requiredOption("--input <file>", "items: JSON Lines (.jsonl), a JSON array (.json), CSV (.csv/.tsv) or Parquet (.parquet)")
    .requiredOption("--output <file>", "output JSON Lines; written as <file>.partial until the whole input has been through")
    .option("--question-field <name>", "field holding the question (default: first of user_input, prompt, instruction, question, input; reappraisal: Reddit Post)")
    .option("--id-field <name>", "field holding the item id (default: id, else the line number)")
    .option("--goal-field <name>", "reappraisal: field holding the response goal (default: appraisal_dimension_aim)")
    .option("--reference-field <name>", "rubric: field holding a reference answer (default: reference-free)")
    .option("--system-prompt-field <name>", "rubric: field holding the input's system prompt (default: system_prompt)")
    .option("--domain-field <name>", "field matched against seeds with --seeds-per-domain (reappraisal: appraisal_dimension_id; rubric: capability)")
    .option("--no-cache", "do not read or write the call cache (same as --cache off)")
    .option("--refresh", "call the models again and overwrite cached answers (same as --cache refresh)")
    .option("--dry-run", "estimate calls, tokens and cost, and spend nothing")
    .option("--json", "print the run summary as JSON");
}

/** Runs a file through the runner; `prepare` chooses the per-item algorithm (SPRI tasks by default). */
export async function executeRun(options: Record<string, unknown>, prepare?: Prepare, extraFlags: Record<string, unknown> = {}): Promise<void> {
  const input = String(options.input);
  const output = String(options.output);
  checkInputFile(input);
  if (output === input) throw new InputError("--output must differ from --input", { file: output });
  const cacheFlag = options.cache === false ? "off" : options.refresh ? "refresh" : undefined;
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
  const prices = PriceTable.fromFile(settings.prices);
  try {
    if (options.dryRun) {
      const estimate = await dryRun({ input, output, prepared: session.prepared, models: session.models, mapping, maxNewTokens: settings.maxNewTokens, prices });
      process.stdout.write(options.json ? `${JSON.stringify(estimate)}\n` : formatEstimate(estimate));
      return;
    }
    const store = new SqliteStore(settings.store);
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
        concurrency: settings.concurrency,
        timeoutMs: settings.timeout * 1000,
        store,
        cacheMode: cacheMode(settings.cache),
        runSettings: runIdentity(session.resolved, mapping),
        budget: { maxCostUsd: settings.maxCost, maxTokens: settings.maxTokens },
        prices,
        retry: { maxAttempts: settings.maxTries, baseDelayMs: settings.retryDelay * 1000 },
        progress: progressSink(settings.progressInterval),
        signal: interrupt.signal,
      });
      report(result, Boolean(options.json));
      process.exitCode = result.outcome === "completed" ? 0 : result.outcome === "stopped" ? 3 : 1;
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await store.close();
    }
  } finally {
    await session.close();
  }
}

function cacheMode(value: string): CacheMode {
  if (value === "use" || value === "refresh" || value === "off") return value;
  throw new ConfigError(`unknown --cache "${value}"`, { field: "cache", hint: "use use, refresh or off" });
}

/** What identifies a run: everything that changes the outputs, nothing about speed or display. */
function runIdentity(resolved: Resolved, mapping: FieldMapping): Record<string, unknown> {
  const all = redacted(resolved);
  for (const name of ["concurrency", "timeout", "cache", "store", "rejects", "maxTries", "retryDelay", "progressInterval", "maxCost", "maxTokens", "prices"]) delete all[name];
  return { ...all, mapping };
}

function progressSink(intervalSeconds: number): ProgressSink {
  return process.stderr.isTTY
    ? new TerminalProgressSink(process.stderr)
    : new JsonLogProgressSink((line) => process.stderr.write(line), intervalSeconds * 1000);
}

function report(result: RunJobResult, json: boolean): void {
  const { spend } = result;
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...result, items: result.done, calls: spend.calls, inputTokens: spend.inputTokens, outputTokens: spend.outputTokens, peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
    return;
  }
  const where = result.outcome === "stopped" ? `${result.output}.partial` : result.output;
  const lines = [
    `spri: ${result.done} records written to ${where}${result.skipped ? ` (${result.skipped} were already there)` : ""}; ${spend.calls} calls (${spend.cacheHits} from cache), ${spend.inputTokens + spend.outputTokens} tokens, $${spend.costUsd.toFixed(4)}`,
  ];
  for (const reason of result.rejectSamples) lines.push(`spri: ${reason}`);
  if (result.failed > 0) lines.push(`spri: ${result.failed} item(s) failed; reasons in ${result.rejects}; re-run the same command to retry them`);
  if (result.stopReason) lines.push(`spri: run stopped: ${result.stopReason}; re-run the same command to resume`);
  process.stderr.write(`${lines.join("\n")}\n`);
}

function formatEstimate(e: Awaited<ReturnType<typeof dryRun>>): string {
  const cost = e.costUsd === null ? "unknown (no price for a model: give --prices)" : `$${e.costUsd.min.toFixed(4)} / $${e.costUsd.expected.toFixed(4)} / $${e.costUsd.max.toFixed(4)} (min / expected / max)`;
  return [
    `items to run: ${e.items}${e.alreadyDone ? ` (${e.alreadyDone} already in the output)` : ""}${e.invalid ? `, ${e.invalid} invalid` : ""}`,
    `model calls: ${e.calls.min} / ${e.calls.expected} / ${e.calls.max} (min / expected / max)`,
    `tokens (expected): ${e.tokens.input} in, ${e.tokens.output} out`,
    `cost: ${cost}`,
    "",
  ].join("\n");
}
