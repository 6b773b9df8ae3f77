/** `spri discover loop`: flags onto `runDiscoveryLoop` (runner/discovery-loop.ts). */
import type { Command } from "commander";
import { iterationReportRows, formatIterationReport } from "../../../algorithms/discovery/iteration-metrics.ts";
import { resolveSettings } from "../../../config/config.ts";
import { EXIT_CODES } from "../../../base/errors/exit-codes.ts";
import { redactUrl } from "../../../base/util/redact-url.ts";
import { type LoopResult, runDiscoveryLoop } from "../../../runtime/runner/discovery-loop.ts";
import { cacheMode } from "../../../runtime/runner/run-settings.ts";
import { openStore } from "../../../runtime/store/open-store.ts";
import { downloadProgress } from "../download-progress.ts";
import { interruptSignal } from "../interrupt.ts";
import { thisInvocation } from "../invocation.ts";
import { flag, optionalText, parseOptions, text } from "../option-schema.ts";
import { addSettingFlags, ENVIRONMENT_HELP, settingInputs } from "../options.ts";
import { progressSink } from "../progress.ts";
import { runExitCode } from "../run.ts";
import { addClusteringOptions, CLUSTERING_FLAGS, clusteringOptions } from "./cluster.ts";
import { DISCOVERY_MODEL_SETTINGS, positiveInteger } from "./discover-options.ts";
import { addMineOptions, MINE_FLAGS, mineOptionsFrom } from "./mine.ts";
import { addTrainerOptions, makeTrainer, TRAINER_FLAGS, TRAINERS_HELP } from "./train.ts";

const LOOP_FLAGS = MINE_FLAGS.omit({ output: true, dryRun: true, iter: true }).extend({
  dir: text,
  iterations: positiveInteger,
  input: optionalText,
  sizes: optionalText,
  splitSeed: text,
  idField: text,
  questionField: optionalText,
  heldout: optionalText,
  regenerate: flag,
  trainedModel: optionalText,
  trainedUrl: optionalText,
  ...CLUSTERING_FLAGS,
  ...TRAINER_FLAGS,
});

export function loopCommand(discover: Command): Command {
  const command = discover
    .command("loop")
    .description(
      "the whole STaPLe loop, unattended: per iteration mine → cluster → (regenerate) → train → evaluate, then the next iteration with the trained model (re-run the same command to resume at the stage it stopped)",
    )
    .requiredOption("--dir <dir>", "the iterations directory (state.json; made from --input on the first run)")
    .requiredOption("--iterations <n>", "iterations to run (the directory needs a slice for each)")
    .option("--input <file>", "first run: the (prompt, gold) dataset, split into one disjoint slice per iteration")
    .option("--sizes <list>", "first run: slice sizes, comma-separated (default: --iterations equal slices)")
    .option("--split-seed <s>", "first run: seed of the split", "0")
    .option("--id-field <name>", "first run: field holding the row id (default: id, else the line number)", "id")
    .option("--question-field <name>", "field holding the prompt")
    .option("--heldout <file>", "held-out (prompt, gold) rows: each iteration's model is evaluated on them (none: no evaluation)")
    .option("--regenerate", "rewrite y2 under each accepted record's cluster medoid before training (spri discover regenerate)")
    .option("--trained-model <id>", "manual trainer: the model trained on the export the loop waits on (instead of spri discover resume)")
    .option("--trained-url <url>", "manual trainer: its OpenAI-compatible /v1 URL")
    .option("--json", "print the outcome and the iterations' metrics as JSON");
  addMineOptions(command, false);
  addClusteringOptions(command);
  addTrainerOptions(command);
  addSettingFlags(command, DISCOVERY_MODEL_SETTINGS);
  command.addHelpText(
    "after",
    `
Iteration t mines slice t with its model (--base-model for iteration 1, then the model trained after
iteration t − 1), clusters the accepted principles (the count by silhouette unless --clusters),
trains on the trajectories labelled with their cluster medoids, records the trained model as the
next iteration's, and evaluates iteration t's model on --heldout (win rates judged by
--critic-model). Each stage's end is written to <dir>/state.json: after a crash or kill -9 the same
command starts again at the stage that was cut short, and pays for nothing twice (runs resume from
the store and its call cache, which keeps the clustering's embeddings too; training follows the
same job). Progress: one line per stage on stderr.
--max-cost and --max-tokens apply to each stage's run. See docs/discovery.md.
${TRAINERS_HELP}${ENVIRONMENT_HELP}`,
  );
  command.action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(LOOP_FLAGS, raw);
    const inputs = settingInputs(raw);
    const { settings } = resolveSettings(inputs);
    const mining = mineOptionsFrom(options);
    const store = await openStore(settings.store);
    const interrupt = interruptSignal();
    try {
      const result = await runDiscoveryLoop({
        dir: options.dir,
        iterations: options.iterations,
        init: options.input === undefined ? undefined : initOptions(options, settings),
        store,
        trainer: makeTrainer(options, settings.store, true),
        settings: inputs,
        mining,
        questionField: options.questionField,
        cluster: { ...clusteringOptions(options, process.env), cache: cacheMode(settings.cache) },
        regenerate: options.regenerate,
        training: { validation: options.validation, seed: options.seed, restartFromBase: options.restartFromBase },
        evaluation:
          options.heldout === undefined
            ? undefined
            : { heldout: options.heldout, goldField: options.goldField, answer: mining.sampling.answer, judge: mining.sampling.judge },
        trainedModel:
          options.trainedModel === undefined
            ? undefined
            : { model: options.trainedModel, ...(options.trainedUrl === undefined ? {} : { baseUrl: options.trainedUrl }) },
        log: (line) => process.stderr.write(`spri: loop: ${line}\n`),
        progress: () => progressSink(process.stderr, settings.progressInterval),
        onDownload: downloadProgress(),
        invocation: thisInvocation(),
        signal: interrupt.signal,
      });
      report(result, options.json);
    } finally {
      interrupt.release();
      await store.close();
    }
  });
  return command;
}

