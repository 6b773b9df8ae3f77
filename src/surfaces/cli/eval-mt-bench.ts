/** `spri eval mt-bench`: MT-Bench single-answer grading (1–10) of a model's two-turn answers, as FastChat grades them. */
import type { Command } from "commander";
import { checkInputFile } from "../../io/input-reader.ts";
import { readMtBenchData, writeMtBenchCases } from "../../io/mt-bench-data.ts";
import { mtBenchAlgorithm, REFERENCE_CATEGORIES } from "../../algorithms/judge/mt-bench.ts";
import { writeMtBenchReport } from "../../runtime/runner/mt-bench-run.ts";
import { hash32 } from "../../base/util/hash.ts";
import { ENVIRONMENT_HELP, JUDGE_SAMPLING_FLAGS, judgeAsBase } from "./options.ts";
import { flag, optionSchema, parseOptions, text } from "./option-schema.ts";
import { keepRunReport } from "./eval-report-store.ts";
import { addJudgeCaseFlags, executeJudgeCases } from "./judge-cases.ts";

const MT_BENCH_FLAGS = optionSchema({ answers: text, data: text, output: text, json: flag, ...JUDGE_SAMPLING_FLAGS });

export function mtBenchCommand(group: Command): void {
  const command = group
    .command("mt-bench")
    .description("MT-Bench single-answer grading (1-10) of two-turn answers with FastChat's judge prompts and reference answers")
    .requiredOption(
      "--answers <file>",
      "the model's answers: question_id and the two-turn conversation as messages (or FastChat's choices[0].turns)",
    )
    .requiredOption("--data <dir>", "MT-Bench's files: question.jsonl, judge_prompts.jsonl, reference_answer_gpt-4.jsonl")
    .requiredOption("--output <file>", "per-question judgements (JSONL); <file>.summary.json holds the means")
    .option("--json", "print the means as JSON");
  addJudgeCaseFlags(command, ["maxNewTokens", "structuredOutput", "httpClient"]);
  command.addHelpText(
    "after",
    `
Each question is graded twice: turn 1 alone (single-v1), turn 2 with the whole conversation
(single-v1-multi-turn); math, reasoning and coding questions use the math prompts with GPT-4's
reference answers. The judge runs at temperature 0 (FastChat's setting) unless --temperature says
otherwise. The rating is the first [[n]] of the judgement, else the first [n]; a judgement with
neither is unscored and left out of the means.

--json prints {turn1, turn2, average, n, unscored, categories: {<category>: mean}}: average is over
every scored judgement of both turns, as FastChat's show_result; means rounded to 4 decimals.${ENVIRONMENT_HELP}`,
  );
  command.action(async (raw: Record<string, unknown>) => {
    judgeAsBase(raw, (line) => process.stderr.write(`spri: ${line}\n`));
    const options = parseOptions(MT_BENCH_FLAGS, raw);
    const { answers, output, temperature = 0 } = options;
    checkInputFile(answers);
    const data = await readMtBenchData(options.data);
    const cases = `${output}.cases.jsonl`;
    await writeMtBenchCases(answers, data, REFERENCE_CATEGORIES, cases);
    const promptsKey = hash32(JSON.stringify(data.prompts));
    const run = await executeJudgeCases(raw, {
      cases,
      output,
      judge: (settings) => {
        // FastChat asks its judge for at most 2048 new tokens, which is --max-new-tokens' default.
        const sampling = { temperature, maxTokens: settings.maxNewTokens };
        return { algorithm: mtBenchAlgorithm(data.prompts, sampling), identity: { ...sampling, judgePrompts: promptsKey } };
      },
    });
    const summary = await writeMtBenchReport(output);
    if (run) await keepRunReport(run.store, run.runId, { kind: "mt-bench", report: summary, summaryFile: `${output}.summary.json` });
    if (options.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return;
    }
    const cell = (v: number | null) => (v === null ? "–" : v.toFixed(2));
    process.stdout.write(
      `MT-Bench: turn 1 ${cell(summary.turn1)}, turn 2 ${cell(summary.turn2)}, average ${cell(summary.average)} over ${summary.n} judgements; ${summary.unscored} unscored\n`,
    );
  });
}
