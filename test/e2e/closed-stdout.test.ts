import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { REPO_ROOT } from "../support/cli.ts";

test("a reader that goes away (spri … | head) ends the output quietly: no stack trace, exit 0", async () => {
  const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "spri.js"), "discover", "loop", "--help"], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Closed before spri writes a byte: its first write meets a pipe with no reader (EPIPE).
  child.stdout.destroy();
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("close", (exitCode) => resolve(exitCode)));
  assert.equal(stderr, "");
  assert.equal(code, 0);
});
