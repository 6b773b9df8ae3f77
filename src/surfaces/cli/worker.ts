/** `spri worker`: work the unfinished items of the runs in a shared store (see runner/worker.ts). */
import type { Command } from "commander";
import { resolveSettings } from "../../config/config.ts";
import { createModels, modelFactoryOptions, modelSpecs } from "../../config/models.ts";
import { formatCost } from "../../runtime/runner/cost.ts";
import { runWorker, type WorkerRun } from "../../runtime/runner/worker.ts";
import type { RunMeta, RunStore } from "../../runtime/store/run-store.ts";
import { openStore } from "../../runtime/store/open-store.ts";
import { prepareTask } from "../../presets/tasks/prepare.ts";
import { downloadProgress } from "./download-progress.ts";
import { resolveRecorded, restoreCommand } from "../../runtime/runner/recorded-command.ts";
import { COMMAND_ARTIFACT } from "../../runtime/runner/run-state.ts";
import { interruptSignal } from "./interrupt.ts";
import { leaseSeconds, stopExitCode } from "./run.ts";
import { workerRun } from "../../runtime/runner/run-settings.ts";
import { flag, number, optionalText, optionSchema, parseOptions } from "./option-schema.ts";
import { EXIT_CODES } from "../../base/errors/exit-codes.ts";
import { ENVIRONMENT_HELP } from "./options.ts";

export function workerCommand(program: Command): void {
  program
    .command("worker")
    .description(
      "work the unfinished items of a run (or of every run) in a shared store, with each run's recorded settings and this machine's API keys",
    )
    .option("--store <location>", "the run store: a SQLite file or postgres://… (env: SPRI_STORE; default spri.db)")
    .option("--run <id>", "only this run (default: every running run, oldest first)")
    .option("--concurrency <n>", "model calls in flight per endpoint in this worker (env: SPRI_CONCURRENCY; default 4)")
    .option("--drain", "exit once nothing is left to do (default: wait for more work)")
    .option("--lease <seconds>", "how long this worker's hold on an item lasts without a heartbeat (default 30)")
    .option("--json", "print the summary as JSON")
    .addHelpText("after", ENVIRONMENT_HELP)
    .action((options: Record<string, unknown>) => executeWorker(options));
}

const WORKER_FLAGS = optionSchema({
  store: optionalText,
  run: optionalText,
  // A setting: resolveSettings checks it with SPRI_CONCURRENCY.
  concurrency: optionalText,
  drain: flag,
  lease: number("a positive number of seconds", (n) => n > 0).optional(),
  json: flag,
});

async function executeWorker(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(WORKER_FLAGS, raw);
  const local = resolveSettings({ flags: { store: options.store, concurrency: options.concurrency } }).settings;
  const store = await openStore(local.store);
  const interrupt = interruptSignal();
  try {
    const result = await runWorker({
      store,
      runId: options.run,
      concurrency: local.concurrency,
      drain: options.drain,
      leaseMs: leaseSeconds(options.lease) * 1000,
      signal: interrupt.signal,
      openRun: (run) => openRecordedRun(store, run, local.concurrency),
      log: (line) => process.stderr.write(`spri worker: ${line}\n`),
    });
    if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const { spend } = result;
      process.stderr.write(
        `spri worker: ${result.done} items done, ${result.failed} failed${result.refused + result.lost ? `, ${result.refused + result.lost} given up (lease lost to another worker)` : ""} in ${result.runs.length} run(s); ${spend.sent} calls sent to the models, ${spend.cacheHits} answered from the cache, ${formatCost(spend)}\n`,
      );
      if (result.stopReason) process.stderr.write(`spri worker: stopped: ${result.stopReason}\n`);
    }
    // A worker's failed items are its runs' (in their rejects files); its own code says only whether it stopped early.
    process.exitCode = result.stopReason === undefined ? EXIT_CODES.ok : stopExitCode(result.stopKind);
  } finally {
    interrupt.release();
    await store.close();
  }
}

/** A run's algorithm and models from its recorded command, with this machine's keys. */
async function openRecordedRun(store: RunStore, run: RunMeta, concurrency: number): Promise<WorkerRun> {
  const restored = restoreCommand(await store.getArtifact(run.id, COMMAND_ARTIFACT), run.id);
  const { mapping } = restored;
  const resolved = resolveRecorded(restored, { concurrency });
  const { settings } = resolved;
  const prepared = prepareTask(settings);
  const models = await createModels(modelSpecs(resolved), {
    ...modelFactoryOptions(resolved, concurrency),
    onDownload: downloadProgress(),
  });
  return workerRun(settings, prepared, models, mapping.idField ?? "id");
}
