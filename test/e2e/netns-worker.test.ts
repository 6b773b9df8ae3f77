/**
 * A worker on another host: it runs in its own network namespace (a test host made here, joined to
 * this one by a veth link) and reaches PostgreSQL and the model server over that link. The link is
 * cut while the worker holds items mid-call; the workers on this host finish its items once its
 * leases expire, and the run's output is complete. Then the link comes back and the cut-off worker's
 * late work is refused (fencing) or abandoned (its heartbeat finds the leases lost): nothing lands
 * twice in the output or the store.
 *
 * Needs root and iproute2 (`ip`), as CI has; skipped elsewhere, and in CI a missing `ip` fails it.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openStore } from "../../src/runtime/store/open-store.ts";
import type { RunStore } from "../../src/runtime/store/run-store.ts";
import { REPO_ROOT } from "../support/cli.ts";
import { type FakeModelServer, startFakeModelServer } from "../../src/test.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

const BIN = join(REPO_ROOT, "bin", "spri.js");
const ITEMS = 40;

const canMakeHosts = process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;
const skip = canMakeHosts || process.env.CI ? false : "needs root and iproute2 (ip netns) to make a test host";

function ip(...args: string[]): void {
  execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
}

interface Child {
  process: ChildProcess;
  exited: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
}

function start(command: string, args: readonly string[], cwd: string): Child {
  const child = spawn(command, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return {
    process: child,
    exited: new Promise((resolve) => child.on("exit", (code) => resolve(code))),
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function readIds(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => String((JSON.parse(l) as { id: unknown }).id));
}

describe("a worker on another host (network namespace), cut off mid-run", { skip }, () => {
  const tag = randomInt(0x1000, 0xffff).toString(16);
  const subnet = randomInt(1, 255);
  const ns = `spri-${tag}`;
  const hostLink = `spv${tag}h`;
  const nsLink = `spv${tag}n`;
  const hostIp = `10.213.${subnet}.1`;
  const nsIp = `10.213.${subnet}.2`;
  let dir: string;
  let postgres: TestPostgres;
  let server: FakeModelServer;
  /** While set, the server holds every request from the test host until `release` is called. */
  let holding = false;
  let held = 0;
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-netns-"));
    ip("netns", "add", ns);
    ip("link", "add", hostLink, "type", "veth", "peer", "name", nsLink);
    ip("link", "set", nsLink, "netns", ns);
    ip("addr", "add", `${hostIp}/30`, "dev", hostLink);
    ip("link", "set", hostLink, "up");
    ip("netns", "exec", ns, "ip", "addr", "add", `${nsIp}/30`, "dev", nsLink);
    ip("netns", "exec", ns, "ip", "link", "set", nsLink, "up");
    ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
    postgres = await startPostgres({ extraHost: { address: hostIp, network: `10.213.${subnet}.0/30` } });
    const answer = scriptedBackend();
    server = await startFakeModelServer({
      respond: async (request) => {
        if (holding && request.remoteAddress?.endsWith(nsIp)) {
          held++;
          await released;
        }
        await new Promise((r) => setTimeout(r, 10));
        return answer(request);
      },
      host: hostIp,
    });
  });

  after(async () => {
    release();
    await server?.close();
    await postgres?.stop();
    spawnSync("ip", ["netns", "del", ns]);
    spawnSync("ip", ["link", "del", hostLink]);
  });

  test("the others finish its items; its late results are refused; nothing lands twice", async (t) => {
    const input = join(dir, "items.jsonl");
    writeFileSync(
      input,
      Array.from({ length: ITEMS }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `Question number ${i}?` })).join("\n") + "\n",
    );
    const output = join(dir, "out.jsonl");
    const url = await postgres.newDatabase();
    const model = ["--base-url", `${server.url}/v1`, "--base-model", "m", "--critic-model", "c"];
    const run = start(
      process.execPath,
      [BIN, "run", "--input", input, "--output", output, "--store", url, "--no-work", "--lease", "2", ...model],
      dir,
    );
    const store: RunStore = await openStore(url);
    let remote: Child | undefined;
    try {
      await until(async () => (await store.listRuns())[0]?.inputComplete === true, "the run to be enqueued");
      const runId = (await store.listRuns())[0]!.id;
      const workerArgs = ["worker", "--store", url, "--run", runId, "--drain", "--concurrency", "2", "--lease", "2", "--json"];
      remote = start("ip", ["netns", "exec", ns, process.execPath, BIN, ...workerArgs], dir);
      const remoteWorker = async () => (await store.listWorkers(runId)).find((w) => w.pid === remote!.process.pid);
      await until(async () => ((await remoteWorker())?.itemsDone ?? 0) >= 3, "the remote worker to do some items");

      // Hold its next answers, then cut the link while it waits for them.
      holding = true;
      await until(() => held >= 1, "a call of the remote worker in flight");
      ip("link", "set", hostLink, "down");
      const heldItems = (await remoteWorker())!.leased;
      assert.ok(heldItems >= 1, "the remote worker holds items when cut off");

      // A worker on this host finishes everything, the cut-off worker's items included.
      const local = start(process.execPath, [BIN, ...workerArgs], dir);
      assert.equal(await local.exited, 0, local.stderr());
      assert.equal(await run.exited, 0, run.stderr());
      const ids = readIds(output);
      assert.equal(ids.length, ITEMS);
      assert.equal(new Set(ids).size, ITEMS, "every item exactly once");
      assert.equal((await remoteWorker())?.status, "lost", "the store marks the cut-off worker lost");

      // The link comes back: the late answers arrive, and the worker's results for items it lost are refused.
      ip("link", "set", hostLink, "up");
      holding = false;
      release();
      assert.equal(await remote.exited, 0, remote.stderr());
      const summary = JSON.parse(remote.stdout()) as { done: number; refused: number; lost: number };
      assert.ok(summary.refused + summary.lost >= 1, `the late work was given up: ${remote.stdout()}`);
      t.diagnostic(
        `cut-off worker: ${summary.done} done, ${summary.refused} refused late, ${summary.lost} abandoned (lease lost); held ${heldItems} items at the cut`,
      );
      const counts = await store.itemCounts(runId);
      assert.deepEqual(counts, { pending: 0, done: ITEMS, failed: 0, total: ITEMS });
      const workers = await store.listWorkers(runId);
      assert.equal(
        workers.reduce((n, w) => n + w.itemsDone, 0),
        ITEMS,
        "each item counted for one worker only",
      );
      const after = readIds(output);
      assert.deepEqual(after, ids, "the output did not change after the run ended");
    } finally {
      remote?.process.kill("SIGKILL");
      run.process.kill("SIGKILL");
      await store.close();
    }
  });
});
