import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SqliteStore } from "../store/sqlite-store.ts";
import { until } from "../../../test/support/shared-run.ts";
import { INVOCATION_ARTIFACT, OUTPUT_ARTIFACT, recordRunEnd, runState, STARTING_GRACE_MS } from "./run-state.ts";

/** The pid of a process that has exited: nothing on this host runs under it (until it is reused). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  assert.equal(child.status, 0);
  return child.pid;
}

describe("run state: what a run's status means to whoever looks at it", () => {
  let dir: string;
  let store: SqliteStore;
  let n = 0;
  const newRun = () =>
    store.createRun({
      key: `k${n++}`,
      task: "spri/sft",
      settings: {},
      inputPath: "/data/in.jsonl",
      outputPath: "/data/out.jsonl",
      baseModel: "m",
    });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-run-state-"));
    store = new SqliteStore(join(dir, "spri.db"));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a running run whose process on this host is gone is interrupted, with the command that resumes it", async () => {
    const run = await newRun();
    const pid = deadPid();
    await store.registerWorker({ id: "w-dead", host: hostname(), pid, runId: run.id });
    await store.putArtifact(run.id, INVOCATION_ARTIFACT, {
      argv: ["run", "--input", "my items.jsonl", "--output", "out.jsonl", "--base-url", "http://127.0.0.1:8000/v1"],
      cwd: "/home/me/it's here",
    });
    const state = await runState(store, (await store.getRun(run.id))!);
    assert.equal(state.status, "interrupted");
    assert.match(state.reason ?? "", new RegExp(`${hostname()} pid ${pid}`));
    assert.equal(
      state.resume,
      `cd '/home/me/it'\\''s here' && spri run --input 'my items.jsonl' --output out.jsonl --base-url http://127.0.0.1:8000/v1`,
    );
  });

  test("a worker elsewhere that stopped beating (lost) leaves the run interrupted; a live one keeps it running", async () => {
    const run = await newRun();
    await store.registerWorker({ id: "w-far", host: "gpu-far", pid: 77, runId: run.id });
    await store.heartbeat("w-far", 20);
    await until(
      async () => (await store.listWorkers(run.id)).some((w) => w.id === "w-far" && w.status === "lost"),
      "the far worker to be lost",
    );
    assert.equal((await runState(store, (await store.getRun(run.id))!)).status, "interrupted");
    await store.registerWorker({ id: "w-near", host: "gpu-near", pid: 78, runId: run.id });
    await store.heartbeat("w-near", 600_000);
    const state = await runState(store, (await store.getRun(run.id))!);
    assert.deepEqual([state.status, state.reason], ["running", undefined]);
  });

  test("a run no process ever worked: running while it is being set up, interrupted once quiet", async () => {
    const run = await newRun();
    assert.equal((await runState(store, run)).status, "running");
    const later = Date.parse(run.updatedAt) + STARTING_GRACE_MS + 1;
    const state = await runState(store, run, { now: later });
    assert.equal(state.status, "interrupted");
    assert.match(state.reason ?? "", /no process has worked on it/);
    assert.equal(state.resume, undefined, "no command was recorded");
  });

  test("a failed or stopped run keeps the reason its process recorded; resuming it drops the reason", async () => {
    const run = await newRun();
    await recordRunEnd(store, run.id, "stopped", "the cost budget of $1.00 is spent");
    const stopped = await runState(store, (await store.getRun(run.id))!);
    assert.deepEqual([stopped.status, stopped.reason], ["stopped", "the cost budget of $1.00 is spent"]);
    await store.updateRun(run.id, { status: "running" });
    await store.registerWorker({ id: "w-resumed", host: "gpu-r", pid: 79, runId: run.id });
    await store.heartbeat("w-resumed", 600_000);
    assert.equal((await runState(store, (await store.getRun(run.id))!)).reason, undefined);
    await recordRunEnd(store, run.id, "completed");
    assert.deepEqual(await runState(store, (await store.getRun(run.id))!), { status: "completed" });
  });

  test("a failed run without a recorded reason says how many items failed", async () => {
    const run = await newRun();
    await store.setItemStatuses(run.id, [
      { itemId: "a", status: "done" },
      { itemId: "b", status: "failed", reason: "400" },
      { itemId: "c", status: "failed", reason: "400" },
    ]);
    await store.updateRun(run.id, { status: "failed" });
    assert.equal((await runState(store, (await store.getRun(run.id))!)).reason, "2 of 3 items failed");
  });

  test("the output file's last report comes along, for runs that did not complete", async () => {
    const run = await newRun();
    await store.registerWorker({ id: "w-out", host: hostname(), pid: deadPid(), runId: run.id });
    await store.putArtifact(run.id, OUTPUT_ARTIFACT, { file: "/data/out.jsonl.partial", records: 295, at: "2026-01-01T10:00:00.000Z" });
    const state = await runState(store, (await store.getRun(run.id))!);
    assert.deepEqual(state.output, { file: "/data/out.jsonl.partial", records: 295, at: "2026-01-01T10:00:00.000Z" });
  });
});
