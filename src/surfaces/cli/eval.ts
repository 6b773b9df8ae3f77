/** `spri eval`: evaluation commands. `spri eval correlate`: how well a judge's scores agree with human scores. */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { type Command, Option } from "commander";
import { InputError } from "../../base/errors/errors.ts";
import { parseInputFormat } from "../../io/input-reader.ts";
import {
  CORRELATION_METRICS,
  type CorrelationReport,
  DROP_REASONS,
  type GroupedCorrelation,
  correlateFile,
  parseGroupList,
} from "../../algorithms/judge/correlate.ts";
import { correlationCases } from "../../runtime/runner/eval-report.ts";
import { renderCorrelationFigure } from "../../algorithms/judge/figure.ts";
import { ifevalCommand } from "./eval-ifeval.ts";
import { keepModelFreeReport } from "./eval-report-store.ts";
import { addSettingFlags } from "./options.ts";
import { mtBenchCommand } from "./eval-mt-bench.ts";
import { reappraisalCommand } from "./eval-reappraisal.ts";
import { winRateCommand } from "./eval-win-rate.ts";
import { truthfulQaCommand } from "./eval-truthfulqa.ts";
import { z } from "zod";
import { choice, flag, optionalText, optionSchema, parseOptions, text } from "./option-schema.ts";
import { textTable } from "../../base/util/text-table.ts";

/** Registers the `eval` command group on `program` and returns it, so other subcommands can join it. */
export function evalCommand(program: Command): Command {
  const group = program
    .command("eval")
    .description(
      "evaluate judges and responses: agreement with human scores, reappraisal (Table 1), win rates, MT-Bench, IFEval principle following, TruthfulQA",
    );
  correlateCommand(group);
  reappraisalCommand(group);
  winRateCommand(group);
  mtBenchCommand(group);
  ifevalCommand(group);
  truthfulQaCommand(group);
  return group;
}

const CORRELATE_FLAGS = optionSchema({
  scoreField: text,
  humanField: text,
  // `--group-by <field>`, or false for `--no-group-by`.
  groupBy: z.union([z.string(), z.literal(false)]),
  groups: optionalText,
  metric: choice(CORRELATION_METRICS),
  json: flag,
  figure: optionalText,
  dropUnparseable: flag,
  skipMalformed: flag,
  inputFormat: optionalText,
});

function correlateCommand(group: Command): void {
  const command = group
    .command("correlate")
    .description("agreement of judge scores with human scores per group: Pearson, Spearman, MAE, Krippendorff's alpha")
    .argument("<file>", "rows with a judge score and a human score (JSONL, JSON, CSV, TSV or Parquet)")
    .option("--score-field <name>", "field holding the judge's score", "evaluator_LM-score")
    .option("--human-field <name>", "field holding the human score", "human_score")
    .option("--group-by <field>", "field naming each row's group", "capability")
    .option("--no-group-by", "treat all rows as one group")
    .option(
      "--groups <list>",
      "only these groups, in this order: comma-separated names, or biggen for the paper's 8 capabilities (default: all, in order of first appearance)",
    )
    .addOption(
      new Option("--metric <name>", "headline metric: the `mean` in --json, first in the table")
        .choices(CORRELATION_METRICS)
        .default("pearson"),
    )
    .option("--json", "print one JSON object instead of a table")
    .option("--figure <file>", "also write an SVG: judge-vs-human scatter and score histogram")
    .option("--drop-unparseable", "drop and count rows whose score is text instead of stopping at the first")
    .option("--skip-malformed", "drop and count malformed JSONL lines instead of stopping at the first")
    .option("--input-format <name>", "format of FILE when its extension does not say (jsonl, json, csv, tsv, parquet)")
    .addHelpText(
      "after",
      `
Rows whose judge score is missing, null or NaN are dropped and counted as unscored (rows without a
human score: no-human-score); human scores of -1 are kept, as in the paper. A score that is text
(e.g. "Feedback: ... 4") stops the command with its line, unless --drop-unparseable.

Per group: n, Pearson r and Spearman rho with two-sided p-values (Student's t, n-2 df; ties get
average ranks), mean absolute error, and Krippendorff's alpha (ratio, two coders: human and judge).
Each value is rounded to 3 decimals (p-values to 3 significant digits); a metric's mean is the
paper's average: the arithmetic mean of the rounded group values, rounded half up. "pooled" is the
metric over all used rows at once.

--json prints {file, scoreField, humanField, groupBy, metric, mean, read, n, dropped,
droppedByReason, groups: [{name, n}], metrics: {pearson, spearman: {mean, pooled, pooledP,
groups: {<group>: r}, p: {<group>: p}}, mae, krippendorff_alpha: {mean, pooled, groups}}}; undefined
values (n < 2, constant scores) are null, and so is a mean over them.

With --store (or SPRI_STORE) the report and each used row's scores are also kept there as a
finished run, which spri view shows.

Example (SPRI paper, BiGGen Bench):
  spri eval correlate "outputs/gpt-4o-mini/[oracle]-[gold_rubrics].jsonl" --groups biggen`,
    )
    .action(async (file: string, raw: Record<string, unknown>) => {
      const options = parseOptions(CORRELATE_FLAGS, raw);
      const { metric } = options;
      const groupBy = options.groupBy === false ? null : options.groupBy;
      const { report, groups } = await correlateFile({
        file,
        scoreField: options.scoreField,
        humanField: options.humanField,
        groupBy,
        groups: options.groups === undefined ? undefined : parseGroupList(options.groups),
        metric,
        dropUnparseable: options.dropUnparseable,
        skipMalformed: options.skipMalformed,
        format: options.inputFormat === undefined ? undefined : parseInputFormat(options.inputFormat),
      });
      let figure: string | undefined;
      if (options.figure !== undefined) {
        figure = options.figure;
        const svg = renderCorrelationFigure({
          groups,
          title: basename(file),
          subtitle: `${metric} mean over ${groups.length} group${groups.length === 1 ? "" : "s"}: ${formatValue(report.mean)} · n = ${report.n}${report.dropped ? ` (${report.dropped} dropped)` : ""}`,
          humanLabel: `human (${report.humanField})`,
          judgeLabel: `judge (${report.scoreField})`,
        });
        try {
          writeFileSync(figure, svg);
        } catch (error) {
          throw new InputError(`cannot write the figure: ${(error as Error).message}`, { file: figure, field: "figure", cause: error });
        }
      }
      await keepModelFreeReport(
        raw,
        {
          task: "eval/correlate",
          inputPath: file,
          settings: { scoreField: report.scoreField, humanField: report.humanField, groupBy },
          cases: correlationCases(groups),
        },
        { kind: "correlate", report },
      );
      if (options.json) {
        process.stdout.write(`${JSON.stringify(figure === undefined ? report : { ...report, figure })}\n`);
        return;
      }
      process.stdout.write(formatCorrelationTable(report));
      if (figure !== undefined) process.stderr.write(`spri: figure ${figure}\n`);
    });
  addSettingFlags(command, ["store"]);
}

