import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { CacheKeyFilter, cacheKeyHash, KeyHashBits } from "./cache-key-filter.ts";
import { loadSqlite } from "./sqlite-module.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { cachedAnswer } from "./contract-fixtures.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-key-filter-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `filter-${files++}.db`);

const result = cachedAnswer;
const meta = { endpoint: "e", modelId: "m" };
const hexKey = () => randomBytes(32).toString("hex");

test("a request key's hash is its first 12 hex digits; any other key gets a stable 48-bit hash", () => {
  assert.equal(cacheKeyHash(`00000000002a${"f".repeat(52)}`), 42);
  assert.equal(cacheKeyHash("ffffffffffff"), 2 ** 48 - 1);
  const other = cacheKeyHash("k1");
  assert.equal(cacheKeyHash("k1"), other);
  assert.notEqual(cacheKeyHash("k2"), other);
  assert.ok(Number.isInteger(other) && other >= 0 && other < 2 ** 48);
});

test("never says no for a key in the table: its own rows, rows other connections add later, past a resize", async () => {
  const path = freshPath();
  const writer = new SqliteStore(path);
  const early = Array.from({ length: 300 }, hexKey);
  await Promise.all(early.map((key) => writer.cache.put(key, result(key), meta)));

  const db = new (loadSqlite().DatabaseSync)(path);
  // 2,048 bits hold 128 keys: the 1,300 keys below make it grow three times.
  const filter = new CacheKeyFilter(db, 2048);
  filter.sync();
  for (const key of early) assert.ok(filter.mightHold(cacheKeyHash(key)), "a row there before the first read");
  const absent = Array.from({ length: 2000 }, hexKey);
  const falsePositives = absent.filter((key) => filter.mightHold(cacheKeyHash(key))).length;
  assert.ok(falsePositives < absent.length / 4, `${falsePositives} of ${absent.length} absent keys said maybe`);

  const late = Array.from({ length: 1000 }, (_, i) => (i % 2 ? hexKey() : `plain key ${i}`));
  await Promise.all(late.map((key) => writer.cache.put(key, result(key), meta)));
  filter.sync();
  for (const key of [...early, ...late]) assert.ok(filter.mightHold(cacheKeyHash(key)), `${key}: committed by another connection`);
  db.close();
  await writer.close();
});

test("a store's cache finds what another process's store put after its own first miss (staleness 0)", async () => {
  const path = freshPath();
  const a = new SqliteStore(path);
  const b = new SqliteStore(path, { cacheForeignPutsWithinMs: 0 });
  const key = hexKey();
  assert.equal(await b.cache.get(key), undefined, "a miss loads b's filter");
  await a.cache.put(key, result("from a"), meta);
  assert.equal((await b.cache.get(key))?.text, "from a");
  await b.cache.put("b's own", result("from b"), meta);
  assert.equal((await b.cache.get("b's own"))?.text, "from b");
  assert.equal((await a.cache.get("b's own"))?.text, "from b");
  await a.close();
  await b.close();
});

test("within its staleness window a cache may miss another process's put, and sees it after; its own puts at once", async () => {
  const path = freshPath();
  const a = new SqliteStore(path);
  const b = new SqliteStore(path, { cacheForeignPutsWithinMs: Number.POSITIVE_INFINITY });
  const key = hexKey();
  assert.equal(await b.cache.get(key), undefined);
  await a.cache.put(key, result("from a"), meta);
  assert.equal(await b.cache.get(key), undefined, "not read in: its window never passes");
  await b.cache.put("b's own", result("from b"), meta);
  assert.equal((await b.cache.get("b's own"))?.text, "from b");
  // b's commit synced its filter under the write lock: a's row is known now.
  assert.equal((await b.cache.get(key))?.text, "from a");
  await a.close();
  await b.close();
});

test("a read that fails leaves the filter ruling nothing out, and the next sync reads what it missed", async () => {
  const path = freshPath();
  const writer = new SqliteStore(path);
  await writer.cache.put(hexKey(), result("first"), meta);
  const db = new (loadSqlite().DatabaseSync)(path);
  const filter = new CacheKeyFilter(db);
  filter.sync();
  const late = Array.from({ length: 50 }, hexKey);
  await Promise.all(late.map((key) => writer.cache.put(key, result(key), meta)));
  // The table is gone for a moment (a read failing in SQLite, as an I/O error would).
  db.exec("ALTER TABLE call_cache RENAME TO call_cache_away");
  assert.throws(() => filter.sync(), /no such table/);
  filter.syncEvery(0);
  db.exec("ALTER TABLE call_cache_away RENAME TO call_cache");
  for (const key of late) assert.ok(filter.mightHold(cacheKeyHash(key)), "after the failure, then reloaded");
  filter.sync();
  for (const key of late) assert.ok(filter.mightHold(cacheKeyHash(key)), "synced again");
  db.close();
  await writer.close();
});

test("key hash bits: every added hash is held; absent ones are held rarely, even just before the set grows", () => {
  // Request keys are sha256 hex: hashes of a counter are as well spread, and the same every run.
  let n = 0;
  const hash = () => cacheKeyHash(createHash("sha256").update(String(n++)).digest("hex"));
  const bits = new KeyHashBits(0, 1 << 16);
  const added: number[] = [];
  while (!bits.full()) {
    const h = hash();
    bits.add(h);
    added.push(h);
  }
  for (const h of added) assert.ok(bits.has(h));
  const absent = Array.from({ length: 20_000 }, hash).filter((h) => bits.has(h)).length;
  // One probe per key gives ~6 % at this load (one key per 16 bits); two give ~1.4 %.
  assert.ok(absent < 20_000 * 0.025, `${absent} of 20000 absent hashes said maybe`);
  const sizedFor = (1 << 16) / 16;
  assert.ok(added.length > sizedFor && added.length < sizedFor * 1.02, `grows past one key per 16 bits (${added.length} keys)`);
});
