/** The `spri` command line: parse, call the library, print. Errors end with one line and a code (errors/exit-codes.ts). */
import { Command, CommanderError } from "commander";
import { isSpriError } from "../../base/errors/errors.ts";
import { EXIT_CODES } from "../../base/errors/exit-codes.ts";
import { alignCommand } from "./align.ts";
import { evalCommand } from "./eval.ts";
import { exportCommand } from "./export.ts";
import { judgeCommand } from "./judge.ts";
import { runCommand } from "./run.ts";
import { compareCommand } from "./compare.ts";
import { discoverCommand } from "./discover/index.ts";
import { statusCommand } from "./status.ts";
import { viewCommand } from "./view.ts";
import { workerCommand } from "./worker.ts";
import { spriVersion } from "../../base/util/package-version.ts";

export function buildProgram(): Command {
  const program = new Command("spri")
    .description("Align LLM outputs with context-situated principles (SPRI, Zhan et al. 2025).")
    .version(spriVersion())
    .showHelpAfterError("(run with --help for usage)")
    // Before the commands are added, so that they inherit it: commander's own usage errors then reach
    // main() as CommanderError instead of ending the process with commander's exit code.
    .exitOverride();
  alignCommand(program);
  runCommand(program);
  judgeCommand(program);
  exportCommand(program);
  evalCommand(program);
  compareCommand(program);
  discoverCommand(program);
  viewCommand(program);
  workerCommand(program);
  statusCommand(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
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
    process.stderr.write(`spri: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.SPRI_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return EXIT_CODES.internal;
  }
}
