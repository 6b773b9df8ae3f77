/**
 * This command as the run records it, so that the viewer and `spri status` can say how to resume
 * the run: the arguments after `spri` and the working directory (relative paths in them are
 * relative to it). Credentials in URL arguments (`--store postgres://user:password@…`) are redacted:
 * the record is shown to whoever looks at the store. API keys are never arguments.
 */
import type { Invocation } from "../../runtime/runner/run-state.ts";
import { redactUrl } from "../../base/util/redact-url.ts";

export function thisInvocation(argv: readonly string[] = process.argv.slice(2), cwd: string = process.cwd()): Invocation {
  return { argv: argv.map(redactArgument), cwd };
}

/** `postgres://u:p@h` and `--store=postgres://u:p@h` alike. */
function redactArgument(arg: string): string {
  const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
  return eq < 0 ? redactUrl(arg) : `${arg.slice(0, eq + 1)}${redactUrl(arg.slice(eq + 1))}`;
}