function formatValue(value: number | null): string {
  return value === null ? "—" : value.toFixed(3);
}

function formatP(value: number | null): string {
  if (value === null) return "—";
  if (value !== 0 && value < 0.001) return value.toExponential(1);
  return value.toFixed(3);
}

/** The report as an aligned text table. */
export function formatCorrelationTable(report: CorrelationReport): string {
  const correlations: [string, GroupedCorrelation][] =
    report.metric === "spearman"
      ? [
          ["spearman", report.metrics.spearman],
          ["pearson", report.metrics.pearson],
        ]
      : [
          ["pearson", report.metrics.pearson],
          ["spearman", report.metrics.spearman],
        ];
  const header = ["group", "n", ...correlations.flatMap(([name]) => [name, "p"]), "MAE", "alpha"];
  const rows: string[][] = report.groups.map((group) => [
    group.name,
    String(group.n),
    ...correlations.flatMap(([, metric]) => [formatValue(metric.groups[group.name] ?? null), formatP(metric.p[group.name] ?? null)]),
    formatValue(report.metrics.mae.groups[group.name] ?? null),
    formatValue(report.metrics.krippendorff_alpha.groups[group.name] ?? null),
  ]);
  const meanRow = [
    "mean of groups",
    "",
    ...correlations.flatMap(([, metric]) => [formatValue(metric.mean), ""]),
    formatValue(report.metrics.mae.mean),
    formatValue(report.metrics.krippendorff_alpha.mean),
  ];
  const pooledRow = [
    "pooled",
    String(report.n),
    ...correlations.flatMap(([, metric]) => [formatValue(metric.pooled), formatP(metric.pooledP)]),
    formatValue(report.metrics.mae.pooled),
    formatValue(report.metrics.krippendorff_alpha.pooled),
  ];
  // The group column reads left to right; the numbers line up on the right.
  const table = textTable([header, ...rows, meanRow, pooledRow], { right: (column) => column > 0 });
  const rule = table.widths.map((width) => "─".repeat(width)).join("  ");
  const reasons = DROP_REASONS.filter((reason) => report.droppedByReason[reason] > 0)
    .map((reason) => `${report.droppedByReason[reason]} ${reason}`)
    .join(", ");
  const lines = [
    `${report.file}`,
    `judge ${report.scoreField} vs human ${report.humanField}, ${report.groupBy === null ? "all rows as one group" : `grouped by ${report.groupBy}`}`,
    `${report.read} rows read, ${report.n} used, ${report.dropped} dropped${reasons ? ` (${reasons})` : ""}`,
    "",
    table.lines[0]!,
    rule,
    ...table.lines.slice(1, -2),
    rule,
    ...table.lines.slice(-2),
    "",
    `${report.metric} mean over ${report.groups.length} group${report.groups.length === 1 ? "" : "s"}: ${formatValue(report.mean)} (each group rounded to 3 decimals, then averaged; alpha: Krippendorff, ratio)`,
  ];
  return `${lines.join("\n")}\n`;
}
