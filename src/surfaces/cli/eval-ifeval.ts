/**
 * `spri eval ifeval`: STaPLe's principle-following win rate on IFEval's prompts. A model's responses
 * are judged against a reference policy's (e.g. the initial model) in both orders, the judge seeing
 * each prompt's verifiable instructions as principles; 50% is parity.
 */
import type { Command } from "commander";
import { PRINCIPLE_PAIRWISE_PROMPTS } from "../../algorithms/judge/ifeval-principles.ts";
import { ifevalPairs } from "../../runtime/runner/ifeval-run.ts";
import { keepRunReport } from "./eval-report-store.ts";
import { judgePairsFile } from "./eval-win-rate.ts";
import { ENVIRONMENT_HELP, JUDGE_SAMPLING_FLAGS, judgeAsBase } from "./options.ts";
import { flag, optionSchema, parseOptions, text } from "./option-schema.ts";
import { addJudgeCaseFlags } from "./judge-cases.ts";

const IFEVAL_FLAGS = optionSchema({
  outputs: text,
  references: text,
  data: text,
  output: text,
  responseField: text,
  json: flag,
  ...JUDGE_SAMPLING_FLAGS,
});

export function ifevalCommand(group: Command): void {
  const command = group
    .command("ifeval")
    .description(
      "principle-following win rate on IFEval prompts: responses judged against a reference policy's, with each prompt's instructions as principles",
    )
    .requiredOption("--outputs <file>", "the model's responses (IFEval's response form: prompt, response)")
    .requiredOption("--references <file>", "the reference policy's responses to the same prompts (same form)")
    .requiredOption("--data <file>", "IFEval's input_data.jsonl (prompt, instruction_id_list, kwargs)")
    .requiredOption("--output <file>", "pairwise judgements (JSONL); <file>.summary.json holds the report")
    .option("--response-field <name>", "field holding each response", "response")
    .option("--json", "print the report as JSON");
  addJudgeCaseFlags(command, ["structuredOutput", "httpClient"]);
  command.addHelpText(
    "after",
    `
Responses pair up by their prompt; a prompt that input_data.jsonl does not hold is left out and
counted. Each pair is judged twice, once in each order, at temperature 0 unless --temperature.
--json prints the report of \`spri eval win-rate\` (winRate in percent, 50 = parity with the
reference policy) plus withoutInstructions.${ENVIRONMENT_HELP}`,
  );
  command.action(async (raw: Record<string, unknown>) => {
    judgeAsBase(raw, (line) => process.stderr.write(`spri: ${line}\n`));
    const options = parseOptions(IFEVAL_FLAGS, raw);
    const { data, output } = options;
    const joined = await ifevalPairs(options);
    const { withoutInstructions } = joined;
    process.stderr.write(
      `spri: ${joined.pairs} pairs (${withoutInstructions} prompts not in ${data}, ${joined.onlyA} only in the references, ${joined.onlyB} only in the outputs)\n`,
    );
    const judged = await judgePairsFile(raw, options, joined.pairsFile, output, PRINCIPLE_PAIRWISE_PROMPTS);
    const report = { ...judged.report, withoutInstructions };
    if (judged.run)
      await keepRunReport(judged.run.store, judged.run.runId, { kind: "ifeval", report, summaryFile: `${output}.summary.json` });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      return;
    }
    process.stdout.write(
      `principle-following win rate ${report.winRate}% (SE ${report.standardError}): ${report.wins} wins, ${report.ties} ties, ${report.losses} losses over ${report.n} pairs; ${report.unscored} unscored\n`,
    );
  });
}
