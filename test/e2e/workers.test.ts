/**
 * Shared runs, on SQLite and on a real PostgreSQL: `spri run --no-work` enqueues and writes the
 * output while `spri worker` processes do the items; two `spri run` of the same command share the
 * work; a worker killed with -9 a third of the way in leaves its items to a new one. Every item lands
 * in the output exactly once, and (almost) no call is paid twice.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openStore } from "../../src/runtime/store/open-store.ts";
import type { RunStore } from "../../src/runtime/store/run-store.ts";
import { REPO_ROOT } from "../support/cli.ts";
import { startFakeModelServer } from "../../src/test.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { CALLS_PER_ITEM, scriptedBackend } from "../support/scripted-backend.ts";
import { EXIT_CODES } from "../../src/base/errors/exit-codes.ts";

const BIN = join(REPO_ROOT, "bin", "spri.js");

function writeItems(dir: string, n: number): string {
  const input = join(dir, "items.jsonl");
  writeFileSync(
    input,
    Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `Question number ${i}?` })).join("\n") + "\n",
  );
  return input;
}

function readIds(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => String((JSON.parse(l) as { id: unknown }).id));
}

interface Child {
  process: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
}

function start(args: readonly string[], cwd: string): Child {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return { process: child, exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))), stderr: () => stderr };
}

/** Polls `check` until it holds (these tests wait on the store, never on fixed sleeps). */
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

