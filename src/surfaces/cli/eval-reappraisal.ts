/**
 * `spri eval reappraisal`: the paper's task-1 evaluation (Table 1). Fresh: each method's replies are
 * judged (spri's prompts, or the paper's judge pack with --prompts); --judged: the paper's released
 * judge outputs are re-scored by its rules, without a model. Both print the same report.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { checkInputFile, readInputRows } from "../../io/input-reader.ts";
import { writeJsonFile } from "../../io/json-file.ts";
import { paperPromptFunctions, paperReappraisalJudge } from "../../algorithms/judge/paper-reappraisal-judge.ts";
import { releasedJudgementsFile, releasedScores } from "../../algorithms/judge/paper-reappraisal-scores.ts";
import type { ReappraisalJudge } from "../../algorithms/judge/reappraisal-eval.ts";
import {
  type CaseScores,
  checkBaselines,
  type MethodScores,
  REPORT_CRITERIA,
  type ReappraisalReport,
  type ReportCriterion,
  reappraisalReport,
  recordScores,
} from "../../algorithms/judge/reappraisal-report.ts";
import { reappraisalEvalAlgorithm } from "../../algorithms/judge/reappraisal-eval.ts";
import type { EvalCase } from "../../runtime/runner/eval-report.ts";
import { DEFAULT_REAPPRAISAL_FIELDS, gatherCases } from "../../runtime/runner/reappraisal-run.ts";
import type { SamplingOptions } from "../../models/language-model.ts";
import { loadPaperJudgePack, type PaperJudgePack, paperJudgePackDir } from "../../io/prompts/paper-judge-pack.ts";
import { prepareTask } from "../../presets/tasks/prepare.ts";
import { hash32 } from "../../base/util/hash.ts";
import {
  ENVIRONMENT_HELP,
  JUDGE_RUN_SETTINGS,
  JUDGE_SAMPLING_FLAGS,
  addJudgeModelFlags,
  addSettingFlags,
  judgeAsBase,
  settingInputs,
} from "./options.ts";
import { flag, optionalText, optionSchema, parseOptions, repeatable, text } from "./option-schema.ts";
import type { z } from "zod";
import { formatReappraisalReport } from "./reappraisal-table.ts";
import { keepModelFreeReport, keepRunReport } from "./eval-report-store.ts";
import { executeRecordedRun, ONE_SAMPLE } from "./run.ts";
import { newRunOption } from "./run-options.ts";

interface Method {
  name: string;
  path: string;
}

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
    .option("--json", "print the report as JSON")
    .addOption(newRunOption());
  addJudgeModelFlags(command);
  addSettingFlags(command, [...JUDGE_RUN_SETTINGS, "prompts", "maxNewTokens"]);
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

function parseMethods(specs: readonly string[]): Method[] {
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

/** Each method's released judge files, read by the paper's rules. */
async function rescoreJudged(methods: readonly Method[]): Promise<{ name: string; scores: MethodScores }[]> {
  const scored = [];
  for (const { name, path } of methods) {
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw new InputError(`--method ${name}: ${path} is not a directory`, {
        file: path,
        hint: "with --judged, each --method names a directory of judge outputs",
      });
    }
    const scores = {} as Record<ReportCriterion, CaseScores>;
    for (const criterion of REPORT_CRITERIA) {
      const file = join(path, releasedJudgementsFile(criterion));
      if (!existsSync(file)) {
        throw new InputError(`--method ${name}: ${path} has no ${releasedJudgementsFile(criterion)}`, {
          file,
          hint: "--judged reads the directories the paper's gpt-4-reappraisal_eval.py writes, one file per criterion",
        });
      }
      const rows = [];
      for await (const row of readInputRows(file)) rows.push(row);
      scores[criterion] = releasedScores(rows, criterion, file);
    }
    scored.push({ name, scores });
  }
  return scored;
}

/** The re-scored cases as records of the fields a fresh evaluation writes (`method`, `pair`, `eval_<criterion>`). */
function judgedCases(scored: readonly { name: string; scores: MethodScores }[]): EvalCase[] {
  return scored.flatMap(({ name, scores }) =>
    [...new Set(REPORT_CRITERIA.flatMap((criterion) => [...scores[criterion].keys()]))].map((pair) => {
      const record: Record<string, unknown> = { method: name, pair };
      for (const criterion of REPORT_CRITERIA) record[`eval_${criterion}`] = scores[criterion].get(pair) ?? null;
      return { id: `${name}/${pair}`, record };
    }),
  );
}

/** Judges every method's replies through the runner, then reports; undefined when the run did not finish its output. */
async function evaluateFresh(
  methods: readonly Method[],
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
  const sampling = judgeSampling(options, pack);
  const identity: Record<string, unknown> = pack ? { ...sampling, judgePack: packIdentity(pack) } : { ...sampling };
  const run = await executeRecordedRun(
    { ...raw, input: cases, output, idField: "id", questionField: "question", json: false },
    (settings) => ({
      ...prepareTask({ ...settings, task: "sft", prompts: undefined }),
      algorithm: reappraisalEvalAlgorithm(sampling, prompts),
      identity,
    }),
    { ...ONE_SAMPLE, ...(pack && !judgeModelChosen(raw) ? { baseModel: pack.settings.model } : {}) },
  );
  if (!existsSync(output)) return undefined;
  const rows: Record<string, unknown>[] = [];
  for await (const row of readInputRows(output)) rows.push(row.value as Record<string, unknown>);
  const report = reappraisalReport(
    recordScores(
      rows,
      methods.map((m) => m.name),
    ),
    baselines,
  );
  writeJsonFile(`${output}.summary.json`, report);
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
  const { settings } = resolveSettings(settingInputs(options));
  if (!settings.prompts || settings.prompts.length === 0) return undefined;
  const dir = paperJudgePackDir(settings.prompts);
  if (dir === undefined) {
    throw new ConfigError(`no eval_prompts.py in ${settings.prompts.join(", ")}`, {
      field: "prompts",
      hint: "eval reappraisal's --prompts is the paper's GPT-4-eval directory; leave it out for spri's own judge prompts",
    });
  }
  return loadPaperJudgePack(dir, paperPromptFunctions());
}

/** Whether the judge model was named anywhere (flag, environment, config file): else the pack's model is the default. */
function judgeModelChosen(options: Record<string, unknown>): boolean {
  const { sources } = resolveSettings(settingInputs(options));
  return sources.baseModel !== "unset" && sources.baseModel !== "default";
}

/** The flags' sampling, else the pack's settings, else the paper's evaluator settings (0.1, seed 36). */
function judgeSampling(options: ReappraisalFlags, pack: PaperJudgePack | undefined): SamplingOptions {
  const temperature = options.temperature ?? pack?.settings.temperature ?? 0.1;
  const seed = options.seed ?? pack?.settings.seed ?? 36;
  const maxTokens = options.maxNewTokens ?? pack?.settings.maxTokens;
  return maxTokens === undefined ? { temperature, seed } : { temperature, seed, maxTokens };
}

/** What identifies the pack's judge in the run: its directory and a digest of what it sends. */
function packIdentity(pack: PaperJudgePack): Record<string, unknown> {
  return { dir: pack.dir, digest: hash32(JSON.stringify([pack.system, pack.prompts])).toString(16) };
}
