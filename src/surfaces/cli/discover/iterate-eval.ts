/**
 * `spri discover iterate eval` and `iterate report`: an iteration's model on held-out prompts
 * (answers, Rouge-L against the gold, win rates against the previous iteration and the base model),
 * and the metrics of every iteration side by side.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { formatIterationReport, iterationReportRows } from "../../../algorithms/discovery/iteration-metrics.ts";
import { entry as iterationEntry, iterFile } from "../../../algorithms/discovery/iterations.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import { readState } from "../../../runtime/runner/discovery-iterations.ts";
import { prepareEvalInput, recordIterationEval } from "../../../runtime/runner/iteration-eval.ts";
import { prepareIterationEval } from "../../../presets/tasks/prepare-discovery.ts";
import { addSettingFlags } from "../options.ts";
import { flag, optionSchema, parseOptions, text } from "../option-schema.ts";
import { executeRun, ONE_SAMPLE } from "../run.ts";
import { newRunOption } from "../run-options.ts";
import { DISCOVERY_MODEL_SETTINGS, positiveInteger, SHARED_SAMPLING_FLAGS, sharedSampling, temperature } from "./discover-options.ts";

const EVAL_FLAGS = optionSchema({
  dir: text,
  iter: positiveInteger,
  input: text,
  goldField: text,
  answerTemperature: temperature,
  answerMaxTokens: positiveInteger,
  judgeTemperature: temperature,
  dryRun: flag,
  json: flag,
  ...SHARED_SAMPLING_FLAGS,
});

const REPORT_FLAGS = optionSchema({ dir: text, json: flag });

export function addIterateEvalCommands(iterate: Command): void {
  const evaluate = iterate
    .command("eval")
    .description(
      "evaluate an iteration's model on held-out prompts: Rouge-L against the gold, win rates against the previous iteration's and the base model's answers (pairwise judge: the critic model)",
    )
    .requiredOption("--dir <dir>", "the iterations directory (state.json)")
    .requiredOption("--iter <t>", "iteration number (from 1); iteration t − 1 must be evaluated first")
    .requiredOption("--input <file>", "held-out (prompt, gold) rows, the same file for every iteration, disjoint from the mining slices")
    .option("--gold-field <name>", "field holding the gold response (rows without it get no Rouge-L)", "gold")
    .option("--question-field <name>", "field holding the prompt")
    .option("--answer-temperature <t>", "temperature of the model's answers", "0.7")
    .option("--answer-max-tokens <n>", "most new tokens of an answer", "1024")
    .option("--judge-temperature <t>", "temperature of the judge", "0")
    .option("--no-cache", "do not read or write the call cache")
    .option("--refresh", "call the models again and overwrite cached answers")
    .option("--dry-run", "estimate calls, tokens and cost, and spend nothing")
    .option("--json", "print the run summary as JSON")
    .addOption(newRunOption());
  addSettingFlags(evaluate, DISCOVERY_MODEL_SETTINGS);
  evaluate.addHelpText(
    "after",
    `
The model is the one recorded for the iteration (iterate model), unless --base-model is given; the
judge is --critic-model (default: the same model; prefer a separate judge). Writes
<dir>/iter-<t>/eval.input.jsonl (held-out rows with eval_previous_answer, eval_base_answer) and
<dir>/iter-<t>/eval.jsonl (eval_answer, eval_rougeL, eval_vs_previous, eval_vs_base), then stores the
summary in state.json and prints the report (spri discover iterate report). Re-run to resume.`,
  );
  evaluate.action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(EVAL_FLAGS, raw);
    const { dir, iter, input: heldout } = options;
    const model = iterationEntry(readState(dir), iter).model;
    if (raw.baseModel === undefined) {
      if (!model)
        throw new ConfigError(`no model is recorded for iteration ${iter}`, {
          field: "baseModel",
          hint: `run spri discover iterate model --dir ${dir} --iter ${iter} --base-model <id>, or pass --base-model`,
        });
      raw.baseModel = model.baseModel;
      if (raw.baseUrl === undefined && model.baseUrl !== undefined) raw.baseUrl = model.baseUrl;
      if (raw.baseProvider === undefined && model.baseProvider !== undefined) raw.baseProvider = model.baseProvider;
    }
    const joined = await prepareEvalInput(dir, iter, heldout);
    const shared = sharedSampling(options);
    const output = iterFile(dir, iter, "eval");
    raw.input = joined.file;
    raw.output = output;
    raw.idField = readState(dir).dataset.idField;
    await executeRun(
      raw,
      prepareIterationEval({
        goldField: options.goldField,
        answer: { topP: 0.95, ...shared, temperature: options.answerTemperature, maxTokens: options.answerMaxTokens },
        judge: { ...(shared.seed === undefined ? {} : { seed: shared.seed }), temperature: options.judgeTemperature },
      }),
      ONE_SAMPLE,
    );
    if (options.dryRun || !existsSync(output)) return;
    const state = await recordIterationEval(dir, iter, { heldout });
    if (!options.json) process.stdout.write(formatIterationReport(state));
  });

  iterate
    .command("report")
    .description(
      "metrics across iterations: accepted examples, constitution size and diversity, held-out Rouge-L, win rates against the previous iteration and the base model",
    )
    .requiredOption("--dir <dir>", "the iterations directory (state.json)")
    .option("--json", "print the rows as JSON, with each iteration's full win-rate reports")
    .action((raw: Record<string, unknown>) => {
      const options = parseOptions(REPORT_FLAGS, raw);
      const state = readState(options.dir);
      if (!options.json) {
        process.stdout.write(formatIterationReport(state));
        return;
      }
      const rows = iterationReportRows(state).map((row, i) => ({ ...row, eval: state.iterations[i]!.eval ?? null }));
      process.stdout.write(`${JSON.stringify({ iterations: rows }, null, 2)}\n`);
    });
}