for (const backend of ["sqlite", "postgres"] as const)
  describe(`shared runs on one ${backend} store`, () => {
    let dir: string;
    let postgres: TestPostgres | undefined;
    let stores = 0;
    /** A fresh store location of this backend. */
    const newStore = async (): Promise<string> => (postgres ? postgres.newDatabase() : join(dir, `store-${stores++}.db`));
    let server: Awaited<ReturnType<typeof startFakeModelServer>>;
    /** The server answers once this resolves (a test holds it until all its workers are up). */
    let gate: Promise<void> = Promise.resolve();
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "spri-workers-"));
      if (backend === "postgres") postgres = await startPostgres();
      const answer = scriptedBackend();
      server = await startFakeModelServer(async (request) => {
        await gate;
        await new Promise((r) => setTimeout(r, 10));
        return answer(request);
      });
    });
    after(async () => {
      await server.close();
      await postgres?.stop();
    });

    const model = () => ["--base-url", `${server.url}/v1`, "--base-model", "m", "--critic-model", "c"];

    test("spri run --no-work writes the output while two workers do every item once", async () => {
      const items = 40;
      const input = writeItems(dir, items);
      const output = join(dir, "no-work.jsonl");
      const db = await newStore();
      const before = server.requests.length;
      const run = start(["run", "--input", input, "--output", output, "--store", db, "--no-work", ...model()], dir);
      const store: RunStore = await openStore(db);
      let open = () => {};
      gate = new Promise((resolve) => (open = resolve));
      try {
        await until(async () => (await store.listRuns())[0]?.inputComplete === true, "the run to be enqueued");
        const workers = [1, 2].map(() => start(["worker", "--store", db, "--drain", "--concurrency", "2"], dir));
        // Both workers lease items before any answer comes, so both take part.
        await until(
          async () => (await store.listWorkers()).filter((w) => w.status === "active" && w.leased > 0).length === 2,
          "two workers holding items",
        );
        open();
        const codes = await Promise.all(workers.map((w) => w.exited));
        assert.deepEqual(codes, [0, 0], workers.map((w) => w.stderr()).join("\n"));
        assert.equal(await run.exited, 0, run.stderr());
        const ids = readIds(output);
        assert.equal(ids.length, items);
        assert.equal(new Set(ids).size, items, "exactly once");
        assert.equal(server.requests.length - before, items * CALLS_PER_ITEM, "no call paid twice");
        const runId = (await store.listRuns())[0]!.id;
        const done = (await store.listWorkers(runId)).filter((w) => w.itemsDone > 0);
        assert.equal(done.length, 2, "both workers did items");
        assert.equal(
          done.reduce((n, w) => n + w.itemsDone, 0),
          items,
        );
        // Training data straight from the store equals training data from the output file.
        const fromStore = start(
          ["export", "--run", runId, "--store", db, "--format", "messages", "--output", join(dir, "from-store.jsonl"), "--no-card"],
          dir,
        );
        const fromFile = start(
          ["export", "--input", output, "--format", "messages", "--output", join(dir, "from-file.jsonl"), "--no-card"],
          dir,
        );
        assert.deepEqual(await Promise.all([fromStore.exited, fromFile.exited]), [0, 0], fromStore.stderr() + fromFile.stderr());
        assert.equal(readFileSync(join(dir, "from-store.jsonl"), "utf8"), readFileSync(join(dir, "from-file.jsonl"), "utf8"));
        assert.equal(readFileSync(join(dir, "from-store.jsonl"), "utf8").trim().split("\n").length, items);
      } finally {
        open();
        await store.close();
      }
    });

    test("a cost budget shared by two workers stops the run at it, not at twice it nor past it", async () => {
      const items = 60;
      const budget = 40;
      const input = writeItems(dir, items);
      const output = join(dir, "budget.jsonl");
      const db = await newStore();
      // Every call costs $1 at most and at least: it may write 5 tokens (--max-new-tokens) at $200,000 per
      // million, and the fake server reports 5 written; input is free.
      const prices = join(dir, "prices.json");
      writeFileSync(prices, JSON.stringify({ m: { input: 0, output: 200_000 }, c: { input: 0, output: 200_000 } }));
      const slow = await startFakeModelServer(async (request) => {
        await new Promise((r) => setTimeout(r, 50));
        return scriptedBackend()(request);
      });
      try {
        const limits = ["--max-cost", String(budget), "--prices", prices, "--max-new-tokens", "5"];
        const run = start(
          [
            "run",
            "--input",
            input,
            "--output",
            output,
            "--store",
            db,
            "--no-work",
            ...limits,
            "--base-url",
            `${slow.url}/v1`,
            "--base-model",
            "m",
            "--critic-model",
            "c",
          ],
          dir,
        );
        const store: RunStore = await openStore(db);
        try {
          await until(async () => (await store.listRuns())[0]?.inputComplete === true, "the run to be enqueued");
          const workers = [1, 2].map(() => start(["worker", "--store", db, "--drain", "--concurrency", "2"], dir));
          const codes = await Promise.all(workers.map((w) => w.exited));
          assert.deepEqual(codes, [EXIT_CODES.budgetStop, EXIT_CODES.budgetStop], workers.map((w) => w.stderr()).join("\n"));
          assert.match(workers.map((w) => w.stderr()).join("\n"), /cost budget of \$40 is spent/);
          assert.equal(await run.exited, EXIT_CODES.budgetStop, run.stderr());
          const runId = (await store.listRuns())[0]!.id;
          const spent = (await store.runUsage(runId)).costUsd ?? 0;
          // Each worker alone would spend the whole budget; together they spend it, less what the one that
          // stopped first could not use (under a call's cost), and never more.
          assert.ok(spent >= budget - 2 && spent <= budget, `spent $${spent} of a $${budget} budget`);
        } finally {
          await store.close();
        }
      } finally {
        await slow.close();
      }
    });

    test("two spri run of the same command at once: every item once, no call paid twice", async () => {
      const items = 40;
      const input = writeItems(dir, items);
      const output = join(dir, "twice.jsonl");
      const db = await newStore();
      const before = server.requests.length;
      const args = ["run", "--input", input, "--output", output, "--store", db, "--concurrency", "2", ...model()];
      // No answer before both processes are up: a second process that started after the first had
      // finished would find the run done, not join it (under load, 40 items took the first ~1 s).
      let open = () => {};
      gate = new Promise((resolve) => (open = resolve));
      const runs = [start(args, dir), start(args, dir)];
      const store: RunStore = await openStore(db);
      try {
        await until(async () => (await store.listWorkers()).filter((w) => w.status === "active").length === 2, "both processes up");
      } finally {
        open();
        await store.close();
      }
      const codes = await Promise.all(runs.map((r) => r.exited));
      assert.deepEqual(codes, [0, 0], runs.map((r) => r.stderr()).join("\n"));
      assert.match(runs.map((r) => r.stderr()).join("\n"), /joining it as a worker/);
      const ids = readIds(output);
      assert.equal(ids.length, items);
      assert.equal(new Set(ids).size, items, "exactly once");
      assert.ok(server.requests.length - before <= Math.ceil(items * CALLS_PER_ITEM * 1.05), `calls: ${server.requests.length - before}`);
    });

    test("400 items by workers only, one killed with -9 a third of the way in and a new one started: each item once, ≤ 3 % more calls", async () => {
      const items = 400;
      const input = writeItems(dir, items);
      const output = join(dir, "killed.jsonl");
      const db = await newStore();
      const before = server.requests.length;
      const run = start(["run", "--input", input, "--output", output, "--store", db, "--no-work", "--lease", "2", ...model()], dir);
      const store: RunStore = await openStore(db);
      try {
        await until(async () => (await store.listRuns())[0]?.inputComplete === true, "the run to be enqueued");
        const runId = (await store.listRuns())[0]!.id;
        const first = start(["worker", "--store", db, "--run", runId, "--concurrency", "2", "--lease", "2"], dir);
        const steady = start(["worker", "--store", db, "--run", runId, "--drain", "--concurrency", "2", "--lease", "2"], dir);
        await until(async () => (await store.itemCounts(runId)).done >= items / 3, "a third of the items");
        first.process.kill("SIGKILL");
        await first.exited;
        const second = start(["worker", "--store", db, "--run", runId, "--drain", "--concurrency", "2", "--lease", "2"], dir);
        assert.equal(await second.exited, 0, second.stderr());
        assert.equal(await steady.exited, 0, steady.stderr());
        assert.equal(await run.exited, 0, run.stderr());
        const ids = readIds(output);
        assert.equal(ids.length, items);
        assert.equal(new Set(ids).size, items, "exactly once");
        // One process makes exactly CALLS_PER_ITEM calls an item. Calls paid twice are those in flight at
        // the kill (one per item in progress: 2 × concurrency) and those answered within the call cache's
        // last group commit before it (tens of milliseconds).
        const calls = server.requests.length - before;
        const bodies = server.requests.slice(before).map((r) => r.rawBody);
        const repaid = bodies.length - new Set(bodies).size;
        assert.ok(repaid <= 16, `calls paid twice: ${repaid}`);
        assert.ok(calls <= items * CALLS_PER_ITEM * 1.03, `calls: ${calls} for ${items * CALLS_PER_ITEM} by one process`);
        const workers = await store.listWorkers(runId);
        assert.ok(
          workers.some((w) => w.status === "stopped" && w.itemsDone > 0 && w.pid !== second.process.pid),
          "the killed worker was released",
        );
      } finally {
        await store.close();
      }
    });
  });
