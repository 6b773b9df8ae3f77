/** `spri view`: the local web viewer and playground over the run store. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { resolveSettings } from "../../config/config.ts";
import { checkToken, generateToken, isLoopback, MIN_TOKEN_LENGTH } from "../server/safety.ts";
import { openStore, storeExists } from "../../runtime/store/open-store.ts";
import { redactUrl } from "../../base/util/redact-url.ts";
import { readState } from "../../runtime/runner/discovery-iterations.ts";
import { ENVIRONMENT_HELP, RUNNER_CALL_SETTINGS, SPRI_ITEM_SETTINGS, addSettingFlags, settingInputs } from "./options.ts";
import { playgroundOptions } from "./playground-setup.ts";
import { integer, negatable, optionalText, optionSchema, parseOptions, text } from "./option-schema.ts";

export const DEFAULT_VIEW_PORT = 8417;

const VIEW_FLAGS = optionSchema({
  port: integer("a port number (0-65535)", (n) => n >= 0 && n <= 65535).default(DEFAULT_VIEW_PORT),
  host: text.default("127.0.0.1"),
  token: optionalText,
  playground: negatable,
  iterations: optionalText,
});

export function viewCommand(program: Command): void {
  const command = program
    .command("view")
    .description("browse runs in a local web viewer (runs, items, every call) and try questions in a playground")
    .option("--port <n>", `port to listen on (0: any free port; default ${DEFAULT_VIEW_PORT})`)
    .option("--host <address>", "address to bind (default 127.0.0.1; anything else needs a token)")
    .option(
      "--token <token>",
      `access token, at least ${MIN_TOKEN_LENGTH} characters (env: SPRI_VIEW_TOKEN); left out, a strong one is generated and printed when --host is not loopback`,
    )
    .option("--no-playground", "serve the runs only: no model calls from the browser")
    .option(
      "--iterations <dir>",
      "also show a discovery iterations directory (spri discover iterate): metrics per iteration as plots, constitutions side by side",
    );
  addSettingFlags(command, ["store", ...SPRI_ITEM_SETTINGS, ...RUNNER_CALL_SETTINGS]);
  command.addHelpText(
    "after",
    `
The model settings are the playground's: the page picks the task, model ids, τ and n_max; endpoints
and keys stay with this command (flags, environment, config file), never taken from the browser. A
model id must be served by the provider and endpoint configured here for its role (another
provider's model, or another local model file, is refused with 400). Each question is a run of its
own, made by the runner as \`spri run\` makes its items: calls cached (the same question with the
same settings again costs nothing), retried, rate-limited and within --max-cost / --max-tokens per run.
${ENVIRONMENT_HELP}`,
  );
  command.action(async (raw: Record<string, unknown>) => {
    const { host, port, token: tokenFlag, playground: withPlayground, iterations } = parseOptions(VIEW_FLAGS, raw);
    // A directory without a state is refused now, with what to run, rather than on the page.
    const iterationsDir = iterations === undefined ? undefined : resolve(iterations);
    if (iterationsDir !== undefined) readState(iterationsDir);
    let token = tokenFlag ?? (process.env.SPRI_VIEW_TOKEN || undefined);
    if (token !== undefined) checkToken(token);
    let generated = false;
    if (!isLoopback(host) && !token) {
      token = generateToken();
      generated = true;
    }
    const resolved = resolveSettings(settingInputs(raw));
    const storePath = resolved.settings.store;
    const shown = redactUrl(storePath);
    if (!storeExists(storePath))
      process.stderr.write(`spri view: ${shown} does not exist yet; it is created empty (runs appear as they are made)\n`);
    const store = await openStore(storePath);
    const playground = withPlayground ? playgroundOptions(raw, resolved) : undefined;
    // The viewer's server (hono) loads only for `spri view`.
    const { startViewer } = await import("../server/serve.ts");
    const viewer = await startViewer({ store, host, port, token, playground, iterationsDir, version: program.version() });
    process.stdout.write(`spri view: ${shown} at ${viewer.url}\n`);
    if (generated) process.stdout.write("spri view: the token above was generated for this session; open that link (it sets a cookie)\n");
    if (!playground) process.stdout.write("spri view: playground off\n");
    if (iterationsDir !== undefined)
      process.stdout.write(`spri view: iterations of ${iterationsDir} at ${viewer.url.split("?")[0]}iterations\n`);
    process.stdout.write("spri view: press Ctrl+C to stop\n");
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    await viewer.close();
    await viewer.playground?.settle();
    await store.close();
  });
}
