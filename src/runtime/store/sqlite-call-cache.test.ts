import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { SqliteCallCache } from "./sqlite-call-cache.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { cachedAnswer } from "./contract-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-call-cache-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `cache-${files++}.db`);

const result = cachedAnswer;
const meta = { endpoint: "openai-compatible:http://127.0.0.1:1/v1#m", modelId: "m", templateVersion: "t1" };

/** A second connection to the same file: it sees committed rows only. */
async function committed(path: string, key: string): Promise<string | undefined> {
  const reader = new SqliteStore(path);
  try {
    return (await reader.cache.get(key))?.text;
  } finally {
    await reader.close();
  }
}

describe("SqliteCallCache", () => {
  test("a get of a queued put answers from memory, without committing it", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const put = store.cache.put("k", result("queued"), meta);
    assert.deepEqual(await store.cache.get("k"), result("queued"));
    assert.equal(store.cache.queuedCount, 1, "the read committed nothing");
    assert.equal(await committed(path, "k"), undefined);
    await put;
    assert.equal(store.cache.queuedCount, 0);
    assert.equal(await committed(path, "k"), "queued");
    await store.close();
  });

  test("puts within the commit delay share one commit; put resolves once committed", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const db = new (await import("node:sqlite")).DatabaseSync(path);
    // A delay no test machine reaches, so the batch is surely still open when the second put comes.
    const cache = new SqliteCallCache(db, { commitDelayMs: 60_000 });
    const first = cache.put("a", result("1"), meta);
    await new Promise((resolve) => setImmediate(resolve));
    const second = cache.put("b", result("2"), meta);
    assert.equal(first, second, "one batch across turns");
    let settled = false;
    void first.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, "not committed at the next turn");
    assert.equal(cache.queuedCount, 2);
    assert.equal(await committed(path, "a"), undefined, "nothing committed yet");
    cache.flushNow();
    await first;
    assert.equal(cache.queuedCount, 0);
    assert.deepEqual([await committed(path, "a"), await committed(path, "b")], ["1", "2"]);
    db.close();
    await store.close();
  });

  test("the commit delay's timer commits the batch by itself", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const db = new (await import("node:sqlite")).DatabaseSync(path);
    const cache = new SqliteCallCache(db, { commitDelayMs: 1 });
    await cache.put("a", result("1"), meta);
    assert.equal(cache.queuedCount, 0);
    assert.equal(await committed(path, "a"), "1");
    db.close();
    await store.close();
  });

  test("a batch that reaches maxBatch commits at once; a later put of a key wins", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const db = new (await import("node:sqlite")).DatabaseSync(path);
    const cache = new SqliteCallCache(db, { commitDelayMs: 60_000, maxBatch: 3 });
    void cache.put("a", result("old"), meta);
    void cache.put("a", result("new"), meta);
    void cache.put("b", result("b"), meta);
    assert.equal(cache.queuedCount, 2, "a re-put replaces the queued one");
    assert.equal((await cache.get("a"))?.text, "new");
    const third = cache.put("c", result("c"), meta);
    assert.equal(cache.queuedCount, 0, "committed at the third distinct key");
    await third;
    assert.deepEqual([await committed(path, "a"), await committed(path, "c")], ["new", "c"]);
    db.close();
    await store.close();
  });

  test("flushNow and close commit every queued put", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const put = store.cache.put("x", result("x"), meta);
    store.cache.flushNow();
    await put;
    assert.equal(await committed(path, "x"), "x");
    void store.cache.put("y", result("y"), meta);
    await store.close();
    assert.equal(await committed(path, "y"), "y");
  });

  test("a failed commit rejects its puts and drops them; the next batch commits", async () => {
    const store = new SqliteStore(freshPath());
    const bad = store.cache.put("x", { ...result("t"), text: undefined as unknown as string }, meta);
    assert.equal(store.cache.queuedCount, 1);
    await assert.rejects(bad, /cannot be bound/);
    assert.equal(await store.cache.get("x"), undefined);
    await store.cache.put("y", result("fine"), meta);
    assert.equal((await store.cache.get("y"))?.text, "fine");
    await store.close();
    await assert.rejects(store.cache.get("y"), /closed/);
  });
});
