/**
 * bin/spri.js restarts the long commands (run, worker, …) in the same process with a smaller young
 * generation (see tuneHeapForLongRuns there); the others start once. A preload reports each start
 * of the Node image, with its pid and V8 flags.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { REPO_ROOT } from "../support/cli.ts";

interface Start {
  pid: number;
  execArgv: string[];
}

let preload: string;

function starts(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Start[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", preload, join(REPO_ROOT, "bin", "spri.js"), ...args], {
      cwd: mkdtempSync(join(tmpdir(), "spri-heap-")),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`spri ${args.join(" ")} exited ${code}\n${stderr}`));
      const lines = stderr.split("\n").filter((line) => line.startsWith("START "));
      resolve(lines.map((line) => JSON.parse(line.slice("START ".length)) as Start));
    });
  });
}

describe("spri's heap tuning for long commands", () => {
  before(() => {
    preload = join(mkdtempSync(join(tmpdir(), "spri-heap-preload-")), "report.mjs");
    writeFileSync(preload, "process.stderr.write(`START ${JSON.stringify({ pid: process.pid, execArgv: process.execArgv })}\\n`);\n");
  });

  test("spri run starts again in the same process with a 16 MB semi-space", async () => {
    const seen = await starts(["run", "--help"]);
    assert.equal(seen.length, 2);
    assert.equal(seen[0]!.pid, seen[1]!.pid);
    assert.ok(!seen[0]!.execArgv.includes("--max-semi-space-size=16"));
    assert.ok(seen[1]!.execArgv.includes("--max-semi-space-size=16"));
    // The user's own flags (here the preload) carry over.
    assert.ok(seen[1]!.execArgv.includes("--import"));
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

  test("SPRI_HEAP_TUNING=0, or a size the user gave, leaves V8's flags alone", async () => {
    assert.equal((await starts(["run", "--help"], { SPRI_HEAP_TUNING: "0" })).length, 1);
    const given = await starts(["run", "--help"], { NODE_OPTIONS: "--max-semi-space-size=4" });
    assert.equal(given.length, 1);
    assert.ok(!given[0]!.execArgv.includes("--max-semi-space-size=16"));
  });
});
