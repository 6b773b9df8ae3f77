/**
 * The end of `spri run`, end to end against a real local server: the summary counts the calls that
 * were sent to a model (not those cancelled while they waited for a slot), cache hits apart, and a
 * run whose critic never gives a readable score is warned about early, with the likely cause, and
 * at the end with the counts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { EXIT_CODES } from "../../src/base/errors/exit-codes.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import { hang, openaiText, startFakeModelServer } from "../../src/test.ts";

function writeItems(dir: string, name: string, n: number): string {
  const input = join(dir, name);
  writeFileSync(
    input,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `Question number ${i}?` })).join("\n")}\n`,
  );
  return input;
}

describe("the run summary", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-summary-"));
  });

  test("an interrupted run counts the calls it sent, not the ones still waiting for a slot", async () => {
    // Two slots, four items in progress: two calls go out (and hang), two wait for a slot.
    let arrived = () => {};
    const twoSent = new Promise<void>((resolve) => (arrived = resolve));
    const server = await startFakeModelServer(() => {
      if (server.requests.length === 2) arrived();
      return hang();
    });
    try {
      const input = writeItems(dir, "waiting.jsonl", 4);
      const args = [
        "run",
        "--input",
        input,
        "--output",
        join(dir, "waiting-out.jsonl"),
        "--concurrency",
        "2",
        "--base-url",
        `${server.url}/v1`,
        "--base-model",
        "m",
      ];
      const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "spri.js"), ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      await twoSent;
      child.kill("SIGINT");
      assert.equal(await exited, EXIT_CODES.interrupted, stderr);
      assert.equal(server.requests.length, 2);
      assert.match(stderr, /; 2 calls sent to the models, 0 answered from the cache,/, stderr);
      assert.match(stderr, /run stopped: interrupted/);
    } finally {
      await server.close();
    }
  });

  test("cache hits are reported as cache hits, apart from the calls sent", async () => {
    const server = await startFakeModelServer((request) => {
      const text = JSON.stringify(request.body);
      return openaiText(text.includes("[RESULT] <score>") ? "Feedback: clear. [RESULT] 5" : "1. Be kind.");
    });
    try {
      const input = writeItems(dir, "cached.jsonl", 2);
      const args = ["--base-url", `${server.url}/v1`, "--base-model", "m", "--critic-model", "c"];
      const first = await runCli(["run", "--input", input, "--output", join(dir, "cached-1.jsonl"), ...args], { cwd: dir });
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /; 8 calls sent to the models, 0 answered from the cache,/);
      const second = await runCli(["run", "--input", input, "--output", join(dir, "cached-2.jsonl"), "--json", ...args], { cwd: dir });
      assert.equal(second.code, 0, second.stderr);
      const summary = JSON.parse(second.stdout) as { calls: number; cacheHits: number };
      assert.deepEqual([summary.calls, summary.cacheHits], [0, 8]);
      assert.equal(server.requests.length, 8);
    } finally {
      await server.close();
    }
  });

  test("a critic that never scores: an early warning naming the likely cause, and the counts at the end", async () => {
    const server = await startFakeModelServer(() => openaiText("Looks fine to me."));
    try {
      const input = writeItems(dir, "unscored.jsonl", 5);
      const result = await runCli(
        [
          "run",
          "--input",
          input,
          "--output",
          join(dir, "unscored-out.jsonl"),
          "--concurrency",
          "1",
          "--base-url",
          `${server.url}/v1`,
          "--base-model",
          "m",
        ],
        { cwd: dir },
      );
      assert.equal(result.code, 0, result.stderr);
      const early = result.stderr.indexOf(
        "spri: warning: 10 of the first 10 critiques had no readable score; likely cause: the critic's answers hold no score marker such as `[RESULT] 4`",
      );
      const summary = result.stderr.indexOf("records written to");
      const end = result.stderr.indexOf("spri: warning: 30 of 30 critiques had no readable score (unscored, never 0); likely cause: ");
      assert.ok(early >= 0 && end >= 0, result.stderr);
      assert.ok(early < summary && summary < end, "warned early, counted at the end");
    } finally {
      await server.close();
    }
  });

  test("spri align with a critic that never scores ends with the counts and the likely cause", async () => {
    const server = await startFakeModelServer(() => openaiText("Looks fine to me."));
    try {
      const result = await runCli(["align", "How do I say no?", "--base-url", `${server.url}/v1`, "--base-model", "m"], { cwd: dir });
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stderr,
        /^spri: warning: 6 of 6 critiques had no readable score \(unscored, never 0\); likely cause: the critic's answers hold no score marker/m,
      );
    } finally {
      await server.close();
    }
  });
});
