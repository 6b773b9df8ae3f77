/**
 * What the viewer's API says about runs whose process is gone, failed or stopped: the shown status,
 * its reason, the command that resumes the run, and how far its output file got.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { INVOCATION_ARTIFACT, OUTPUT_ARTIFACT, recordRunEnd } from "../../runtime/runner/run-state.ts";
import { SqliteStore } from "../../runtime/store/sqlite-store.ts";
import type { RunDetailResponse, RunListResponse } from "./api-types.ts";
import { createApp } from "./app.ts";

const PORT = 4323;
const HOST = `127.0.0.1:${PORT}`;

describe("viewer API: interrupted, failed and stopped runs", () => {
  let dir: string;
  let store: SqliteStore;
  let killedId: string;
  let stoppedId: string;
  let app: ReturnType<typeof createApp>["app"];
  const get = (path: string) => app.request(path, { headers: { host: HOST } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-run-state-api-"));
    store = new SqliteStore(join(dir, "spri.db"));
    // A `spri run` killed with -9: 300 items done in the store, its output file written up to 295.
    const killed = await store.createRun({
      key: "killed",
      task: "spri/sft",
      settings: {},
      inputPath: "/data/in.jsonl",
      outputPath: "/data/out.jsonl",
      baseModel: "m",
    });
    killedId = killed.id;
    await store.setItemStatuses(killedId, [
      ...Array.from({ length: 300 }, (_, i) => ({ itemId: `d${i}`, status: "done" as const, record: { id: `d${i}` } })),
      ...Array.from({ length: 100 }, (_, i) => ({ itemId: `p${i}`, status: "pending" as const })),
    ]);
    await store.putArtifact(killedId, INVOCATION_ARTIFACT, { argv: ["run", "--input", "in.jsonl", "--output", "out.jsonl"], cwd: "/data" });
    await store.putArtifact(killedId, OUTPUT_ARTIFACT, { file: "/data/out.jsonl.partial", records: 295, at: "2026-01-01T10:00:00.000Z" });
    const exited = spawnSync(process.execPath, ["-e", ""]);
    await store.registerWorker({ id: "killed-worker", host: hostname(), pid: exited.pid, runId: killedId });

    const stopped = await store.createRun({
      key: "stopped",
      task: "spri/sft",
      settings: {},
      inputPath: "/data/b.jsonl",
      outputPath: "/data/b-out.jsonl",
      baseModel: "m",
    });
    stoppedId = stopped.id;
    await recordRunEnd(store, stoppedId, "stopped", "the cost budget of $1.00 is spent");
    app = createApp({ store, access: { port: PORT }, pollMs: 20 }).app;
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the run list shows a killed run as interrupted and a stopped one with its reason, with input and output files", async () => {
    const body = (await (await get("/api/runs")).json()) as RunListResponse;
    const killed = body.runs.find((r) => r.id === killedId)!;
    assert.equal(killed.status, "interrupted");
    assert.match(killed.reason ?? "", /no process works it any more/);
    assert.deepEqual([killed.inputPath, killed.outputPath], ["/data/in.jsonl", "/data/out.jsonl"]);
    const stopped = body.runs.find((r) => r.id === stoppedId)!;
    assert.deepEqual([stopped.status, stopped.reason], ["stopped", "the cost budget of $1.00 is spent"]);
  });

  test("one run: how to resume it, and how many of its done items the output file holds", async () => {
    const { run } = (await (await get(`/api/runs/${killedId}`)).json()) as RunDetailResponse;
    assert.equal(run.status, "interrupted");
    assert.equal(run.resume, "cd /data && spri run --input in.jsonl --output out.jsonl");
    assert.deepEqual(run.output, { file: "/data/out.jsonl.partial", records: 295, at: "2026-01-01T10:00:00.000Z" });
    assert.equal(run.counts.done, 300);
  });

  test("the events stream of an interrupted run ends at once, saying so", async () => {
    const text = await (await get(`/api/runs/${killedId}/events`)).text();
    assert.match(text, /^event: progress\ndata: \{.*"status":"interrupted".*\}\n\n/);
    assert.match(text, /event: end\ndata: interrupted\n\n$/);
  });

  test("the workers endpoint reports the dead local worker as lost, and no active worker", async () => {
    const watch = (await (await get(`/api/runs/${killedId}/workers`)).json()) as {
      status: string;
      activeWorkers: number;
      workers: { status: string }[];
    };
    assert.equal(watch.status, "interrupted");
    assert.equal(watch.activeWorkers, 0);
    assert.deepEqual(
      watch.workers.map((w) => w.status),
      ["lost"],
    );
  });
});
