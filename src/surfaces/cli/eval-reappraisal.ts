/**
 * `spri eval reappraisal`: the paper's task-1 evaluation (Table 1). Fresh: each method's replies are
 * judged (spri's prompts, or the paper's judge pack with --prompts); --judged: the paper's released
 * judge outputs are re-scored by its rules, without a model. Both print the same report.
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { resolveSettings } from "../../config/config.ts";
import { InputError } from "../../base/errors/errors.ts";
import { checkInputFile } from "../../io/input-reader.ts";
import { paperJudgePackIdentity, paperJudgeSampling, paperReappraisalJudge } from "../../algorithms/judge/paper-reappraisal-judge.ts";
import type { ReappraisalJudge } from "../../algorithms/judge/reappraisal-eval.ts";
import { checkBaselines, type ReappraisalReport, reappraisalReport } from "../../algorithms/judge/reappraisal-report.ts";
import { reappraisalEvalAlgorithm } from "../../algorithms/judge/reappraisal-eval.ts";
import {
  DEFAULT_REAPPRAISAL_FIELDS,
  gatherCases,
  judgedCases,
  type MethodFiles,
  paperJudgePack,
  rescoreJudged,
  writeRecordsReport,
} from "../../runtime/runner/reappraisal-run.ts";
import type { PaperJudgePack } from "../../io/prompts/paper-judge-pack.ts";
import { ENVIRONMENT_HELP, JUDGE_SAMPLING_FLAGS, judgeAsBase, settingInputs } from "./options.ts";
import { flag, optionalText, optionSchema, parseOptions, repeatable, text } from "./option-schema.ts";
import type { z } from "zod";
import { formatReappraisalReport } from "./reappraisal-table.ts";
import { keepModelFreeReport, keepRunReport } from "./eval-report-store.ts";
import { ONE_SAMPLE } from "./run.ts";
import { addJudgeCaseFlags, executeJudgeCases } from "./judge-cases.ts";

const collect = (value: string, previous: string[] = []) => [...previous, value];

const REAPPRAISAL_FLAGS = optionSchema({
  method: repeatable,
  judged: flag,
  baseline: repeatable,
  output: optionalText,
  responseField: text,
  postField: text,
  standardsField: text,
  aimField: text,
  postIdField: text,
  dimensionField: text,
  recordIdField: optionalText,
  json: flag,
  ...JUDGE_SAMPLING_FLAGS,
});

type ReappraisalFlags = z.output<typeof REAPPRAISAL_FLAGS>;

export function reappraisalCommand(group: Command): void {
  const command = group
    .command("reappraisal")
    .description(
      "the paper's task-1 evaluation of reappraisal replies: standards alignment (1-10), empathy (1-5), harmful and factual flags, per method, with paired t-tests against baselines",
    )
    .requiredOption(
      "--method <name=path>",
      "a method's output records (repeatable), e.g. --method spri=out.jsonl --method vanilla=base.jsonl; with --judged, a directory of its judge outputs",
      collect,
    )
    .option(
      "--judged",
      "re-score the paper's released judge outputs (eval-1_standard_alignment.jsonl … eval-4_factuality.jsonl in each --method directory); no model is called",
    )
    .option(
      "--baseline <name>",
      "a method the others are tested against (repeatable, at most two): * marks p < 0.05 against the first, † against the second",
      collect,
    )
    .option("--output <file>", "per-case judgements (JSONL; needed unless --judged); <file>.summary.json holds the report")
    .option("--response-field <name>", "field holding the reply", DEFAULT_REAPPRAISAL_FIELDS.response)
    .option("--post-field <name>", "field holding the post", DEFAULT_REAPPRAISAL_FIELDS.post)
    .option("--standards-field <name>", "field holding the reappraisal standards", DEFAULT_REAPPRAISAL_FIELDS.standards)
    .option("--aim-field <name>", "field holding the goal of the reply", DEFAULT_REAPPRAISAL_FIELDS.aim)
    .option(
      "--post-id-field <name>",
      "field identifying the post, paired across methods with --dimension-field",
      DEFAULT_REAPPRAISAL_FIELDS.postId,
    )
    .option("--dimension-field <name>", "field naming the appraisal dimension", DEFAULT_REAPPRAISAL_FIELDS.dimension)
    .option("--record-id-field <name>", "field identifying a record within a method's file (default: its line)")
    .option("--json", "print the report as JSON");
  addJudgeCaseFlags(command, ["prompts", "maxNewTokens"]);
  command.addHelpText(
    "after",
    `
Fresh evaluations judge each reply with spri's own prompts at temperature 0.1 and seed 36 (the
paper's evaluator settings) unless --temperature / --seed say otherwise. --prompts DIR uses the
paper's judge instead: DIR is its GPT-4-eval directory, whose eval_prompts.py (the prompts) and
gpt-4-reappraisal_eval.py (system prompt, model, temperature, max_tokens, seed) are read at run
time; its model (gpt-4-0613) is the default judge and its answers are read by the paper's rules.

Cases pair across methods on --post-id-field and --dimension-field (a record without a post id
pairs on its record id); a method's second record of the same case is left out, as in the paper.
A paired t-test with a case unscored in either method, or with cases that do not pair up, is
undefined (p null, with the reason) and marks nothing.

The report is kept with the run in the store, for spri view. --judged makes no run: with --store
(or SPRI_STORE) it keeps the report and the re-scored cases there as a finished run of their own.

--json prints {"methods": {NAME: {"alignment"|"empathy"|"harmful"|"factuality": {"mean", "n",
"unscored", "markers"}}}, "tests": [{"method", "baseline", "criterion", "n", "t", "df", "p",
"reason"?}]}; means over the scored cases, rounded to 2 decimals as the paper prints them.

Example (the paper's Table 1, gpt-4o-mini):
  D=SPRI-public/[task1]-reappraisal/GPT-4-eval/eval_outputs/gpt-4o-mini
  spri eval reappraisal --judged --method vanilla="$D/[RESORT_baselines]/INDV/vanilla" \\
    --method self-refine="$D/[RESORT_baselines]/ITER/self-refine" --method oracle="$D/[RESORT_baselines]/ITER/+cons" \\
    --baseline vanilla --baseline self-refine${ENVIRONMENT_HELP}`,
  );
  command.action(async (raw: Record<string, unknown>) => {
    const options = parseOptions(REAPPRAISAL_FLAGS, raw);
    const methods = parseMethods(options.method);
    const baselines = options.baseline;
    checkBaselines(
      methods.map((m) => m.name),
      baselines,
    );
    if (options.judged) {
      const scored = await rescoreJudged(methods);
      const report = reappraisalReport(scored, baselines);
      await keepModelFreeReport(
        raw,
        {
          task: "eval/reappraisal-judged",
          inputPath: methods.map((m) => m.path).join(", "),
          settings: { methods: methods.map((m) => `${m.name}=${m.path}`), baselines },
          cases: judgedCases(scored),
        },
        { kind: "reappraisal", baselines, report },
      );
      return printReport(report, baselines, options.json);
    }
    judgeAsBase(raw, (line) => process.stderr.write(`spri: ${line}\n`));
    const report = await evaluateFresh(methods, baselines, options, raw);
    if (report) printReport(report, baselines, options.json);
  });
}

function parseMethods(specs: readonly string[]): MethodFiles[] {
  return specs.map((spec) => {
    const at = spec.indexOf("=");
    // The name ends at the first "=": paths may hold one (the paper's folders do), names may not.
    if (at <= 0) throw new InputError(`--method "${spec}" must be name=path`, { field: "method" });
    return { name: spec.slice(0, at), path: spec.slice(at + 1) };
  });
}

function printReport(report: ReappraisalReport, baselines: readonly string[], json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(report)}\n` : formatReappraisalReport(report, baselines));
}

/** Judges every method's replies through the runner, then reports; undefined when the run did not finish its output. */
async function evaluateFresh(
  methods: readonly MethodFiles[],
  baselines: readonly string[],
  options: ReappraisalFlags,
  raw: Record<string, unknown>,
): Promise<ReappraisalReport | undefined> {
  const { output } = options;
  if (output === undefined) {
    throw new InputError("--output is needed to judge replies", {
      field: "output",
      hint: "or add --judged to re-score released judge outputs",
    });
  }
  for (const method of methods) checkInputFile(method.path);
  const pack = judgePack(raw);
  const prompts: ReappraisalJudge | undefined = pack && paperReappraisalJudge(pack);
  const cases = `${output}.cases.jsonl`;
  const { repeats } = await gatherCases(
    methods.map((m) => ({ name: m.name, file: m.path })),
    {
      response: options.responseField,
      post: options.postField,
      standards: options.standardsField,
      aim: options.aimField,
      postId: options.postIdField,
      dimension: options.dimensionField,
      id: options.recordIdField,
    },
    cases,
  );
  if (repeats > 0) process.stderr.write(`spri: ${repeats} repeated cases (same post and dimension in one method) left out\n`);
  const sampling = paperJudgeSampling(options, pack);
  const identity: Record<string, unknown> = pack ? { ...sampling, judgePack: paperJudgePackIdentity(pack) } : { ...sampling };
  const run = await executeJudgeCases(raw, {
    cases,
    output,
    judge: () => ({ algorithm: reappraisalEvalAlgorithm(sampling, prompts), identity }),
    extraFlags: { ...ONE_SAMPLE, ...(pack && !judgeModelChosen(raw) ? { baseModel: pack.settings.model } : {}) },
    // --prompts names the paper's judge pack, not prompts for the SPRI task.
    taskSettings: { prompts: undefined },
  });
  if (!existsSync(output)) return undefined;
  const report = await writeRecordsReport(
    output,
    methods.map((m) => m.name),
    baselines,
  );
  if (run)
    await keepRunReport(run.store, run.runId, {
      kind: "reappraisal",
      baselines: [...baselines],
      report,
      summaryFile: `${output}.summary.json`,
    });
  return report;
}

/** The paper's judge pack, when --prompts (or SPRI_PROMPTS, or the config file) names its directory. */
function judgePack(options: Record<string, unknown>): PaperJudgePack | undefined {
  return paperJudgePack(resolveSettings(settingInputs(options)).settings.prompts);
}

/** Whether the judge model was named anywhere (flag, environment, config file): else the pack's model is the default. */
function judgeModelChosen(options: Record<string, unknown>): boolean {
  const { sources } = resolveSettings(settingInputs(options));
  return sources.baseModel !== "unset" && sources.baseModel !== "default";
}
