#!/usr/bin/env node
import { accessSync, constants, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import module from "node:module";
import os from "node:os";
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
await tuneHeapForLongRuns();
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

/**
 * The commands that keep hundreds of calls in flight (a run, a worker, a judge…) start again, in this
 * same process (execve: same pid, same stdio, same environment), with V8's young generation capped
 * at `SEMI_SPACE_MB` per semi-space. Each item in flight holds its state for several calls (~0.6 s),
 * longer than the default young generation (grown to 64 MB semi-spaces on a 24 GB machine) takes to
 * fill: that state was promoted and collected again on pages touched fresh each time. With 16 MB,
 * the workers of bench (g) took ~30 % fewer page faults (45k against 67k each) and the shared run
 * finished its calls 3 % sooner (three alternating pairs of rounds; 8 MB was slower than 16); bench
 * (f)'s single process, four alternating pairs: 2,273 calls/s on average against 2,234, with three
 * times as many scavenges (130 against 40) at less than half the pause each (8 ms against 18). V8 reads the size only when the
 * heap is set up, so it cannot be changed from inside. The restart costs one Node start (~60 ms)
 * and runs preloads (`--import`, `--require`) a second time.
 *
 * `process.execve` is experimental (Node 22.15+, 23.11+; not on Windows), and on the Node versions
 * out so far a failing execve(2) aborts the process instead of throwing: the restart is left out
 * unless everything it needs is plainly there. Also left out: with SPRI_HEAP_TUNING=0; when the
 * user sized the heap (a semi-space flag, --max-heap-size, in execArgv or NODE_OPTIONS); under a
 * debugger or an IPC channel from a parent (`fork`, `node --watch`), which a new image would drop;
 * under the permission model without child processes; when this file is not the program (imported
 * by another script, which would run again); on machines below 4 GiB, where V8's own young
 * generation is no larger than the cap anyway.
 */
async function tuneHeapForLongRuns() {
  const SEMI_SPACE_MB = 16;
  const LONG = new Set(["run", "worker", "judge", "compare", "discover", "eval"]);
  if (!LONG.has(process.argv[2] ?? "") || process.env.SPRI_HEAP_TUNING === "0") return;
  if (typeof process.execve !== "function" || process.platform === "win32" || process.channel !== undefined) return;
  if (process.permission && !process.permission.has("child")) return;
  const memory = Math.min(os.totalmem(), process.constrainedMemory?.() || Number.POSITIVE_INFINITY);
  if (memory < 4 * 1024 ** 3) return;
  // Node takes `_` for `-` in option names, and NODE_OPTIONS may quote its values.
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)].map((flag) =>
    flag.replace(/^["']/, "").replace(/=.*$/, "").replaceAll("_", "-"),
  );
  if (given.some((flag) => /^--((max|min)-semi-space-size|semi-space-growth-factor|max-heap-size|inspect|debug)/.test(flag))) return;
  try {
    if (realpathSync(process.argv[1] ?? "") !== realpathSync(fileURLToPath(import.meta.url))) return;
    accessSync(process.execPath, constants.X_OK);
    if (process.features.inspector && (await import("node:inspector")).url() !== undefined) return;
  } catch {
    return;
  }
  process.execve(process.execPath, [
    process.execPath,
    `--max-semi-space-size=${SEMI_SPACE_MB}`,
    ...process.execArgv,
    ...process.argv.slice(1),
  ]);
}

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
