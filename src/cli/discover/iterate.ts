/** `spri discover iterate`: the iterations directory (runner/discovery-iterations.ts) and `iterate mine`. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConstitution } from "../../discovery/constitution.ts";
import { DEFAULT_NEAR_DUPLICATE, entry as iterationEntry, formatStatus, iterFile, statusRows } from "../../discovery/iterations.ts";
import { ConfigError } from "../../errors/errors.ts";
import { initIterations, readState, recordIteration, setIterationModel } from "../../runner/discovery-iterations.ts";
import { addSettingFlags } from "../options.ts";
import { newRunOption } from "../run.ts";
import { DISCOVERY_MODEL_SETTINGS, numberOption, positiveInteger } from "./discover-options.ts";
import { addIterateEvalCommands } from "./iterate-eval.ts";
import { addMineOptions, executeMine } from "./mine.ts";

export function iterateCommand(discover: Command): Command {
  const iterate = discover
    .command("iterate")
    .description(
      "bookkeeping across STaPLe iterations in a directory: disjoint prompt slices, each iteration's model, discovery rate and constitution size",
    );
  const dir = (c: Command) => c.requiredOption("--dir <dir>", "the iterations directory (state.json)");
  const iterOption = (c: Command) => c.requiredOption("--iter <t>", "iteration number (from 1)");
  const iterOf = (options: Record<string, unknown>) =>
    numberOption(options, "iter", "--iter must be a positive integer,", positiveInteger)!;

  dir(iterate.command("init").description("split a (prompt, gold) dataset into disjoint slices, one per iteration"))
    .requiredOption("--input <file>", "the dataset (any format spri run reads)")
    .option("--slices <k>", "K equal slices (default 4)")
    .option("--sizes <list>", "slice sizes, comma-separated (e.g. 50000,10000,10000,10000); the rest is unused")
    .option("--seed <s>", "seed of the split", "0")
    .option("--id-field <name>", "field holding the row id (default: id, else the line number)", "id")
    .option("--base-model <id>", "the initial model (iteration 1)")
    .option("--base-url <url>", "its OpenAI-compatible base URL")
    .option("--force", "overwrite an existing state")
    .action(async (options: Record<string, unknown>) => {
      const sizes =
        options.sizes === undefined
          ? undefined
          : String(options.sizes)
              .split(",")
              .map((s) => Number(s.trim()));
      const state = await initIterations({
        dir: String(options.dir),
        input: String(options.input),
        slices: numberOption(options, "slices", "--slices must be a positive integer,", positiveInteger),
        sizes,
        seed: String(options.seed),
        idField: String(options.idField),
        force: Boolean(options.force),
        model:
          options.baseModel === undefined
            ? undefined
            : { baseModel: String(options.baseModel), ...(options.baseUrl === undefined ? {} : { baseUrl: String(options.baseUrl) }) },
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
    .action((options: Record<string, unknown>) => {
      const state = setIterationModel(String(options.dir), iterOf(options), {
        baseModel: String(options.baseModel),
        baseUrl: options.baseUrl as string | undefined,
        baseProvider: options.baseProvider as string | undefined,
        note: options.note as string | undefined,
      });
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
    const root = String(options.dir);
    const iter = iterOf(options);
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
    .action(async (options: Record<string, unknown>) => {
      const state = await recordIteration(String(options.dir), iterOf(options), {
        mined: options.mined as string | undefined,
        constitution: options.constitution as string | undefined,
        threshold: numberOption(options, "nearDuplicate", "--near-duplicate must be a number in [0, 1],", (n) => n >= 0 && n <= 1),
        readConstitution: loadConstitution,
      });
      process.stdout.write(formatStatus(state));
    });

  dir(iterate.command("status").description("print the iterations table"))
    .option("--json", "print the state as JSON")
    .action((options: Record<string, unknown>) => {
      const state = readState(String(options.dir));
      process.stdout.write(options.json ? `${JSON.stringify({ ...state, table: statusRows(state) }, null, 2)}\n` : formatStatus(state));
    });
  addIterateEvalCommands(iterate);
  return iterate;
}
