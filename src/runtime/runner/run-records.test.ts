import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { writeRunRecords } from "./run-records.ts";

let dir: string;
let store: SqliteStore;
let runId: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "spri-records-"));
  store = new SqliteStore(join(dir, "spri.db"));
  const run = await store.createRun({ key: "k", task: "spri/sft", settings: { baseModel: "m" }, inputPath: "/in.jsonl", baseModel: "m" });
  runId = run.id;
  await store.enqueueItems(runId, [
    { itemId: "a", input: { id: "a" }, line: 1 },
    { itemId: "b", input: { id: "b" }, line: 2 },
  ]);
  const worker = { id: "w", host: "h", pid: 1 };
  await store.registerWorker({ ...worker, runId });
  const leases = await store.leaseItems(worker.id, { runId, max: 2, leaseMs: 60_000 });
  await store.completeItems(worker.id, [
    {
      runId,
      itemId: leases[0]!.itemId,
      token: leases[0]!.token,
      status: "done",
      record: { id: leases[0]!.itemId, response_final: "r" },
      calls: [],
    },
    { runId, itemId: leases[1]!.itemId, token: leases[1]!.token, status: "failed", reason: "timeout", calls: [] },
  ]);
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("writeRunRecords: the run's finished records as a JSONL file, with the run's settings", async () => {
  const { file, settings } = await writeRunRecords(store, runId);
  const lines = readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  assert.equal(lines.length, 1, "failed items are not records");
  assert.equal(lines[0].response_final, "r");
  assert.deepEqual(settings, { baseModel: "m" });
});

test("writeRunRecords: an unknown run is a usage error naming --run", async () => {
  await assert.rejects(writeRunRecords(store, "nope"), (error: unknown) => error instanceof InputError && error.field === "run");
});
