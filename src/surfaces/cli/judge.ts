/** `spri judge`: LLM-as-a-judge over a file of (instruction, response) rows, with SPRI rubrics. */
import type { Command } from "commander";
import { SETTINGS, type SettingName } from "../../config/config.ts";
import { parseScale } from "../../algorithms/judge/judge-score.ts";
import type { JudgeOptions } from "../../algorithms/judge/rubric-source.ts";
import { rubricSource, rubricSourceNames } from "../../algorithms/judge/rubric-sources.ts";
import { DEFAULT_JUDGE_OPTIONS, prepareJudge } from "../../presets/tasks/prepare-judge.ts";
import { ENVIRONMENT_HELP, addSettingFlags } from "./options.ts";
import { executeRun } from "./run.ts";
import { addRunOptions } from "./run-options.ts";
import { number, optionalText, optionSchema, parseOptions, text } from "./option-schema.ts";

export function judgeCommand(program: Command): void {
  const command = program
    .command("judge")
    .description(
      "grade each row's response with an instance-specific rubric (SPRI) and write one record per row (re-run the same command to resume)",
    );
  // Rows are read as the rubric task reads them: a reference answer, a system prompt, a group (domain).
  addRunOptions(command, { fields: ["reference", "systemPrompt", "domain"] });
  command
    .option("--rubrics <source>", `where rubrics come from: ${rubricSourceNames().join(", ")}`, DEFAULT_JUDGE_OPTIONS.rubrics)
    .option("--response-field <name>", "field holding the response to grade", DEFAULT_JUDGE_OPTIONS.responseField)
    .option("--rubric-field <name>", "field holding a gold rubric, for rubric sources that use one", DEFAULT_JUDGE_OPTIONS.rubricField)
    .option("--human-field <name>", "field holding a human score, for agreement metrics (spri eval correlate)")
    .option(
      "--group-field <name>",
      "field grouping the rows (capability): --seeds-per-domain matches seeds on it",
      DEFAULT_JUDGE_OPTIONS.groupField,
    )
    .option("--scale <min-max>", "the judge's score range", `${DEFAULT_JUDGE_OPTIONS.scale.min}-${DEFAULT_JUDGE_OPTIONS.scale.max}`)
    .option(
      "--judge-temperature <t>",
      "temperature of the grading calls and their refinements (seeded with --seed, default 0)",
      String(DEFAULT_JUDGE_OPTIONS.judgeTemperature),
    );
  addSettingFlags(
    command,
    (Object.keys(SETTINGS) as SettingName[]).filter((name) => name !== "task"),
  );
  command.addHelpText(
    "after",
    `
Each row is one judgement. With --rubrics spri (the default), SPRI stage 1 writes a rubric for the
row's instruction (rubric fields principle_*), the base model grades the row's response with it
(feedback and a score), and SPRI stage 2 critiques and refines that judgement (judgement fields
*response*). Records add formatted_BigGenBench_INIT_GRADING_PROMPT, init_response-[score] and
response_final-[score] (the final score; null when none could be read).

The paper's comparisons (Table 2) grade with the same grading prompt, or MT-Bench's, and write X,
X-score and X-prompt (the messages sent); the base model is the judge and no critic is used:
${rubricSourceHelp()}
Rows are keyed <id>/<model_name> when they name the responding model. Grading is reference-free
unless --reference-field names a reference answer. Without --prompts, spri's own prompts are used;
--prompts directories (e.g. the paper's [task2]-BiGGenBench/prompts and its inline strings) replace
them by file name. Grading calls use temperature --judge-temperature and seed --seed (0 by default);
--compat reference samples, parses and assembles everything as the paper's code did (docs/compat.md).
Score a result with: spri eval correlate <output> --score-field <final score field>.
${ENVIRONMENT_HELP}`,
  );
  command.action((options: Record<string, unknown>) => {
    const judge = judgeOptions(options);
    // The group field is what --seeds-per-domain matches, unless --domain-field says otherwise.
    options.domainField ??= judge.groupField;
    return executeRun(options, prepareJudge(judge));
  });
}

/** One line per rubric source other than spri: name, what it does, its final score field. */
function rubricSourceHelp(): string {
  return rubricSourceNames()
    .filter((name) => name !== "spri")
    .map((name) => {
      const source = rubricSource(name);
      return `  ${name.padEnd(16)} ${source.description}${source.scoreField ? `; score: ${source.scoreField}` : ""}`;
    })
    .join("\n");
}

const JUDGE_FLAGS = optionSchema({
  rubrics: text,
  responseField: text,
  rubricField: text,
  humanField: optionalText,
  groupField: text,
  idField: optionalText,
  scale: text,
  judgeTemperature: number("a number"),
});

function judgeOptions(raw: Record<string, unknown>): JudgeOptions {
  const options = parseOptions(JUDGE_FLAGS, raw);
  return {
    ...options,
    idField: options.idField ?? DEFAULT_JUDGE_OPTIONS.idField,
    scale: parseScale(options.scale),
  };
}
