/**
 * The input, output and runner flags of every command that runs a file through the runner: how they
 * are added to a command, and their schema (option-schema.ts), parsed once by `executeRun`.
 */
import { type Command, Option } from "commander";
import { z } from "zod";
import { flag, integer, negatable, number, optionalText, optionSchema, repeatable, text } from "./option-schema.ts";

/** Row fields that only some tasks read: a command lists those its algorithm reads. */
export type TaskField = "goal" | "reference" | "systemPrompt" | "domain";

const TASK_FIELD_OPTIONS: Record<TaskField, [flag: string, help: string]> = {
  goal: ["--goal-field <name>", "reappraisal: field holding the response goal (default: appraisal_dimension_aim)"],
  reference: ["--reference-field <name>", "rubric: field holding a reference answer (default: reference-free)"],
  systemPrompt: ["--system-prompt-field <name>", "rubric: field holding the input's system prompt (default: system_prompt)"],
  domain: [
    "--domain-field <name>",
    "field matched against seeds with --seeds-per-domain (reappraisal: appraisal_dimension_id; rubric: capability)",
  ],
};

/**
 * The input, output and runner options of every command that runs a file through the runner, with
 * the task fields its algorithm reads, and `--no-work` only where `spri worker` can take the run
 * over (runs that record their command: `spri run`).
 */
export function addRunOptions(command: Command, options: { fields?: readonly TaskField[]; workers?: boolean } = {}): Command {
  command
    .requiredOption("--input <file>", "items: JSON Lines (.jsonl), a JSON array (.json), CSV (.csv/.tsv) or Parquet (.parquet)")
    .requiredOption("--output <file>", "output JSON Lines; written as <file>.partial until the whole input has been through")
    .option("--limit <n>", "only the first n items of the input, to try a run; a later run with a larger n (or none) goes on from there")
    .option(
      "--max-item-size <size>",
      "largest item (its input row as JSON) sent to the models, e.g. 500KB, 5MB; larger items are rejected before any call (default 1MB)",
    )
    .option(
      "--question-field <name>",
      "field holding the question (default: first of user_input, prompt, instruction, question, input; reappraisal: Reddit Post)",
    )
    .option("--id-field <name>", "field holding the item id (default: id, else the line number)");
  for (const field of options.fields ?? []) command.option(...TASK_FIELD_OPTIONS[field]);
  command
    .option("--no-cache", "do not read or write the call cache (same as --cache off)")
    .option("--refresh", "call the models again and overwrite cached answers (same as --cache refresh)")
    .option("--dry-run", "estimate calls, tokens and cost, and spend nothing")
    .option(
      "--batch",
      "send the calls through the OpenAI Batch API, one batch per SPRI step (half price, up to 24 h a round; OpenAI-compatible models only; files in <output>.batch/; needs the openai package installed)",
    )
    .option(
      "--batch-offline",
      "batch mode that only writes each round's file (OpenAI batch JSONL, for `vllm run-batch`) and stops with exit code 4; continue with --batch-results",
    )
    .option(
      "--batch-results <file>",
      "import a batch output file (OpenAI batch output JSONL, e.g. from `vllm run-batch`) into the call cache, then go on (repeatable; implies --batch)",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option("--batch-poll <seconds>", "seconds before the first poll of a submitted batch; later polls back off (default 30)");
  if (options.workers)
    command.option("--no-work", "only enqueue the items and write the output as `spri worker` processes finish them (a shared --store)");
  return command
    .option(
      "--lease <seconds>",
      "how long a worker's hold on an item lasts without a heartbeat; a lost worker's items go to another after it (default 30)",
    )
    .option("--json", "print the run summary as JSON")
    .addOption(newRunOption());
}

/** The flag of every command that runs a file into an output through the runner. */
export function newRunOption(): Option {
  return new Option(
    "--new-run",
    "when the output holds the records of a run with other settings, task or input: replace them with this command's run (without it, the command is refused)",
  );
}

/** The flags `addRunOptions` adds, typed; the settings flags among the raw options go to resolveSettings. */
export const RUN_FLAGS = optionSchema({
  input: text,
  output: text,
  limit: integer("a positive whole number of items", (n) => n >= 1).optional(),
  maxItemSize: optionalText,
  questionField: optionalText,
  idField: optionalText,
  goalField: optionalText,
  referenceField: optionalText,
  systemPromptField: optionalText,
  domainField: optionalText,
  // `--no-cache` and the `--cache <mode>` setting share the attribute: false, a mode, or commander's default true.
  cache: z.union([z.boolean(), z.string()]).optional(),
  refresh: flag,
  dryRun: flag,
  batch: flag,
  batchOffline: flag,
  batchResults: repeatable,
  batchPoll: number("a number of seconds", (n) => n >= 0).optional(),
  work: negatable,
  lease: number("a positive number of seconds", (n) => n > 0).optional(),
  json: flag,
  newRun: flag,
});

export type RunFlags = z.output<typeof RUN_FLAGS>;
