/** `spri export`: the records of `spri run` as training data (SFT, DPO, ShareGPT, Alpaca), JSONL or Parquet. */
import type { Command } from "commander";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import { writeRunRecords } from "../../runtime/runner/run-records.ts";
import { openStore } from "../../runtime/store/open-store.ts";
import {
  EXPORT_FORMATS,
  type ExportFileType,
  describeSkipped,
  exportFileTypeOf,
  exportRecords,
  parseExportFormat,
} from "../../io/exports.ts";
import { checkInputFile, parseInputFormat } from "../../io/input-reader.ts";
import { readJsonObjectFile } from "../../io/json-file.ts";
import { flag, negatable, optionalText, optionSchema, parseOptions, text } from "./option-schema.ts";

const EXPORT_FLAGS = optionSchema({
  input: optionalText,
  run: optionalText,
  store: optionalText,
  output: text,
  format: text,
  parquet: flag,
  questionField: optionalText,
  systemPrompt: optionalText,
  inputFormat: optionalText,
  skipMalformed: flag,
  settings: optionalText,
  card: negatable,
  json: flag,
});

export function exportCommand(program: Command): void {
  program
    .command("export")
    .description(
      "turn the records of `spri run` into training data: (question, response_final) pairs, or DPO pairs with init_response as rejected",
    )
    .option("--input <file>", "records written by `spri run` (JSON Lines)")
    .option("--run <id>", "instead of --input: the finished records of this run, read from the run store (--store)")
    .option("--store <location>", "with --run: the run store, a SQLite file or postgres://… (env: SPRI_STORE; default spri.db)")
    .requiredOption("--output <file>", "training file to write (.jsonl, or .parquet for Parquet)")
    .requiredOption("--format <name>", `${EXPORT_FORMATS.join(", ")}`)
    .option("--parquet", "write Parquet whatever the output's extension (default: Parquet for .parquet, else JSON Lines)")
    .option(
      "--question-field <name>",
      "field holding the question (default: first of user_input, prompt, instruction, question, input, Reddit Post, post)",
    )
    .option("--system-prompt <text>", "messages, sharegpt: a system message put first in every example")
    .option("--input-format <name>", "format of --input when its extension does not say (jsonl, json, csv, tsv, parquet)")
    .option("--skip-malformed", "skip and count malformed JSONL lines instead of stopping at the first")
    .option("--settings <file>", "JSON object of run settings to record in the dataset card (secret-looking fields are dropped)")
    .option("--no-card", "do not write the dataset card <output>.README.md")
    .option("--json", "print the export summary as JSON")
    .addHelpText(
      "after",
      `
Formats:
  messages           {"messages":[{"role":"system"}?, {"role":"user"}, {"role":"assistant"}]} (OpenAI fine-tuning, TRL)
  prompt-completion  {"prompt", "completion"}
  preference         {"prompt", "chosen": response_final, "rejected": init_response}; pairs without a draft or with equal texts are skipped
  sharegpt           {"conversations":[{"from":"system"}?, {"from":"human"}, {"from":"gpt"}]}
  alpaca             {"instruction", "input": "", "output"}
Records without response_final (or a question) are skipped and counted. A dataset card with the
counts and the SPRI citation is written beside the output as <output>.README.md.`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(EXPORT_FLAGS, raw);
      if ((options.input === undefined) === (options.run === undefined)) {
        throw new ConfigError("give either --input (an output file of `spri run`) or --run (a run in the store)", { field: "input" });
      }
      const { output } = options;
      const fromStore = options.run === undefined ? undefined : await recordsOfRun(options.run, options.store);
      const input = fromStore?.file ?? options.input!;
      checkInputFile(input);
      const format = parseExportFormat(options.format);
      const fileType: ExportFileType = options.parquet ? "parquet" : exportFileTypeOf(output);
      const summary = await exportRecords({
        input,
        output,
        format,
        fileType,
        inputFormat: options.inputFormat === undefined ? undefined : parseInputFormat(options.inputFormat),
        questionField: options.questionField,
        systemPrompt: options.systemPrompt,
        skipMalformed: options.skipMalformed,
        card: options.card,
        settings: options.settings === undefined ? fromStore?.settings : readSettings(options.settings),
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const skipped = describeSkipped(summary.skipped);
      process.stderr.write(
        `spri: exported ${summary.exported} of ${summary.read} records to ${output} (${format}, ${summary.fileType})${skipped ? `; skipped ${skipped}` : ""}\n`,
      );
      if (summary.card) process.stderr.write(`spri: dataset card ${summary.card}\n`);
      if (summary.exported === 0 && summary.read > 0) {
        process.stderr.write("spri: warning: no record made an example; check --question-field and that the run finished\n");
      }
    });
}

/** The run's finished records, from the store (--store) into a temporary JSONL file, and its settings. */
async function recordsOfRun(runId: string, location: string | undefined): Promise<{ file: string; settings: Record<string, unknown> }> {
  const store = await openStore(resolveSettings({ flags: { store: location } }).settings.store);
  try {
    return await writeRunRecords(store, runId);
  } finally {
    await store.close();
  }
}

function readSettings(file: string): Record<string, unknown> {
  return readJsonObjectFile(file, { what: "settings file", field: "settings", hint: "--settings takes a file holding one JSON object" });
}
