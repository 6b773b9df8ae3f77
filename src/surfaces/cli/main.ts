/** The `spri` command line: parse, call the library, print. Errors end with one line and a code (errors/exit-codes.ts). */
import { Command, CommanderError } from "commander";
import { isSpriError } from "../../base/errors/errors.ts";
import { EXIT_CODES } from "../../base/errors/exit-codes.ts";
import { spriVersion } from "../../base/util/package-version.ts";
import { messageOf } from "../../base/util/message-of.ts";
import { holdHeapGrowth } from "./heap-growth.ts";

/** Adds one command (with its subcommands) to the program. */
type Register = (program: Command) => unknown;

/**
 * The commands in the order `spri --help` lists them, each behind a loader: a command line that
 * names one loads that command's module graph only. Loading every command took about a quarter of
 * `spri run --help`'s CPU (≈80 ms: the judge, discovery and eval graphs, 149 modules), paid again
 * by every worker process and every short command.
 */
const COMMANDS: readonly (readonly [string, () => Promise<Register>])[] = [
  ["align", async () => (await import("./align.ts")).alignCommand],
  ["run", async () => (await import("./run.ts")).runCommand],
  ["judge", async () => (await import("./judge.ts")).judgeCommand],
  ["export", async () => (await import("./export.ts")).exportCommand],
  ["eval", async () => (await import("./eval.ts")).evalCommand],
  ["compare", async () => (await import("./compare.ts")).compareCommand],
  ["discover", async () => (await import("./discover/index.ts")).discoverCommand],
  ["view", async () => (await import("./view.ts")).viewCommand],
  ["worker", async () => (await import("./worker.ts")).workerCommand],
  ["status", async () => (await import("./status.ts")).statusCommand],
];

/**
 * The program with the command `argv` names, or with every command when it names none of them
 * (help, `--version`, a misspelt command: commander then lists or suggests them all). The program's
 * own options take no values, so the first argument that is not an option is the command.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command("spri")
    .description("Align LLM outputs with context-situated principles (SPRI, Zhan et al. 2025).")
    .version(spriVersion())
    .showHelpAfterError("(run with --help for usage)")
    // Before the commands are added, so that they inherit it: commander's own usage errors then reach
    // main() as CommanderError instead of ending the process with commander's exit code.
    .exitOverride();
  const named = argv.slice(2).find((arg) => !arg.startsWith("-"));
  const only = COMMANDS.filter(([name]) => name === named);
  for (const [, load] of only.length > 0 ? only : COMMANDS) (await load())(program);
  return program;
}

/** The `spri` process: runs the command `argv` names and returns its exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  holdHeapGrowth();
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    // Commands report partial failure (e.g. rejected items) through process.exitCode.
    return typeof process.exitCode === "number" ? process.exitCode : EXIT_CODES.ok;
  } catch (error) {
    // Help and --version end with 0; every other commander error is a usage error.
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_CODES.ok : EXIT_CODES.usage;
    if (isSpriError(error)) {
      process.stderr.write(`spri: ${error.describe()}\n`);
      return error.exitCode;
    }
    process.stderr.write(`spri: unexpected error: ${messageOf(error)}\n`);
    if (process.env.SPRI_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT_CODES.internal;
  }
}
