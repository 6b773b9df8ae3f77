/**
 * `spri run` against a real local server that misbehaves: 429 with Retry-After, 500s, connection
 * resets, hangs past the timeout, and critiques without a score. Every item must end in the output
 * or the rejects file with a reason, none twice, and no score may become 0. Then a kill -9 halfway
 * and a re-run: every item exactly once, and almost nothing paid twice.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_CODES } from "../../src/base/errors/exit-codes.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import {
  type FakeReply,
  hang,
  json,
  openaiError,
  openaiText,
  type RecordedRequest,
  resetConnection,
  startFakeModelServer,
} from "../../src/test.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { CALLS_PER_ITEM, type ChatBody, scriptedBackend } from "../support/scripted-backend.ts";

const ITEMS = 30;

function writeItems(dir: string, n: number): string {
  const input = join(dir, "items.jsonl");
  writeFileSync(
    input,
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `Question number ${i}?` })).join("\n") + "\n",
  );
  return input;
}

/** The complete lines' records: a file that a running (or killed) process writes may end mid-line. */
function readRecords(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("spri run survives a misbehaving server", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-faults-"));
  });

  test("429 / 500 / reset / hang / unscored critiques: every item accounted for exactly once", async () => {
    const answer = scriptedBackend();
    let n = 0;
    const faulty = (request: RecordedRequest): FakeReply => {
      n++;
      const text = (request.body as ChatBody).messages.map((m) => m.content).join("\n");
      // Items 7 and 8: the critic never gives a score (truncated critiques).
      if (/\[RESULT\] <score>/.test(text) && /Question number [78]\?/.test(text))
        return openaiText("Feedback: the principles are fine but");
      // Item 9: a request the server rejects for good (not retryable): the item must be rejected.
      if (/Question number 9\?/.test(text)) return openaiError(400, "context length exceeded");
      if (n % 7 === 0) return openaiError(429, "slow down", { headers: { "retry-after": "0" } });
      if (n % 11 === 0) return json(500, { error: { message: "internal error" } });
      if (n % 13 === 0) return resetConnection();
      if (n % 29 === 0) return hang();
      return answer(request);
    };
    const server = await startFakeModelServer(faulty);
    try {
      const input = writeItems(dir, ITEMS);
      const output = join(dir, "faults.jsonl");
      const result = await runCli(
        [
          "run",
          "--input",
          input,
          "--output",
          output,
          "--concurrency",
          "4",
          "--timeout",
          "1",
          "--retry-delay",
          "0.01",
          "--max-tries",
          "8",
          "--json",
          "--base-url",
          `${server.url}/v1`,
          "--base-model",
          "m",
          "--critic-model",
          "c",
        ],
        { cwd: dir },
      );
      assert.equal(result.code, 1, result.stderr);
      const records = readRecords(output);
      const rejects = readRecords(`${output}.rejects.jsonl`);
      const ids = [...records.map((r) => String(r.id)), ...rejects.map((r) => String(r.id))];
      assert.equal(ids.length, ITEMS, "every item ends in the output or the rejects file");
      assert.equal(new Set(ids).size, ITEMS, "none twice");
      assert.deepEqual(
        rejects.map((r) => r.id),
        ["q9"],
      );
      assert.match(String(rejects[0]!.reason), /answered 400: context length exceeded/);
      for (const r of records) {
        for (const score of [
          ...(r.principles_critique_scores as (number | null)[]),
          ...(r.response_critique_scores as (number | null)[]),
        ]) {
          assert.notEqual(score, 0, `item ${String(r.id)}: a score of 0`);
        }
      }
      const unscored = records.filter((r) => r.id === "q7" || r.id === "q8");
      assert.equal(unscored.length, 2);
      for (const r of unscored) {
        assert.deepEqual(r.principles_critique_scores, [null]);
        assert.ok("error_in_principle_critique_iter_1" in r);
      }
    } finally {
      await server.close();
    }
  });

  test("a long Retry-After (no quota code) is waited --max-retry-wait at most, counts as a try and shows in the progress", async () => {
    const answer = scriptedBackend();
    let first = true;
    const server = await startFakeModelServer((request) => {
      if (!first) return answer(request);
      first = false;
      return openaiError(429, "slow down", { headers: { "retry-after": "299" } });
    });
    try {
      const input = writeItems(dir, 1);
      const output = join(dir, "retry-after.jsonl");
      const result = await runCli(
        [
          "run",
          "--input",
          input,
          "--output",
          output,
          "--concurrency",
          "1",
          "--max-retry-wait",
          "0.05",
          "--progress-interval",
          "0",
          "--base-url",
          `${server.url}/v1`,
          "--base-model",
          "m",
        ],
        { cwd: dir },
      );
      assert.equal(result.code, 0, result.stderr);
      assert.equal(server.requests.length, CALLS_PER_ITEM + 1, "the refused call was tried again");
      const progress = result.stderr
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const waiting = progress.find((line) => Number(line.retryingCalls) > 0);
      assert.ok(waiting, `no progress line shows the wait:\n${result.stderr}`);
      assert.equal(waiting.retries, 1);
      assert.ok(Number(waiting.retryWaitSeconds) <= 1, `the wait was not cut short: ${String(waiting.retryWaitSeconds)} s`);
    } finally {
      await server.close();
    }
  });

  test("a hard quota error stops the run cleanly, and the output stays partial", async () => {
    const server = await startFakeModelServer(() => openaiError(429, "You exceeded your current quota", { code: "insufficient_quota" }));
    try {
      const input = writeItems(dir, 10);
      const output = join(dir, "quota.jsonl");
      const result = await runCli(
        ["run", "--input", input, "--output", output, "--concurrency", "2", "--base-url", `${server.url}/v1`, "--base-model", "m"],
        { cwd: dir },
      );
      assert.equal(result.code, EXIT_CODES.providerRefused);
      assert.match(result.stderr, /run stopped: .*quota.*re-run the same command to resume/);
      assert.ok(server.requests.length <= 2, `stopped after the in-flight calls, saw ${server.requests.length}`);
      assert.equal(existsSync(output), false);
    } finally {
      await server.close();
    }
  });

  test("a token budget stops the run cleanly", async () => {
    const server = await startFakeModelServer(scriptedBackend());
    try {
      const input = writeItems(dir, 20);
      const output = join(dir, "budget.jsonl");
      // The fake server reports 15 tokens a call: 300 tokens is 20 calls, about 3 items.
      const result = await runCli(
        [
          "run",
          "--input",
          input,
          "--output",
          output,
          "--concurrency",
          "1",
          "--max-tokens",
          "300",
          "--json",
          "--base-url",
          `${server.url}/v1`,
          "--base-model",
          "m",
        ],
        { cwd: dir },
      );
      assert.equal(result.code, EXIT_CODES.budgetStop, result.stderr);
      const summary = JSON.parse(result.stdout) as { outcome: string; stopReason: string; done: number };
      assert.equal(summary.outcome, "stopped");
      assert.match(summary.stopReason, /token budget of 300/);
      assert.ok(summary.done >= 3 && summary.done <= 4, `done ${summary.done}`);
    } finally {
      await server.close();
    }
  });

  for (const backend of ["sqlite", "postgres"] as const)
    describe(`kill -9 halfway, then re-run (${backend} store)`, () => {
      let server: Awaited<ReturnType<typeof startFakeModelServer>>;
      let postgres: TestPostgres | undefined;
      let store: string[] = [];
      before(async () => {
        if (backend === "postgres") {
          postgres = await startPostgres();
          store = ["--store", await postgres.newDatabase()];
        }
        const answer = scriptedBackend();
        server = await startFakeModelServer(async (request) => {
          await new Promise((r) => setTimeout(r, 15));
          return answer(request);
        });
      });
      after(async () => {
        await server.close();
        await postgres?.stop();
      });

      test("every item exactly once; calls paid twice are at most the ones in flight", async () => {
        const items = 60;
        const concurrency = 4;
        const input = writeItems(dir, items);
        const output = join(dir, `killed-${backend}.jsonl`);
        const args = [
          "run",
          "--input",
          input,
          "--output",
          output,
          "--concurrency",
          String(concurrency),
          ...store,
          "--base-url",
          `${server.url}/v1`,
          "--base-model",
          "m",
          "--critic-model",
          "c",
        ];
        const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "spri.js"), ...args], {
          cwd: dir,
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
          stdio: "ignore",
        });
        const exited = new Promise((resolve) => child.on("exit", resolve));
        while (readRecords(`${output}.partial`).length < items / 2) {
          if (child.exitCode !== null) throw new Error("the run ended before it could be killed");
          await new Promise((r) => setTimeout(r, 20));
        }
        child.kill("SIGKILL");
        await exited;
        const beforeRerun = readRecords(`${output}.partial`).length;
        assert.ok(beforeRerun < items, "killed before the end");

        const result = await runCli(args, { cwd: dir });
        assert.equal(result.code, 0, result.stderr);
        const ids = readRecords(output).map((r) => String(r.id));
        assert.equal(ids.length, items);
        assert.equal(new Set(ids).size, items, "exactly once");
        // A call paid twice is a request body the server saw twice (no item sends the same body twice):
        // one in flight at the kill, or one answered within the call cache's last group commit, whose
        // length in calls depends on the machine's load. Both belong to items in progress at the kill,
        // so at most `concurrency` items' calls; without the cache it would be every item before the kill.
        const bodies = server.requests.map((r) => r.rawBody);
        const repaid = bodies.length - new Set(bodies).size;
        assert.ok(repaid <= concurrency * CALLS_PER_ITEM, `calls paid twice: ${repaid}`);
        assert.ok(server.requests.length <= items * CALLS_PER_ITEM + repaid);
      });
    });
});
