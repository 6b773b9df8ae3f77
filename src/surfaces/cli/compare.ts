/** `spri compare`: pairwise judging of two runs (A vs B, both orders), with a win rate and its CI. */
import type { Command } from "commander";
import { checkInputFile } from "../../io/input-reader.ts";
import { pairwiseAlgorithm } from "../../algorithms/judge/pairwise.ts";
import { joinRuns, writeComparison } from "../../runtime/runner/pairwise-run.ts";
import { ENVIRONMENT_HELP, JUDGE_SAMPLING_FLAGS, judgeAsBase } from "./options.ts";
import { flag, optionalText, optionSchema, parseOptions, text } from "./option-schema.ts";
import { addJudgeCaseFlags, executeJudgeCases } from "./judge-cases.ts";

const COMPARE_FLAGS = optionSchema({
  a: text,
  b: text,
  output: text,
  idField: text,
  questionField: optionalText,
  responseField: text,
  responseFieldB: optionalText,
  json: flag,
  ...JUDGE_SAMPLING_FLAGS,
});

export function compareCommand(program: Command): void {
  const command = program
    .command("compare")
    .description("judge two runs pairwise (each pair in both orders) and report B's win rate over A with ties and a 95% CI")
    .requiredOption("--a <file>", "records of run A (e.g. a baseline's output)")
    .requiredOption("--b <file>", "records of run B")
    .requiredOption("--output <file>", "pairwise judgements (JSONL); <file>.summary.json holds the win rate")
    .option("--id-field <name>", "field joining the two runs", "id")
    .option(
      "--question-field <name>",
      "field holding the question (default: first of user_input, prompt, instruction, question, input, Reddit Post, post, as in `spri run`)",
    )
    .option("--response-field <name>", "field holding each run's response", "response_final")
    .option("--response-field-b <name>", "B's response field when it differs from A's")
    .option("--json", "print the summary as JSON");
  addJudgeCaseFlags(command, ["structuredOutput", "httpClient"]);
  command.addHelpText(
    "after",
    `\nJudging runs at temperature 0 unless --temperature is given. Files whose ids do not pair up are refused.${ENVIRONMENT_HELP}`,
  );
  command.action(async (raw: Record<string, unknown>) => {
    judgeAsBase(raw, (line) => process.stderr.write(`spri: ${line}\n`));
    const options = parseOptions(COMPARE_FLAGS, raw);
    const { a, b, output } = options;
    checkInputFile(a);
    checkInputFile(b);
    const pairsFile = `${output}.pairs-input.jsonl`;
    const joined = await joinRuns({
      a,
      b,
      output: pairsFile,
      idField: options.idField,
      questionField: options.questionField,
      responseField: options.responseField,
      responseFieldB: options.responseFieldB,
    });
    process.stderr.write(`spri: ${joined.pairs} pairs (${joined.onlyA} only in A, ${joined.onlyB} only in B)\n`);
    const { temperature = 0, seed } = options;
    await executeJudgeCases(raw, {
      cases: pairsFile,
      output,
      judge: () => ({ algorithm: pairwiseAlgorithm({ temperature, seed }), identity: { temperature, seed } }),
    });
    const summary = await writeComparison(output, joined);
    process.stdout.write(
      options.json
        ? `${JSON.stringify(summary)}\n`
        : `B vs A: win rate ${summary.winRateB}% (95% CI ${summary.ci95[0]}–${summary.ci95[1]}), ${summary.winsB} wins, ${summary.ties} ties, ${summary.winsA} losses over ${summary.n} pairs; ${summary.inconsistent} judged differently in the two orders; ${summary.unscored} unscored\n`,
    );
  });
}
