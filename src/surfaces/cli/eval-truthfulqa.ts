/**
 * `spri eval truthfulqa`: TruthfulQA MC1 and MC2 by log-likelihood (judge/truthfulqa.ts).
 *
 * Each question is one item of the runner, so a run is recorded in the store, resumed after a
 * crash or Ctrl-C without scoring a finished question again, and written exactly once to the
 * output. The call cache is not used: a question's options are scored in one call, so the item
 * is the unit a re-run skips, and that is what resume already does.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { readInputRecords } from "../../io/input-reader.ts";
import { readTruthfulQaPrimer } from "../../io/truthfulqa-primer.ts";
import { summariseTruthfulQa, type TruthfulQaSummary, truthfulQaAlgorithm } from "../../algorithms/judge/truthfulqa.ts";
import { prepareTask } from "../../presets/tasks/prepare.ts";
import type { SettingName } from "../../config/config.ts";
import { addSettingFlags, RUNNER_CLIENT_SETTINGS } from "./options.ts";
import { flag, optionalText, optionSchema, parseOptions, text } from "./option-schema.ts";
import { keepRunReport } from "./eval-report-store.ts";
import { executeRecordedRun, ONE_SAMPLE } from "./run.ts";
import { newRunOption } from "./run-options.ts";

const TRUTHFULQA_SETTINGS: readonly SettingName[] = ["baseModel", "baseUrl", ...RUNNER_CLIENT_SETTINGS, "model"];

// --input and --limit are read by executeRun (RUN_FLAGS).
const TRUTHFULQA_FLAGS = optionSchema({ output: text, primer: optionalText, json: flag });

export function truthfulQaCommand(group: Command): void {
  const command = group
    .command("truthfulqa")
    .description(
      "TruthfulQA MC1 and MC2: each answer option scored by its log-likelihood after the question (lm-evaluation-harness's rules)",
    )
    .requiredOption("--input <file>", "the questions: TruthfulQA's mc_task.json, or rows with mc1_targets and mc2_targets")
    .requiredOption("--output <file>", "one record per question (JSONL): each option's log-likelihood, mc1 and mc2")
    .option("--primer <file>", "few-shot examples put before each question (see below); none for no examples")
    .option("--limit <n>", "only the first n questions; a later run with a larger n (or none) goes on from there")
    .option("--json", "print {mc1, mc2, n} as JSON")
    .addOption(newRunOption());
  addSettingFlags(command, TRUTHFULQA_SETTINGS);
  command.addHelpText(
    "after",
    `
The model needs prompt log-probabilities: an OpenAI-compatible server's /v1/completions with echo
(vLLM: --base-url http://127.0.0.1:8000/v1 --base-model <id>) or a local GGUF (--base-model model.gguf).

Prompt: the primer, a blank line, "Q: <question>", a new line and "A:"; each option is scored as
" <option>" after it. The primer file's trailing whitespace is dropped. For numbers comparable to
published ones use the standard primer: QA_PRIMER in truthfulqa/presets.py of
github.com/sylinrl/TruthfulQA (the six question-answer pairs lm-evaluation-harness's
truthfulqa_mc1 also puts before each question).

MC1: 1 when the true option has the highest log-likelihood (sum over its tokens). MC2: the
normalised probability mass of the true options. Both are averaged over the questions (0 to 1).`,
  );
  command.action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(TRUTHFULQA_FLAGS, raw);
    const { output } = options;
    const primer = readTruthfulQaPrimer(options.primer);
    const run = await executeRecordedRun(
      { ...raw, output, questionField: "question", json: false },
      (settings) => ({
        ...prepareTask({ ...settings, task: "sft" }),
        algorithm: truthfulQaAlgorithm(primer),
        identity: { benchmark: "truthfulqa-mc", primer },
      }),
      ONE_SAMPLE,
    );
    // A run that stopped early (provider, budget, Ctrl-C) has no finished output to average.
    if ((typeof process.exitCode === "number" && process.exitCode > 1) || !existsSync(output)) return;
    const summary = summariseTruthfulQa(await readInputRecords(output));
    if (run) await keepRunReport(run.store, run.runId, { kind: "truthfulqa", report: summary });
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
  });
}

function formatSummary(summary: TruthfulQaSummary): string {
  const cell = (value: number | null) => (value === null ? "–" : value.toFixed(4));
  return `TruthfulQA (${summary.n} questions)\nMC1 ${cell(summary.mc1)}\nMC2 ${cell(summary.mc2)}\n`;
}
