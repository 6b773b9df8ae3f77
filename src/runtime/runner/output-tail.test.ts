import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { call, newRun } from "../store/contract-fixtures.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { OutputTail } from "./output-tail.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-tail-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("records the store has finished but the file lost at its end (a power cut before a sync) are written again on resume", async () => {
  const store = new SqliteStore(join(dir, "store.db"));
  const run = await store.createRun(newRun());
  await store.enqueueItems(
    run.id,
    ["a", "b", "c"].map((id, i) => ({ itemId: id, input: { id }, line: i + 1 })),
  );
  await store.registerWorker({ id: "w", host: "h", pid: 1, runId: run.id });
  const leases = await store.leaseItems("w", { runId: run.id, max: 3, leaseMs: 60_000 });
  await store.completeItems(
    "w",
    leases.map((l) => ({
      ...l,
      status: "done" as const,
      record: { id: l.itemId, answer: `answer ${l.itemId}` },
      calls: [call(run.id, l.itemId)],
    })),
  );
  const options = { store, runId: run.id, output: join(dir, "out.jsonl"), rejects: join(dir, "rejects.jsonl"), identity: "id" };
  const partial = `${options.output}.partial`;
  const ids = () =>
    readFileSync(partial, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { id: string }).id);

  const first = await OutputTail.open(options);
  await first.catchUp();
  await first.close();
  assert.deepEqual(ids(), ["a", "b", "c"]);

  // The disk kept the first record only.
  truncateSync(partial, readFileSync(partial, "utf8").indexOf("\n") + 1);
  const resumed = await OutputTail.open(options);
  assert.equal(resumed.records, 1);
  await resumed.catchUp();
  await resumed.commit();
  assert.deepEqual(
    readFileSync(options.output, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line)),
    [
      { id: "a", answer: "answer a" },
      { id: "b", answer: "answer b" },
      { id: "c", answer: "answer c" },
    ],
  );
  await store.close();
});
