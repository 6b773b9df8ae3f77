/**
 * bin/spri.js restarts the long commands (run, worker, …) in the same process with a smaller young
 * generation (see tuneHeapForLongRuns there); the others start once. A preload reports each start
 * of the Node image: its pid, V8 flags, arguments and one environment variable.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { REPO_ROOT } from "../support/cli.ts";

interface Start {
  pid: number;
  execArgv: string[];
  argv: string[];
  marker: string | undefined;
}

const BIN = join(REPO_ROOT, "bin", "spri.js");
let dir: string;
let preload: string;

/** Runs spri with the preload; `ipc` gives it a channel to this process, as `fork` does. */
function starts(args: string[], env: NodeJS.ProcessEnv = {}, ipc = false): Promise<Start[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", preload, BIN, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, SPRI_TEST_MARKER: "kept", ...env },
      stdio: ["ignore", "ignore", "pipe", ...(ipc ? ["ipc" as const] : [])],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`spri ${args.join(" ")} exited ${code}\n${stderr}`));
      const lines = stderr.split("\n").filter((line) => line.startsWith("START "));
      resolve(lines.map((line) => JSON.parse(line.slice("START ".length)) as Start));
    });
  });
}

/** Where bin/spri.js leaves the restart out whatever the command (see tuneHeapForLongRuns). */
const unavailable =
  typeof process.execve !== "function" ||
  process.platform === "win32" ||
  Math.min(totalmem(), process.constrainedMemory() || Number.POSITIVE_INFINITY) < 4 * 1024 ** 3;

describe("spri's heap tuning for long commands", { skip: unavailable }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-heap-"));
    preload = join(dir, "report.mjs");
    writeFileSync(
      preload,
      "process.stderr.write(`START ${JSON.stringify({ pid: process.pid, execArgv: process.execArgv, argv: process.argv.slice(2), marker: process.env.SPRI_TEST_MARKER })}\\n`);\n",
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("spri run starts again in the same process with a 16 MB semi-space, its arguments and environment", async () => {
    const seen = await starts(["run", "--help"]);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.pid, seen[1]!.pid);
    assert.ok(!seen[0]!.execArgv.includes("--max-semi-space-size=16"));
    assert.ok(seen[1]!.execArgv.includes("--max-semi-space-size=16"));
    // The user's own flags (here the preload), arguments and environment carry over.
    assert.ok(seen[1]!.execArgv.includes("--import"));
    assert.deepEqual(seen[1]!.argv, ["run", "--help"]);
    assert.equal(seen[1]!.marker, "kept");
  });

  test("so does spri worker", async () => {
    const seen = await starts(["worker", "--help"]);
    assert.equal(seen.length, 2);
    assert.ok(seen[1]!.execArgv.includes("--max-semi-space-size=16"));
  });

  test("short commands start once", async () => {
    assert.equal((await starts(["status", "--help"])).length, 1);
    assert.equal((await starts(["--version"])).length, 1);
  });

  test("SPRI_HEAP_TUNING=0, a size the user gave (either spelling) or a parent's IPC channel: one start", async () => {
    assert.equal((await starts(["run", "--help"], { SPRI_HEAP_TUNING: "0" })).length, 1);
    assert.equal((await starts(["run", "--help"], { NODE_OPTIONS: "--max-semi-space-size=4" })).length, 1);
    assert.equal((await starts(["run", "--help"], { NODE_OPTIONS: "--max_semi_space_size=4" })).length, 1);
    assert.equal((await starts(["run", "--help"], {}, true)).length, 1);
  });
});
