/**
 * `spri eval win-rate`: a model's win rate against reference outputs, with AlpacaEval 2.0's
 * length-controlled variant. From released judgements (`--judged`, AlpacaEval's annotations) with no
 * model call, or fresh: the outputs are paired with the references and judged in both orders.
 */
import type { Command } from "commander";
import { InputError } from "../../base/errors/errors.ts";
import { checkInputFile } from "../../io/input-reader.ts";
import { type PairwisePrompts, pairwiseAlgorithm } from "../../algorithms/judge/pairwise.ts";
import { joinRuns } from "../../runtime/runner/pairwise-run.ts";
import type { WinRateReport } from "../../algorithms/judge/win-rate-report.ts";
import { hash32 } from "../../base/util/hash.ts";
import { ENVIRONMENT_HELP, JUDGE_SAMPLING_FLAGS, judgeAsBase } from "./options.ts";
import { flag, optionalText, optionSchema, parseOptions, text } from "./option-schema.ts";
import { judgedPairs, writeWinRateReport } from "../../runtime/runner/win-rate-run.ts";
import { keepModelFreeReport, keepRunReport } from "./eval-report-store.ts";
import type { z } from "zod";
import type { FinishedRun } from "./run.ts";
import { addJudgeCaseFlags, executeJudgeCases } from "./judge-cases.ts";

const WIN_RATE_FLAGS = optionSchema({
  judged: optionalText,
  outputs: optionalText,
  references: optionalText,
  output: optionalText,
  idField: text,
  questionField: text,
  responseField: text,
  json: flag,
  ...JUDGE_SAMPLING_FLAGS,
});

type WinRateFlags = z.output<typeof WIN_RATE_FLAGS>;

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
    .option("--json", "print the report as JSON");
  addJudgeCaseFlags(command, ["structuredOutput", "httpClient"]);
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
  command.action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(WIN_RATE_FLAGS, raw);
    const report = options.judged !== undefined ? await judgedReport(raw, options.judged) : await freshReport(raw, options);
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

/** AlpacaEval's annotations' report, kept in a named store as a run of its own (`raw`: the command's options). */
async function judgedReport(raw: Record<string, unknown>, file: string): Promise<WinRateReport> {
  const { report, cases } = await judgedPairs(file);
  await keepModelFreeReport(
    raw,
    { task: "eval/win-rate-judged", inputPath: file, settings: { judged: file }, cases },
    { kind: "win-rate", report },
  );
  return report;
}

async function freshReport(raw: Record<string, unknown>, options: WinRateFlags): Promise<WinRateReport> {
  const { references, outputs, output } = options;
  for (const [flag, value] of Object.entries({ outputs, references, output })) {
    if (value === undefined)
      throw new InputError(`give --judged FILE, or --outputs, --references and --output to judge afresh (--${flag} is missing)`, {
        field: flag,
      });
  }
  judgeAsBase(raw, (line) => process.stderr.write(`spri: ${line}\n`));
  checkInputFile(references!);
  checkInputFile(outputs!);
  const pairsFile = `${output}.pairs-input.jsonl`;
  // A: the reference, B: the model, so a preference for B is the model's.
  const joined = await joinRuns({
    a: references!,
    b: outputs!,
    output: pairsFile,
    idField: options.idField,
    questionField: options.questionField,
    responseField: options.responseField,
  });
  process.stderr.write(
    `spri: ${joined.pairs} pairs (${joined.onlyA} references without an output, ${joined.onlyB} outputs without a reference)\n`,
  );
  const { report, run } = await judgePairsFile(raw, options, pairsFile, output!);
  if (run) await keepRunReport(run.store, run.runId, { kind: "win-rate", report, summaryFile: `${output}.summary.json` });
  return report;
}

/**
 * Judges a file of pairs (`id`, `question`, `response_a` the reference, `response_b` the model) in
 * both orders through the runner (`raw`: the command's options, for its settings flags) and reports
 * the model's win rate, also written to `<output>.summary.json`, with the run that judged them
 * (undefined for a dry run).
 */
export async function judgePairsFile(
  raw: Record<string, unknown>,
  sampling: { temperature?: number; seed?: number },
  pairsFile: string,
  output: string,
  prompts?: PairwisePrompts,
): Promise<{ report: WinRateReport; run?: FinishedRun }> {
  const { temperature = 0, seed } = sampling;
  const promptsKey = prompts === undefined ? {} : { prompts: hash32(JSON.stringify(prompts)) };
  const run = await executeJudgeCases(raw, {
    cases: pairsFile,
    output,
    judge: () => ({ algorithm: pairwiseAlgorithm({ temperature, seed, prompts }), identity: { temperature, seed, ...promptsKey } }),
  });
  return { report: await writeWinRateReport(output), run };
}
