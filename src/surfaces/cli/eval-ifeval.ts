/**
 * `spri eval ifeval`: STaPLe's principle-following win rate on IFEval's prompts. A model's responses
 * are judged against a reference policy's (e.g. the initial model) in both orders, the judge seeing
 * each prompt's verifiable instructions as principles; 50% is parity.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import type { Command } from "commander";
import { InputError } from "../../base/errors/errors.ts";
import { checkInputFile, readInputRows } from "../../io/input-reader.ts";
import { ifevalPrinciples, PRINCIPLE_PAIRWISE_PROMPTS, principledQuestion } from "../../algorithms/judge/ifeval-principles.ts";
import { joinRuns } from "../../runtime/runner/pairwise-run.ts";
import { keepRunReport } from "./eval-report-store.ts";
import { judgePairsFile } from "./eval-win-rate.ts";
import { ENVIRONMENT_HELP, JUDGE_RUN_SETTINGS, JUDGE_SAMPLING_FLAGS, addJudgeModelFlags, addSettingFlags, judgeAsBase } from "./options.ts";
import { flag, optionSchema, parseOptions, text } from "./option-schema.ts";
import { newRunOption } from "./run-options.ts";

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
    .option("--json", "print the report as JSON")
    .addOption(newRunOption());
  addJudgeModelFlags(command);
  addSettingFlags(command, [...JUDGE_RUN_SETTINGS, "structuredOutput", "httpClient"]);
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
    const { outputs, references, data, output } = options;
    for (const file of [outputs, references, data]) checkInputFile(file);
    const principles = await readInstructions(data);
    const joinedFile = `${output}.pairs-joined.jsonl`;
    const joined = await joinRuns({
      a: references,
      b: outputs,
      output: joinedFile,
      idField: "prompt",
      questionField: "prompt",
      responseField: options.responseField,
    });
    const pairsFile = `${output}.pairs-input.jsonl`;
    const withoutInstructions = await addPrinciples(joinedFile, principles, pairsFile);
    process.stderr.write(
      `spri: ${joined.pairs - withoutInstructions} pairs (${withoutInstructions} prompts not in ${data}, ${joined.onlyA} only in the references, ${joined.onlyB} only in the outputs)\n`,
    );
    const judged = await judgePairsFile(raw, options, pairsFile, output, PRINCIPLE_PAIRWISE_PROMPTS);
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

/** IFEval's prompts → their instructions as principles. */
async function readInstructions(file: string): Promise<Map<string, string[]>> {
  const principles = new Map<string, string[]>();
  for await (const row of readInputRows(file)) {
    const r = row.value as { prompt?: unknown; instruction_id_list?: unknown; kwargs?: unknown };
    if (typeof r.prompt !== "string" || !Array.isArray(r.instruction_id_list)) {
      throw new InputError("an IFEval input needs a prompt and an instruction_id_list", {
        file,
        line: row.line,
        field: "instruction_id_list",
        hint: "give IFEval's input_data.jsonl",
      });
    }
    principles.set(r.prompt, ifevalPrinciples(r.instruction_id_list as string[], Array.isArray(r.kwargs) ? r.kwargs : []));
  }
  return principles;
}

/** Writes the pairs whose prompt has instructions, the principles appended to the question; returns how many had none. */
async function addPrinciples(joinedFile: string, principles: ReadonlyMap<string, string[]>, output: string): Promise<number> {
  const out = createWriteStream(output, "utf8");
  let missing = 0;
  for await (const row of readInputRows(joinedFile)) {
    const pair = row.value as { id: string; question: string };
    const list = principles.get(pair.question);
    if (list === undefined) {
      missing++;
      continue;
    }
    if (!out.write(`${JSON.stringify({ ...pair, question: principledQuestion(pair.question, list) })}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return missing;
}
