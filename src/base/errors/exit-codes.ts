/**
 * The exit codes of `spri`, one meaning each, so that scripts and schedulers can tell "fix the
 * command" from "re-run later" from "look at the rejects". The README's table lists them; every
 * command ends with one of these and no other number.
 */
export const EXIT_CODES = {
  /** Everything asked for was done. */
  ok: 0,
  /** The run went through its whole input, and some items failed (reasons in the rejects file). */
  itemsFailed: 1,
  /** The command line, an input file, the configuration or the store is wrong: fix it and run again. */
  usage: 2,
  /** A model provider refused for good (key, quota, unknown model) or could not be reached. */
  providerRefused: 3,
  /** An offline batch round is written and waits to be run (`--batch-offline`); go on with `--batch-results`. */
  batchPending: 4,
  /** `--max-cost` or `--max-tokens` is spent; the run stopped cleanly and resumes when re-run. */
  budgetStop: 5,
  /** A bug in spri: the message says what happened (SPRI_DEBUG=1 prints the stack). */
  internal: 70,
  /** Ctrl-C or SIGTERM; the run stopped cleanly and resumes when re-run (128 + SIGINT, as shells do). */
  interrupted: 130,
} as const;

export type ExitCodeName = keyof typeof EXIT_CODES;
export type ExitCode = (typeof EXIT_CODES)[ExitCodeName];
