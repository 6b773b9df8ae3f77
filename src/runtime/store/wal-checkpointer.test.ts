import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { SqliteStore, type SqliteStoreOptions } from "./sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-checkpoint-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `store-${files++}.db`);

const meta = { endpoint: "openai-compatible:http://127.0.0.1:1/v1#m", modelId: "m" };
const answer = (i: number) => ({
  text: `answer ${i} `.repeat(200),
  finishReason: "stop" as const,
  usage: { inputTokens: 3, outputTokens: 4 },
  latencyMs: 1,
  model: "m",
});

/** `n` committed write transactions (one cache put each), keys `from`.. */
async function writes(store: SqliteStore, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const put = store.cache.put(`k${i}`, answer(i), meta);
    store.cache.flushNow();
    await put;
  }
}

function open(options?: SqliteStoreOptions): { path: string; store: SqliteStore } {
  const path = freshPath();
  return { path, store: new SqliteStore(path, options) };
}

describe("WAL checkpoints on their own thread", () => {
  test("a store that writes little keeps SQLite's own checkpoints", async () => {
    const { store } = open();
    await writes(store, 10);
    assert.equal(store.backgroundCheckpointer, undefined);
    await store.close();
  });

  test("a busy store starts the thread, which copies the whole WAL into the database", async () => {
    // No periodic checkpoint: one that held its read lock as the next commit began would keep the WAL from restarting.
    const { path, store } = open({ checkpointIntervalMs: 3_600_000 });
    await writes(store, 64);
    const checkpointer = store.backgroundCheckpointer;
    assert.ok(checkpointer, "64 write transactions start the checkpoint thread");
    await writes(store, 200, 64);
    const result = await checkpointer.checkpointNow();
    assert.equal(result.busy, 0);
    assert.ok(result.log > 0, "the store's commits went to the WAL");
    assert.equal(result.checkpointed, result.log, "every WAL frame was copied into the database");
    // The next commit starts the WAL over instead of growing it.
    const size = statSync(`${path}-wal`).size;
    await writes(store, 200, 264);
    assert.ok(statSync(`${path}-wal`).size <= size, "the WAL was reused from its start");
    assert.equal((await store.cache.get("k0"))?.text, answer(0).text);
    await store.close();
  });

  test("closing the store ends the thread and its connection (the WAL file goes away)", async () => {
    const { path, store } = open();
    await writes(store, 70);
    assert.ok(store.backgroundCheckpointer);
    await store.close();
    assert.equal(existsSync(`${path}-wal`), false, "the store's connection was the last one");
    const reopened = new SqliteStore(path);
    assert.equal((await reopened.cache.get("k69"))?.text, answer(69).text);
    await reopened.close();
  });

  test("backgroundCheckpoints: false never starts the thread", async () => {
    const { store } = open({ backgroundCheckpoints: false });
    await writes(store, 100);
    assert.equal(store.backgroundCheckpointer, undefined);
    await store.close();
  });
});
