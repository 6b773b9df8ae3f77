/** `spri discover export`: flags onto `exportTrainingData` (runner/training-export.ts), then a summary line. */
import type { Command } from "commander";
import { loadConstitution } from "../../../algorithms/discovery/constitution.ts";
import { DISCOVERY_EXPORT_FORMATS, parseDiscoveryExportFormat } from "../../../algorithms/discovery/training-formats.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import { DISCOVERY_PROMPTS } from "../../../io/prompts/builtin-discovery.ts";
import { exportTrainingData } from "../../../runtime/runner/training-export.ts";
import { positiveInteger } from "./discover-options.ts";
import { commaList, flag, integer, negatable, number, optionalText, optionSchema, parseOptions, text } from "../option-schema.ts";

const DISCOVER_EXPORT_FLAGS = optionSchema({
  input: text,
  output: text,
  format: text,
  constitution: optionalText,
  canonical: negatable,
  critique: negatable,
  trigger: text,
  questionField: optionalText,
  skipMalformed: flag,
  card: negatable,
  request: optionalText,
  baseModel: optionalText,
  iter: positiveInteger.optional(),
  seed: integer("an integer"),
  restartFromBase: flag,
  previous: commaList.optional(),
  validation: number("a fraction in [0, 1)", (n) => n >= 0 && n < 1).optional(),
  json: flag,
});

export function exportDiscoveryCommand(discover: Command): Command {
  return discover
    .command("export")
    .description(
      "turn accepted mining trajectories into SFT data (target: principle, critique, refined answer, given the prompt and y1) and a training request",
    )
    .requiredOption("--input <file>", "mining records (spri discover mine output)")
    .requiredOption("--output <file>", "training file (.jsonl, or .parquet for trl/star)")
    .option("--format <name>", `${DISCOVERY_EXPORT_FORMATS.join(", ")}`, "trl")
    .option(
      "--constitution <file>",
      "replace each principle by its cluster's representative (label replacement; records with zCanonical, from the labelled copy of `spri discover cluster`, use that)",
    )
    .option("--no-canonical", "ignore the records' zCanonical labels")
    .option("--no-critique", "leave the critique out of the target")
    .option("--trigger <text>", "the user turn after y1", DISCOVERY_PROMPTS.selfCorrectTrigger)
    .option("--question-field <name>", "field holding the prompt (default: first of user_input, prompt, instruction, question, input, …)")
    .option("--skip-malformed", "skip and count malformed JSONL lines")
    .option("--no-card", "do not write the dataset card <output>.README.md")
    .option("--request <file>", "also write a training request (JSON) for the external trainer, and a TRL config beside it")
    .option("--base-model <id>", "with --request: the model to train (the current policy's checkpoint or hub id)")
    .option("--iter <t>", "with --request: the iteration")
    .option("--seed <n>", "with --request: the training seed", "0")
    .option(
      "--restart-from-base",
      "with --request: train the initial model (give it as --base-model) on every iteration's data (--previous and this export) instead of continuing",
    )
    .option("--previous <files>", "with --restart-from-base: the earlier iterations' training files, comma-separated, oldest first")
    .option("--validation <fraction>", "hold out this fraction of the examples in <output stem>.valid.<ext> (e.g. 0.05)")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      `
Formats:
  trl     {"prompt": [user x, assistant y1, user trigger], "completion": [assistant target]}  (loss on the completion only)
  alpaca  {"prompt": "<Alpaca template: x, y1, trigger>", "completion": "target"}  (base models without a chat template)
  openai  {"messages": [user x, {assistant y1, "weight": 0}, user trigger, {assistant target, "weight": 1}]}
  star    {"prompt": [user x], "completion": [assistant y2]}  (STaR baseline, no principle)
Target: "[Principle] z\\n[Critique] c\\n[Revised response]\\ny2". Records that were not accepted are skipped.`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(DISCOVER_EXPORT_FLAGS, raw);
      const format = parseDiscoveryExportFormat(options.format);
      if (options.previous !== undefined && !options.restartFromBase) {
        throw new ConfigError("--previous only applies with --restart-from-base", { field: "previous" });
      }
      if (options.request !== undefined && options.baseModel === undefined) {
        throw new ConfigError("--request needs --base-model (the model the trainer starts from)", { field: "baseModel" });
      }
      const constitutionFile = options.constitution;
      const summary = await exportTrainingData({
        input: options.input,
        output: options.output,
        format,
        constitution: constitutionFile === undefined ? undefined : loadConstitution(constitutionFile),
        constitutionFile,
        useCanonical: options.canonical,
        includeCritique: options.critique,
        trigger: options.trigger,
        questionField: options.questionField,
        skipMalformed: options.skipMalformed,
        card: options.card,
        validation: options.validation,
        request:
          options.request === undefined
            ? undefined
            : {
                file: options.request,
                baseModel: options.baseModel!,
                iter: options.iter,
                seed: options.seed,
                restartFromBase: options.restartFromBase,
                previousFiles: options.previous,
              },
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const skipped = (Object.keys(summary.skipped) as (keyof typeof summary.skipped)[])
        .filter((k) => summary.skipped[k] > 0)
        .map((k) => `${summary.skipped[k]} ${k}`);
      process.stderr.write(
        `spri: exported ${summary.exported} of ${summary.read} records to ${summary.output} (${format})${skipped.length ? `; skipped ${skipped.join(", ")}` : ""}\n`,
      );
      const { canonical, member, nearest } = summary.relabelled;
      if (canonical + member + nearest > 0)
        process.stderr.write(
          `spri: principles replaced by cluster representatives: ${canonical} by zCanonical, ${member} as constitution members, ${nearest} by nearest Rouge-L\n`,
        );
      if (summary.request) process.stderr.write(`spri: training request ${summary.request}\n`);
    });
}
