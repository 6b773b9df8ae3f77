/**
 * `spri eval win-rate`: a model's win rate against reference outputs, with AlpacaEval 2.0's
 * length-controlled variant. From released judgements (`--judged`, AlpacaEval's annotations) with no
 * model call, or fresh: the outputs are paired with the references and judged in both orders.
 */
import type { Command } from "commander";
import { InputError } from "../errors/errors.ts";
import { checkInputFile, readInputRows } from "../io/input-reader.ts";
import { writeJsonFile } from "../io/json-file.ts";
import { type PairwisePrompts, pairwiseAlgorithm } from "../judge/pairwise.ts";
import { joinRuns } from "../runner/pairwise-run.ts";
import { type JudgedPair, modelPreference, type WinRateReport, winRateReport } from "../judge/win-rate-report.ts";
import type { EvalCase } from "../runner/eval-report.ts";
import { prepareTask } from "../tasks/prepare.ts";
import { hash32 } from "../util/hash.ts";
import { ENVIRONMENT_HELP, JUDGE_RUN_SETTINGS, addJudgeModelFlags, addSettingFlags, judgeAsBase } from "./options.ts";
import { keepModelFreeReport, keepRunReport } from "./eval-report-store.ts";
import { executeRecordedRun, type FinishedRun, newRunOption, ONE_SAMPLE } from "./run.ts";

export function winRateCommand(group: Command): void {
  const command = group
    .command("win-rate")
    .description(
      "a model's win rate against reference outputs (ties count half) and the length-controlled win rate, from AlpacaEval annotations (--judged) or judged afresh in both orders",
    )
    .option(
      "--judged <file>",
      "released judgements: AlpacaEval annotations (JSON or JSONL; preference, output_1 the baseline, output_2 the model)",
    )
    .option("--outputs <file>", "the model's outputs to judge (AlpacaEval's model_outputs.json form: instruction, output)")
    .option("--references <file>", "the reference outputs they are judged against (same form)")
    .option("--output <file>", "with --outputs: the pairwise judgements (JSONL); <file>.summary.json holds the report")
    .option("--id-field <name>", "field joining outputs and references", "instruction")
    .option("--question-field <name>", "field holding the instruction", "instruction")
    .option("--response-field <name>", "field holding each output", "output")
    .option("--json", "print the report as JSON")
    .addOption(newRunOption());
  addJudgeModelFlags(command);
  addSettingFlags(command, [...JUDGE_RUN_SETTINGS, "structuredOutput", "httpClient"]);
  command.addHelpText(
    "after",
    `
--judged makes no model call. A preference of 2 is a win for the model (output_2), 1 a loss, 1.5 or 0
a tie (half a win), values between 1 and 2 count as they are; missing or other values are unscored.
Fresh judging (--outputs, --references, --output) pairs records by --id-field and asks the judge
(--judge-model / --judge-url, temperature 0 unless --temperature) twice per pair, once in each order.

--json prints {winRate, standardError, ci95, n, wins, losses, ties, unscored, lcWinRate, lengthControl:
{terms, weights}, avgLength}, rates in percent. lcWinRate: a logistic regression of the preference on
tanh(std-normalised length difference), the instruction_difficulty of each annotation when every one
has it, and the model's own term, predicted at equal lengths (AlpacaEval 2.0's length control, without
its gamed-baseline rows and L1 cross-validation).

The report is kept with the run in the store, for spri view. --judged makes no run: with --store (or
SPRI_STORE) it keeps the report and each annotation's preference there as a finished run of their own.${ENVIRONMENT_HELP}`,
  );
  command.action(async (options: Record<string, unknown>) => {
    const report = options.judged !== undefined ? await judgedReport(options, String(options.judged)) : await freshReport(options);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    const lc = report.lcWinRate === undefined ? "" : `, length-controlled ${report.lcWinRate}%`;
    process.stdout.write(
      `win rate ${report.winRate}% (SE ${report.standardError})${lc}: ${report.wins} wins, ${report.ties} ties, ${report.losses} losses over ${report.n} pairs; ${report.unscored} unscored\n`,
    );
  });
}