type LoopFlags = ReturnType<typeof LOOP_FLAGS.parse>;

function initOptions(options: LoopFlags, settings: { baseModel?: string; baseUrl?: string; baseProvider?: string }) {
  const { baseModel, baseUrl, baseProvider } = settings;
  return {
    input: options.input!,
    sizes: options.sizes?.split(",").map((s) => Number(s.trim())),
    seed: options.splitSeed,
    idField: options.idField,
    ...(baseModel === undefined
      ? {}
      : { model: { baseModel, ...(baseUrl === undefined ? {} : { baseUrl }), ...(baseProvider === undefined ? {} : { baseProvider }) } }),
  };
}

/** The outcome as one JSON line (`--json`), the last model's URL without its password. */
export function loopJson(result: LoopResult): string {
  const state = result.status === "completed" ? result.state : undefined;
  const { state: _state, ...rest } = result as LoopResult & { state?: unknown };
  const final =
    result.status === "completed" && result.final?.baseUrl ? { final: { ...result.final, baseUrl: redactUrl(result.final.baseUrl) } } : {};
  return JSON.stringify({ ...rest, ...final, ...(state ? { iterations: iterationReportRows(state) } : {}) });
}

/** The outcome: the report table on stdout (or JSON), what happens next on stderr, and the exit code. */
function report(result: LoopResult, json: boolean): void {
  if (json) process.stdout.write(`${loopJson(result)}\n`);
  switch (result.status) {
    case "completed":
      if (!json) process.stdout.write(formatIterationReport(result.state));
      if (result.final)
        process.stderr.write(
          `spri: loop: done; the last model trained: ${result.final.model}${result.final.baseUrl ? ` at ${redactUrl(result.final.baseUrl)}` : ""}\n`,
        );
      return;
    case "waiting":
      process.stderr.write(`spri: loop: iteration ${result.iter} waits for a trained model (training run ${result.runId}). Next steps:\n`);
      [
        ...result.nextSteps,
        "run this spri discover loop command again (or add --trained-model <id> --trained-url <url> to it instead of the step before)",
      ].forEach((step, i) => process.stderr.write(`  ${i + 1}. ${step}\n`));
      return;
    case "stopped":
      process.exitCode = runExitCode(result.run);
      return;
    case "interrupted":
      process.stderr.write(`spri: loop: interrupted at iteration ${result.iter}, ${result.stage}; run the same command again to go on\n`);
      process.exitCode = EXIT_CODES.interrupted;
  }
}
