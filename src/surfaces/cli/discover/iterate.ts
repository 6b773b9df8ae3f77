/** `spri discover iterate`: the iterations directory (runner/discovery-iterations.ts) and `iterate mine`. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConstitution } from "../../../algorithms/discovery/constitution.ts";
import {
  DEFAULT_NEAR_DUPLICATE,
  entry as iterationEntry,
  formatStatus,
  iterFile,
  statusRows,
} from "../../../algorithms/discovery/iterations.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import { initIterations, readState, recordIteration, setIterationModel } from "../../../runtime/runner/discovery-iterations.ts";
import { addSettingFlags } from "../options.ts";
import { newRunOption } from "../run-options.ts";
import { DISCOVERY_MODEL_SETTINGS, positiveInteger } from "./discover-options.ts";
import { flag, number, optionalText, optionSchema, parseOptions, text } from "../option-schema.ts";
import { addIterateEvalCommands } from "./iterate-eval.ts";

/** The flags of every `iterate` subcommand that works on one iteration. */
const ITERATION_FLAGS = optionSchema({ dir: text, iter: positiveInteger });

const INIT_FLAGS = optionSchema({
  dir: text,
  input: text,
  slices: positiveInteger.optional(),
  sizes: optionalText,
  seed: text,
  idField: text,
  baseModel: optionalText,
  baseUrl: optionalText,
  force: flag,
});

const MODEL_FLAGS = ITERATION_FLAGS.extend({ baseModel: text, baseUrl: optionalText, baseProvider: optionalText, note: optionalText });

const RECORD_FLAGS = ITERATION_FLAGS.extend({
  mined: optionalText,
  constitution: optionalText,
  nearDuplicate: number("a number in [0, 1]", (n) => n >= 0 && n <= 1),
});

const STATUS_FLAGS = optionSchema({ dir: text, json: flag });
import { addMineOptions, executeMine } from "./mine.ts";

export function iterateCommand(discover: Command): Command {
  const iterate = discover
    .command("iterate")
    .description(
      "bookkeeping across STaPLe iterations in a directory: disjoint prompt slices, each iteration's model, discovery rate and constitution size",
    );
  const dir = (c: Command) => c.requiredOption("--dir <dir>", "the iterations directory (state.json)");
  const iterOption = (c: Command) => c.requiredOption("--iter <t>", "iteration number (from 1)");

  dir(iterate.command("init").description("split a (prompt, gold) dataset into disjoint slices, one per iteration"))
    .requiredOption("--input <file>", "the dataset (any format spri run reads)")
    .option("--slices <k>", "K equal slices (default 4)")
    .option("--sizes <list>", "slice sizes, comma-separated (e.g. 50000,10000,10000,10000); the rest is unused")
    .option("--seed <s>", "seed of the split", "0")
    .option("--id-field <name>", "field holding the row id (default: id, else the line number)", "id")
    .option("--base-model <id>", "the initial model (iteration 1)")
    .option("--base-url <url>", "its OpenAI-compatible base URL")
    .option("--force", "overwrite an existing state")
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(INIT_FLAGS, raw);
      const { baseModel, baseUrl } = options;
      const state = await initIterations({
        dir: options.dir,
        input: options.input,
        slices: options.slices,
        sizes: options.sizes?.split(",").map((s) => Number(s.trim())),
        seed: options.seed,
        idField: options.idField,
        force: options.force,
        model: baseModel === undefined ? undefined : { baseModel, ...(baseUrl === undefined ? {} : { baseUrl }) },
      });
      process.stdout.write(formatStatus(state));
    });

  iterOption(
    dir(
      iterate.command("model").description("record the model that mines an iteration (for t > 1: the one trained after iteration t − 1)"),
    ),
  )
    .requiredOption("--base-model <id>", "model id as served")
    .option("--base-url <url>", "OpenAI-compatible base URL")
    .option("--base-provider <name>", "provider, when it cannot be inferred")
    .option("--note <text>", "e.g. the checkpoint path")
    .action((raw: Record<string, unknown>) => {
      const { dir, iter, ...model } = parseOptions(MODEL_FLAGS, raw);
      const state = setIterationModel(dir, iter, model);
      process.stdout.write(formatStatus(state));
    });

  const mine = iterOption(
    dir(
      iterate
        .command("mine")
        .description("mine an iteration's slice with its model (spri discover mine with the paths and model from the state)"),
    ),
  )
    .option("--output <file>", "mining records (default <dir>/iter-<t>/mined.jsonl)")
    .option("--question-field <name>", "field holding the prompt")
    .option("--no-cache", "do not read or write the call cache")
    .option("--refresh", "call the models again and overwrite cached answers")
    .option("--dry-run", "estimate calls, tokens and cost, and spend nothing")
    .option("--json", "print the run summary as JSON")
    .addOption(newRunOption());
  addMineOptions(mine, false);
  addSettingFlags(mine, DISCOVERY_MODEL_SETTINGS);
  mine.action(async (options: Record<string, unknown>) => {
    const { dir: root, iter } = parseOptions(ITERATION_FLAGS, options);
    const state = readState(root);
    const current = iterationEntry(state, iter);
    const model = current.model;
    if (!model && options.baseModel === undefined) {
      throw new ConfigError(`no model is recorded for iteration ${iter}`, {
        field: "baseModel",
        hint: `run spri discover iterate model --dir ${root} --iter ${iter} --base-model <id> --base-url <url>, or pass --base-model`,
      });
    }
    if (options.baseModel === undefined && model) {
      options.baseModel = model.baseModel;
      if (options.baseUrl === undefined && model.baseUrl !== undefined) options.baseUrl = model.baseUrl;
      if (options.baseProvider === undefined && model.baseProvider !== undefined) options.baseProvider = model.baseProvider;
    }
    options.input = resolve(root, current.slice.file);
    options.output ??= iterFile(root, iter, "mined");
    options.idField = state.dataset.idField;
    await executeMine(options);
  });

  iterOption(
    dir(
      iterate
        .command("record")
        .description("compute an iteration's statistics (accepted, new principles, discovery rate, constitution size) into the state"),
    ),
  )
    .option("--mined <file>", "mining records (default <dir>/iter-<t>/mined.jsonl)")
    .option("--constitution <file>", "the iteration's constitution (default <dir>/iter-<t>/constitution.json when present)")
    .option("--near-duplicate <x>", "Rouge-L F1 at or above which a principle is not new", String(DEFAULT_NEAR_DUPLICATE))
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(RECORD_FLAGS, raw);
      const state = await recordIteration(options.dir, options.iter, {
        mined: options.mined,
        constitution: options.constitution,
        threshold: options.nearDuplicate,
        readConstitution: loadConstitution,
      });
      process.stdout.write(formatStatus(state));
    });

  dir(iterate.command("status").description("print the iterations table"))
    .option("--json", "print the state as JSON")
    .action((raw: Record<string, unknown>) => {
      const options = parseOptions(STATUS_FLAGS, raw);
      const state = readState(options.dir);
      process.stdout.write(options.json ? `${JSON.stringify({ ...state, table: statusRows(state) }, null, 2)}\n` : formatStatus(state));
    });
  addIterateEvalCommands(iterate);
  return iterate;
}
