/**
 * `spri status`: what a shared store's runs are doing. Without `--run`, a table of the newest runs;
 * with `--run`, one run live: items done / failed / leased / pending, the recent rate and ETA, and a
 * row per worker (lost ones marked `lost`). `--json` prints the same as one JSON object: `{ runs:
 * RunRow[] }` or a `RunWatch` (runner/run-watch.ts). Read-only: it never changes the store.
 * Exit codes: 0; 2 for usage errors (bad flags, no store there, unknown run id).
 */
import type { Command } from "commander";
import { resolveSettings } from "../../config/config.ts";
import { InputError } from "../../base/errors/errors.ts";
import { runRows, watchRun } from "../../runtime/runner/run-watch.ts";
import type { RunStore } from "../../runtime/store/run-store.ts";
import { findRun } from "../../runtime/runner/run-lookup.ts";
import { flag, integer, optionalText, optionSchema, parseOptions } from "./option-schema.ts";
import { openStore, storeExists } from "../../runtime/store/open-store.ts";
import { formatRunTable, formatRunWatch } from "./status-format.ts";

const DEFAULT_LIMIT = 20;

export function statusCommand(program: Command): void {
  program
    .command("status")
    .description("show the runs of a store (or one run live: progress, rate, ETA and its workers)")
    .option("--store <location>", "the run store: a SQLite file or postgres://… (env: SPRI_STORE; default spri.db)")
    .option("--run <id>", "this run (its id or a unique prefix of it) with its workers")
    .option("--limit <n>", `how many of the newest runs to list (default ${DEFAULT_LIMIT})`)
    .option("--json", "print one JSON object instead of text")
    .action((options: Record<string, unknown>) => executeStatus(options));
}

const STATUS_FLAGS = optionSchema({
  store: optionalText,
  run: optionalText,
  limit: integer("a whole number from 1 to 10000", (n) => n >= 1 && n <= 10_000).default(DEFAULT_LIMIT),
  json: flag,
});

async function executeStatus(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(STATUS_FLAGS, raw);
  const { limit } = options;
  const location = resolveSettings({ flags: { store: options.store } }).settings.store;
  // A status look must not leave an empty database behind where the user mistyped a path.
  if (!storeExists(location)) {
    throw new InputError(`no run store at ${location}`, {
      field: "store",
      hint: "pass --store (or SPRI_STORE) with the store that spri run and spri worker use",
    });
  }
  const store: RunStore = await openStore(location);
  try {
    if (options.run === undefined) {
      const runs = await runRows(store, limit);
      process.stdout.write(options.json ? `${JSON.stringify({ runs })}\n` : formatRunTable(runs));
      return;
    }
    const run = await findRun(store, options.run);
    const watch = await watchRun(store, run);
    process.stdout.write(options.json ? `${JSON.stringify(watch)}\n` : formatRunWatch(watch));
  } finally {
    await store.close();
  }
}
