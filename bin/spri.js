#!/usr/bin/env node
import { existsSync, readFileSync, statSync } from "node:fs";
import module from "node:module";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  process.stderr.write(
    `spri: needs Node 22.12 or newer, this is ${process.version}. In a clone, run it through \`npx spri\` after \`npm ci\` (which provides Node 24); elsewhere install Node 22 or 24 LTS.\n`,
  );
  process.exit(1);
}
// spri is built when it is installed (`npm ci` in a clone), never when it runs: a missing build is
// reported with what to do.
const main = new URL("../dist/surfaces/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  const dist = fileURLToPath(new URL("../dist/", import.meta.url));
  process.stderr.write(
    `spri: ${dist} is missing: this copy of spri is not built. In a clone, run \`npm ci\` (or \`npm run build\` after changing the sources).\n`,
  );
  process.exit(1);
}
// A reader that goes away (`spri … | head`) ends the output, as SIGPIPE ends other commands; it is
// not an error worth a stack trace.
process.stdout.on("error", (error) => {
  if (error.code !== "EPIPE") throw error;
  process.exit(typeof process.exitCode === "number" ? process.exitCode : 0);
});
// Node's compile cache (as TypeScript's own CLI enables it): V8's code for spri (its bundle, or its
// ~290 modules) is kept between runs, in NODE_COMPILE_CACHE or the system's temp directory, and checked against each
// file's content. A `spri worker` or `spri run` then starts ~25 ms of CPU sooner (more on a busy
// machine, where several start at once); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
try {
  module.enableCompileCache?.();
} catch {
  // An unwritable cache directory only costs the time it would have saved.
}
// The CLI bundle (scripts/bundle-cli.js) starts in half the time. SPRI_NO_BUNDLE=1 runs the modules.
const { main: run } = await import((bundleToRun() ?? main).href);
process.exitCode = await run();
// The command is done: every command awaits its own work (files written, stores and servers
// closed). Left to end by itself, Node would then free V8's heap page by page, 40-160 ms after a
// long run (a shared run's workers, bench (g)) before the process is gone; exiting once stdout and
// stderr have handed their last bytes to the system (pipes are written asynchronously) ends it at
// once, and the kernel takes back its memory whole.
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
try {
  module.flushCompileCache?.();
} catch {
  // As when it is enabled: an unwritable cache only costs the next start its time.
}
process.exit();

/** Resolves once everything written to `stream` so far has been handed to the system (or it failed). */
function flushed(stream) {
  return new Promise((resolve) => {
    if (stream.writableLength === 0 || stream.destroyed) resolve();
    else stream.write("", () => resolve());
  });
}

/**
 * The bundle, when it may run: always in an installed package (built once, when packed; npm gives
 * unpacked files the time they were written, so their times say nothing), and in a clone (src/
 * beside bin/) only while none of the build's modules it was made from is newer than it.
 */
function bundleToRun() {
  const bundle = new URL("../dist/surfaces/cli/bundle.js", import.meta.url);
  if (process.env.SPRI_NO_BUNDLE === "1" || !existsSync(bundle)) return undefined;
  if (!existsSync(new URL("../src/", import.meta.url))) return bundle;
  try {
    const made = statSync(bundle).mtimeMs;
    const modules = JSON.parse(readFileSync(new URL("../dist/surfaces/cli/bundle-modules.json", import.meta.url), "utf8"));
    const fresh = modules.every((path) => statSync(new URL(`../dist/${path}`, import.meta.url)).mtimeMs <= made);
    return fresh ? bundle : undefined;
  } catch {
    return undefined;
  }
}
