/**
 * What `spri status` (and the viewer, which reads the same state) says about a run whose process was
 * killed with -9, one stopped by its budget and one with failed items: the shown status, why, the
 * command that resumes it, and how far the output file got. After the resume, store, status and
 * output file agree.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { EXIT_CODES } from "../../src/base/errors/exit-codes.ts";
import type { RunRow, RunWatch } from "../../src/runtime/runner/run-watch.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import { type FakeModelServer, openaiError, startFakeModelServer } from "../../src/test.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

/** Each file's questions are its own (`topic`), so no run is answered from another's cached calls. */
function writeItems(path: string, n: number, topic: string): void {
  writeFileSync(
    path,
    `${Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `${topic}: question number ${i}?` })).join("\n")}\n`,
  );
}

function lines(path: string): number {
  return existsSync(path) ? readFileSync(path, "utf8").split("\n").filter(Boolean).length : 0;
}

describe("a run's state after kill -9, a budget stop and failed items", () => {
  let dir: string;
  let server: FakeModelServer;
  let model: string[];
  const json = async <T>(...args: string[]): Promise<T> => {
    const result = await runCli(["status", "--store", join(dir, "spri.db"), "--json", ...args], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as T;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-run-state-"));
    const answer = scriptedBackend();
    server = await startFakeModelServer((request) => {
      if (/some fail: question number 7\?/.test(JSON.stringify(request.body))) return openaiError(400, "this input is refused (fixture)");
      return answer(request);
    });
    model = ["--base-url", `${server.url}/v1`, "--base-model", "m"];
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("killed: interrupted, with the command that resumes it; after the resume, store and output agree", async () => {
    const items = 200;
    writeItems(join(dir, "many.jsonl"), items, "many");
    // Relative paths, as people type them: the run records them resolved, and the directory it ran in.
    const args = ["run", "--input", "many.jsonl", "--output", "many-out.jsonl", "--concurrency", "8", ...model];
    const partial = join(dir, "many-out.jsonl.partial");
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin", "spri.js"), ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
      stdio: "ignore",
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    while (lines(partial) < items / 4) {
      if (child.exitCode !== null) throw new Error("the run ended before it could be killed");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    child.kill("SIGKILL");
    await exited;

    const { runs } = await json<{ runs: RunRow[] }>();
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, "interrupted");
    assert.match(runs[0]!.reason ?? "", new RegExp(`pid ${child.pid}`));
    assert.deepEqual([runs[0]!.inputPath, runs[0]!.outputPath], [join(dir, "many.jsonl"), join(dir, "many-out.jsonl")]);
    const watch = await json<RunWatch>("--run", runs[0]!.id);
    assert.equal(watch.status, "interrupted");
    assert.equal(watch.activeWorkers, 0);
    assert.equal(watch.resume, `cd ${dir} && spri ${args.join(" ")}`);
    // The store may be ahead of the file (results committed, not yet appended when the kill came),
    // and the file ahead of its last report; never the other way round.
    assert.ok(watch.output, "the output file reported how far it got");
    assert.equal(watch.output.file, partial);
    assert.ok(
      watch.output.records <= lines(partial) && lines(partial) <= watch.items.done,
      `report ${watch.output.records}, file ${lines(partial)}, store ${watch.items.done}`,
    );

    const resumed = await runCli(args, { cwd: dir });
    assert.equal(resumed.code, 0, resumed.stderr);
    const after = await json<RunWatch>("--run", runs[0]!.id);
    assert.equal(after.status, "completed");
    assert.equal(after.reason, undefined);
    assert.equal(after.items.done, items);
    assert.equal(lines(join(dir, "many-out.jsonl")), items, "the output holds every item the store has done");
  });

  test("stopped by its budget: stopped, the reason, and how to go on", async () => {
    writeItems(join(dir, "budget.jsonl"), 20, "budget");
    const args = ["run", "--input", "budget.jsonl", "--output", "budget-out.jsonl", "--concurrency", "1", "--max-tokens", "300", ...model];
    assert.equal((await runCli(args, { cwd: dir })).code, EXIT_CODES.budgetStop);
    const run = (await json<{ runs: RunRow[] }>()).runs.find((r) => r.inputPath === join(dir, "budget.jsonl"))!;
    assert.equal(run.status, "stopped");
    assert.match(run.reason ?? "", /^the token budget of 300 is spent/);
    const watch = await json<RunWatch>("--run", run.id);
    assert.equal(watch.resume, `cd ${dir} && spri ${args.join(" ")}`);
    assert.deepEqual(watch.output && [watch.output.file, watch.output.records], [join(dir, "budget-out.jsonl.partial"), watch.items.done]);
  });

  test("items failed: failed, with how many and where their reasons are", async () => {
    writeItems(join(dir, "some-fail.jsonl"), 10, "some fail");
    const args = ["run", "--input", "some-fail.jsonl", "--output", "some-fail-out.jsonl", "--max-tries", "1", ...model];
    assert.equal((await runCli(args, { cwd: dir })).code, 1);
    const run = (await json<{ runs: RunRow[] }>()).runs.find((r) => r.inputPath === join(dir, "some-fail.jsonl"))!;
    assert.equal(run.status, "failed");
    assert.equal(
      run.reason,
      `1 of 10 items failed; their reasons are in ${join(dir, "some-fail-out.jsonl.rejects.jsonl")}; running the command again retries them`,
    );
  });
});
