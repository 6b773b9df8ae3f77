/**
 * `spri status` (the built CLI) over a real SQLite store holding a shared run whose workers were
 * registered through the store's work-queue API: the runs table, one run with its workers (the
 * silent one `lost`) as text and as JSON, and the usage errors' exit code 2.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { RunRow, RunWatch } from "../../src/runtime/runner/run-watch.ts";
import { SqliteStore } from "../../src/runtime/store/sqlite-store.ts";
import { runCli } from "../support/cli.ts";
import { ALIVE, LOST, makeSharedRun, SHARED_ITEMS } from "../support/shared-run.ts";

describe("spri status", () => {
  let dir: string;
  let db: string;
  let runId: string;
  let finishedId: string;
  const status = (...args: string[]) => runCli(["status", "--store", db, ...args], { cwd: dir });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-status-"));
    db = join(dir, "spri.db");
    const store = new SqliteStore(db);
    const finished = await store.createRun({
      key: "old",
      task: "judge/spri",
      settings: {},
      inputPath: "/x",
      baseModel: "m",
      createdAt: "2026-01-01T00:00:00.000Z",
    });
    await store.setItemStatuses(finished.id, [
      { itemId: "a", status: "done" },
      { itemId: "b", status: "failed", reason: "x" },
    ]);
    await store.updateRun(finished.id, { status: "completed" });
    finishedId = finished.id;
    runId = await makeSharedRun(store);
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("without --run: a table of runs, newest first, within 80 columns", async () => {
    const result = await status();
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.ok(
      lines.every((line) => line.length <= 80),
      result.stdout,
    );
    assert.match(lines[0]!, /^RUN\s+TASK\s+STATUS\s+DONE\s+FAILED\s+LEASED\s+PENDING\s+TOTAL\s+WORKERS$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, new RegExp(`^${runId.slice(0, 8)}  spri/sft +running +4 +1 +2 +3 +${SHARED_ITEMS} +1$`));
    assert.match(lines[2]!, new RegExp(`^${finishedId.slice(0, 8)}  judge/spri +completed +1 +1 +0 +0 +2 +0$`));
  });

  test("without --run, --json: { runs } with each run's counts and active workers", async () => {
    const result = await status("--json");
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout) as { runs: RunRow[] };
    assert.deepEqual(
      body.runs.map((r) => [r.id, r.status, r.items, r.activeWorkers]),
      [
        [runId, "running", { total: SHARED_ITEMS, done: 4, failed: 1, leased: 2, pending: 3 }, 1],
        [finishedId, "completed", { total: 2, done: 1, failed: 1, leased: 0, pending: 0 }, 0],
      ],
    );
  });

  test("--run (a unique prefix will do): counts, rate, ETA and a row per worker, lost marked", async () => {
    const result = await status("--run", runId.slice(0, 8));
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout;
    assert.ok(
      text.split("\n").every((line) => line.length <= 80),
      text,
    );
    assert.match(text, new RegExp(`^run {6}${runId}$`, "m"));
    assert.match(text, /^items {4}4 done, 1 failed, 2 leased, 3 pending of 10 \(50\.0%\)$/m);
    assert.match(text, /^rate {5}[\d.]+ items\/min over the last \S+, ETA \S+$/m);
    assert.match(text, /^workers {2}1 active, 1 lost of 2$/m);
    assert.match(text, /^HOST\s+PID\s+DONE\s+FAILED\s+LEASED\s+HEARTBEAT\s+STATUS$/m);
    assert.match(text, new RegExp(`^${ALIVE.host} +${ALIVE.pid} +3 +0 +2 +\\S+ ago +active$`, "m"));
    assert.match(text, new RegExp(`^${LOST.host} +${LOST.pid} +1 +1 +0 +\\S+ ago +lost$`, "m"));
  });

  test("--run --json: one object with the same content", async () => {
    const result = await status("--run", runId, "--json");
    assert.equal(result.code, 0, result.stderr);
    const watch = JSON.parse(result.stdout) as RunWatch;
    assert.equal(watch.runId, runId);
    assert.equal(watch.status, "running");
    assert.deepEqual(watch.items, { total: SHARED_ITEMS, done: 4, failed: 1, leased: 2, pending: 3 });
    assert.ok(watch.ratePerMinute > 0);
    assert.equal(typeof watch.etaSeconds, "number");
    assert.equal(watch.activeWorkers, 1);
    const workers = Object.fromEntries(watch.workers.map((w) => [w.id, [w.host, w.pid, w.itemsDone, w.itemsFailed, w.leased, w.status]]));
    assert.deepEqual(workers, {
      [ALIVE.id]: [ALIVE.host, ALIVE.pid, 3, 0, 2, "active"],
      [LOST.id]: [LOST.host, LOST.pid, 1, 1, 0, "lost"],
    });
    assert.ok(watch.workers.every((w) => typeof w.heartbeatAgeSeconds === "number" && w.heartbeatAt.endsWith("Z")));
  });

  test("usage errors exit with 2: an unknown run, a store that is not there, a bad flag", async () => {
    const unknown = await status("--run", "no-such-run");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no run with id "no-such-run" in this store/);
    const missing = await runCli(["status", "--store", join(dir, "nothing.db")], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no run store at .*nothing\.db/);
    assert.equal((await status("--bogus")).code, 2);
    assert.equal((await status("--limit", "0")).code, 2);
  });
});