/** AlpacaEval's annotations, read as released: one record per judged pair. */
async function judgedReport(options: Record<string, unknown>, file: string): Promise<WinRateReport> {
  checkInputFile(file);
  const pairs: JudgedPair[] = [];
  const cases: EvalCase[] = [];
  const models = new Set<string>();
  for await (const row of readInputRows(file)) {
    const record = row.value as Record<string, unknown>;
    if (!("preference" in record)) {
      throw new InputError("record has no preference", {
        file,
        line: row.line,
        field: "preference",
        hint: "give AlpacaEval's annotations (1 the baseline wins, 2 the model wins, 1.5 or 0 a tie)",
      });
    }
    if (typeof record.generator_2 === "string") models.add(record.generator_2);
    const difficulty = record.instruction_difficulty;
    const id = `line ${row.line ?? cases.length + 1}`;
    cases.push({ id, record: { id, question: record.instruction, pairwise_preference_b: modelPreference(record.preference) } });
    pairs.push({
      preference: modelPreference(record.preference),
      modelOutput: typeof record.output_2 === "string" ? record.output_2 : undefined,
      baselineOutput: typeof record.output_1 === "string" ? record.output_1 : undefined,
      ...(typeof difficulty === "number" ? { difficulty } : {}),
    });
  }
  if (models.size > 1) {
    throw new InputError(`the annotations judge ${models.size} models (${[...models].slice(0, 3).join(", ")}…) against the baseline`, {
      file,
      field: "generator_2",
      hint: "give one model's annotations per file: a win rate mixing models says nothing about either",
    });
  }
  const report = winRateReport(pairs);
  await keepModelFreeReport(
    options,
    { task: "eval/win-rate-judged", inputPath: file, settings: { judged: file }, cases },
    { kind: "win-rate", report },
  );
  return report;
}

async function freshReport(options: Record<string, unknown>): Promise<WinRateReport> {
  for (const flag of ["outputs", "references", "output"] as const) {
    if (options[flag] === undefined)
      throw new InputError(`give --judged FILE, or --outputs, --references and --output to judge afresh (--${flag} is missing)`, {
        field: flag,
      });
  }
  judgeAsBase(options, (line) => process.stderr.write(`spri: ${line}\n`));
  const references = String(options.references);
  const outputs = String(options.outputs);
  checkInputFile(references);
  checkInputFile(outputs);
  const output = String(options.output);
  const pairsFile = `${output}.pairs-input.jsonl`;
  // A: the reference, B: the model, so a preference for B is the model's.
  const joined = await joinRuns({
    a: references,
    b: outputs,
    output: pairsFile,
    idField: String(options.idField),
    questionField: String(options.questionField),
    responseField: String(options.responseField),
  });
  process.stderr.write(
    `spri: ${joined.pairs} pairs (${joined.onlyA} references without an output, ${joined.onlyB} outputs without a reference)\n`,
  );
  const { report, run } = await judgePairsFile(options, pairsFile, output);
  if (run) await keepRunReport(run.store, run.runId, { kind: "win-rate", report, summaryFile: `${output}.summary.json` });
  return report;
}

/**
 * Judges a file of pairs (`id`, `question`, `response_a` the reference, `response_b` the model) in
 * both orders through the runner and reports the model's win rate, also written to
 * `<output>.summary.json`, with the run that judged them (undefined for a dry run).
 */
export async function judgePairsFile(
  options: Record<string, unknown>,
  pairsFile: string,
  output: string,
  prompts?: PairwisePrompts,
): Promise<{ report: WinRateReport; run?: FinishedRun }> {
  const temperature = options.temperature === undefined ? 0 : Number(options.temperature);
  const seed = options.seed === undefined ? undefined : Number(options.seed);
  const promptsKey = prompts === undefined ? {} : { prompts: hash32(JSON.stringify(prompts)) };
  const run = await executeRecordedRun(
    { ...options, input: pairsFile, output, idField: "id", questionField: "question", json: false },
    (settings) => ({
      ...prepareTask({ ...settings, task: "sft" }),
      algorithm: pairwiseAlgorithm({ temperature, seed, prompts }),
      identity: { temperature, seed, ...promptsKey },
    }),
    ONE_SAMPLE,
  );
  const report = winRateReport(await pairsOf(output));
  writeJsonFile(`${output}.summary.json`, report);
  return { report, run };
}

async function pairsOf(file: string): Promise<JudgedPair[]> {
  const pairs: JudgedPair[] = [];
  for await (const row of readInputRows(file)) {
    const r = row.value as Record<string, unknown>;
    pairs.push({
      preference: typeof r.pairwise_preference_b === "number" ? r.pairwise_preference_b : null,
      modelOutput: String(r.response_b),
      baselineOutput: String(r.response_a),
    });
  }
  return pairs;
}
