import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { SQLInputValue } from "node:sqlite";
import { pathToFileURL } from "node:url";
import type { CallRecord } from "../../io/records.ts";
import { cachedAnswer, call, newRun } from "./contract-fixtures.ts";
import { type RunStore, type StoredCall, StoreError, runKey } from "./run-store.ts";
import { loadSqlite } from "./sqlite-module.ts";
import { APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, SqliteStore } from "./sqlite-store.ts";
import { runStoreContract } from "./store-contract.ts";
import { CALL_COLUMN_NAMES, callValues } from "./store-rows.ts";
import { workQueueContract } from "./work-queue-contract.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `run-${files++}.db`);

// The backend-independent tests (runs, items, calls, artifacts, cache) are the shared contract;
// this file keeps what only SQLite has: files, pragmas, schema versions, raw rows, crash recovery.
runStoreContract("sqlite", async (like?: RunStore) => new SqliteStore(like ? (like as SqliteStore).path : freshPath()));
workQueueContract("sqlite", async (like?: RunStore) => new SqliteStore(like ? (like as SqliteStore).path : freshPath()));

describe("SqliteStore rows", () => {
  test("runKey ignores settings key order and resolves the input path", () => {
    const one = runKey({ task: "spri", settings: { a: 1, b: { c: 2, d: 3 } }, inputPath: "in.jsonl" });
    const two = runKey({ task: "spri", settings: { b: { d: 3, c: 2 }, a: 1 }, inputPath: "./in.jsonl" });
    assert.equal(one, two);
    assert.notEqual(one, runKey({ task: "spri", settings: { a: 2, b: { c: 2, d: 3 } }, inputPath: "in.jsonl" }));
    assert.notEqual(one, runKey({ task: "rubric", settings: { a: 1, b: { c: 2, d: 3 } }, inputPath: "in.jsonl" }));
    assert.notEqual(one, runKey({ task: "spri", settings: { a: 1, b: { c: 2, d: 3 } }, inputPath: "other.jsonl" }));
  });

  test("credential-named settings never reach the file", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const run = await store.createRun(newRun({ settings: { apiKey: "sk-live-SECRET1", endpoints: [{ api_key: "SECRET2" }] } }));
    await store.updateRun(run.id, { settings: { password: "SECRET4", maxTokens: 5 } });
    await store.close();
    const db = new (loadSqlite().DatabaseSync)(path);
    const dump = JSON.stringify(db.prepare("SELECT * FROM runs").all());
    db.close();
    assert.doesNotMatch(dump, /SECRET/);
  });

  test("the schema has no place for keys: extra fields on a call are dropped", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const run = await store.createRun(newRun());
    const leaky = {
      ...call(run.id, "q1"),
      apiKey: "sk-live-LEAK1",
      headers: { Authorization: "Bearer LEAK2" },
      request: {
        messages: [{ role: "user" as const, content: "hi", apiKey: "LEAK3" }],
        sampling: { temperature: 0, apiKey: "LEAK4" },
        apiKey: "LEAK5",
      },
    } as unknown as StoredCall;
    await store.recordCalls([leaky]);
    const [stored] = await store.listCalls(run.id, "q1");
    assert.deepEqual(stored?.request, { messages: [{ role: "user", content: "hi" }], sampling: { temperature: 0 } });
    assert.equal("apiKey" in stored!, false);
    await store.close();

    const db = new (loadSqlite().DatabaseSync)(path);
    const columns = db
      .prepare("SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'")
      .all()
      .map((r) => String(r.c));
    const dump = JSON.stringify(db.prepare("SELECT * FROM call_groups").all());
    db.close();
    assert.equal(
      columns.some((c) => /key|secret|auth|token$|password/i.test(c) && !["key", "key_hash", "input_tokens", "output_tokens"].includes(c)),
      false,
      columns.join(","),
    );
    assert.doesNotMatch(dump, /LEAK/);
  });
});

describe("SqliteStore files", () => {
  test("a new file gets the current schema version and spri's application id", async () => {
    const path = freshPath();
    await new SqliteStore(path).close();
    const db = new (loadSqlite().DatabaseSync)(path);
    assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
    assert.equal(db.prepare("PRAGMA application_id").get()?.application_id, APPLICATION_ID);
    assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
    db.close();
  });

  test("a version-4 file is migrated: its records' summaries are filled in and runStats reads them", async () => {
    const path = freshPath();
    const db = new (loadSqlite().DatabaseSync)(path);
    migrateTo(db, 4);
    db.exec(`PRAGMA user_version = 4; PRAGMA application_id = ${APPLICATION_ID}`);
    db.exec(`INSERT INTO runs (id, key, task, status, created_at, updated_at, settings, input_path, base_model)
             VALUES ('r', 'k', 'spri', 'running', 't', 't', '{}', 'in.jsonl', 'm')`);
    const records = [
      { iteration_principle: 2, iteration_response: 1, principles_critique_scores: [3, 5], response_critique_scores: [4] },
      { iteration_principle: 2, iteration_response: 1, principles_critique_scores: [3, 5], response_critique_scores: [4] },
      { iteration_principle: 1, principles_critique_scores: [null] },
    ];
    records.forEach((record, i) => {
      db.prepare("INSERT INTO items (run_id, item_id, status, attempts, updated_at) VALUES ('r', ?, 'done', 1, 't')").run(`q${i}`);
      db.prepare("INSERT INTO item_records (run_id, item_id, record) VALUES ('r', ?, ?)").run(`q${i}`, JSON.stringify(record));
    });
    db.close();

    const store = new SqliteStore(path);
    const stats = await store.runStats("r");
    await store.close();
    assert.deepEqual(stats.iterations, [
      { stage: "principles", iterations: 1, items: 1 },
      { stage: "principles", iterations: 2, items: 2 },
      { stage: "response", iterations: 1, items: 2 },
    ]);
    assert.deepEqual(stats.critiqueScores, [
      { stage: "principles", iteration: 1, score: 3, count: 2 },
      { stage: "principles", iteration: 1, score: null, count: 1 },
      { stage: "principles", iteration: 2, score: 5, count: 2 },
      { stage: "response", iteration: 1, score: 4, count: 2 },
    ]);
  });

  test("a version-5 file is migrated: its cache answers by key, new puts join it, and keys stay unique", async () => {
    const path = freshPath();
    const db = new (loadSqlite().DatabaseSync)(path);
    migrateTo(db, 5);
    db.exec(`PRAGMA user_version = 5; PRAGMA application_id = ${APPLICATION_ID}`);
    const put = db.prepare(
      `INSERT INTO call_cache (key, endpoint, model_id, template_version, text, finish_reason, model, input_tokens, output_tokens, latency_ms, created_at)
       VALUES (?, 'e', 'm', NULL, ?, 'stop', 'm', 1, 2, 3, 't')`,
    );
    const hexKey = "0123456789abcdef".repeat(4);
    put.run(hexKey, "from a hex key");
    put.run("not hex", "from another key");
    db.close();

    const store = new SqliteStore(path);
    assert.equal((await store.cache.get(hexKey))?.text, "from a hex key");
    assert.equal((await store.cache.get("not hex"))?.text, "from another key");
    assert.equal(await store.cache.get("absent"), undefined);
    await store.cache.put(
      "not hex",
      { text: "replaced", finishReason: "stop", usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1, model: "m" },
      { endpoint: "e", modelId: "m" },
    );
    await store.close();
    const check = new (loadSqlite().DatabaseSync)(path);
    assert.deepEqual(
      check
        .prepare("SELECT key, text FROM call_cache ORDER BY id")
        .all()
        .map((row) => [row.key, row.text]),
      [
        [hexKey, "from a hex key"],
        ["not hex", "replaced"],
      ],
    );
    check.close();
  });

  test("a version-5 file is migrated: runStats sums the stored calls per step and minute as a new store does", async () => {
    const calls = (runId: string) => [
      call(runId, "q1", { costUsd: 0.25 }),
      call(runId, "q1", { step: "principle.critique", startedAt: "2025-01-01T00:00:59.000Z", latencyMs: 4 }),
      call(runId, "q2", { cacheHit: true, costUsd: 1, startedAt: "2025-01-01T00:01:00.000Z" }),
      call(runId, "q2", { error: "timeout", startedAt: "2025-01-01T00:01:30.000Z", usage: { inputTokens: 7, outputTokens: 0 } }),
    ];
    const fresh = new SqliteStore(freshPath());
    const run = await fresh.createRun(newRun());
    await fresh.recordCalls(calls(run.id));
    const expected = await fresh.runStats(run.id);
    await fresh.close();
    assert.equal(expected.steps.find((s) => s.step === "principle.generate")?.calls, 3, "the fixture spans steps and minutes");

    const path = freshPath();
    const db = new (loadSqlite().DatabaseSync)(path);
    migrateTo(db, 5);
    db.exec(`PRAGMA user_version = 5; PRAGMA application_id = ${APPLICATION_ID}`);
    db.close();
    const old = new SqliteStore(freshPath());
    const oldRun = await old.createRun(newRun());
    await old.close();
    const copy = new (loadSqlite().DatabaseSync)(path);
    copy.exec(`ATTACH '${old.path}' AS old; INSERT INTO runs SELECT * FROM old.runs;`);
    copy.close();
    // The calls as a version-5 spri wrote them: rows only, no sums beside them.
    const v5 = new (loadSqlite().DatabaseSync)(path);
    const columns =
      "run_id, item_id, step, iteration, attempt, role, model, endpoint, request, response, input_tokens, output_tokens, latency_ms, cache_hit, error, cost_usd, started_at";
    const insert = v5.prepare(
      `INSERT INTO calls (${columns}) VALUES (${columns
        .split(", ")
        .map(() => "?")
        .join(", ")})`,
    );
    for (const c of calls(oldRun.id)) {
      insert.run(
        c.runId,
        c.itemId,
        c.step,
        c.iteration,
        c.attempt,
        c.role,
        c.model,
        c.endpoint,
        "{}",
        c.response ?? null,
        c.usage.inputTokens,
        c.usage.outputTokens,
        c.latencyMs,
        c.cacheHit ? 1 : 0,
        c.error ?? null,
        c.costUsd ?? null,
        c.startedAt,
      );
    }
    v5.close();
    const migrated = new SqliteStore(path);
    const stats = await migrated.runStats(oldRun.id);
    await migrated.close();
    assert.deepEqual(stats, expected);
    assert.ok(expected.timeline.length === 2 && expected.steps.length === 2, "two minutes, two steps");
  });

  test("a version-6 file is migrated: its calls, one row each, read back as one group per item in call order", async () => {
    const calls = (runId: string) => [
      call(runId, "q1", { parsed: { score: 4, marker: 'a "quoted" [RESULT]' }, costUsd: 0.25 }),
      call(runId, "q2", { cacheHit: true, finishReason: undefined }),
      call(runId, "q1", { step: "principle.critique", error: "timeout", response: null, attempt: 1 }),
      call(runId, "q1", {
        step: "principle.refine",
        parsed: { score: null },
        latencyMs: 0.125,
        request: { messages: [{ role: "user", content: "ü \u2028" }], sampling: {} },
      }),
    ];
    const fresh = new SqliteStore(freshPath());
    const run = await fresh.createRun(newRun());
    await fresh.recordCalls(calls(run.id));
    const expected = [await fresh.listCalls(run.id, "q1"), await fresh.listCalls(run.id, "q2")];
    await fresh.close();
    assert.deepEqual(
      expected[0]!.map((c) => c.step),
      ["principle.generate", "principle.critique", "principle.refine"],
    );

    const path = freshPath();
    const db = new (loadSqlite().DatabaseSync)(path);
    migrateTo(db, 6);
    db.exec(`PRAGMA user_version = 6; PRAGMA application_id = ${APPLICATION_ID}`);
    db.prepare(
      `INSERT INTO runs (id, key, task, status, created_at, updated_at, settings, input_path, base_model)
       VALUES (?, 'k', 'spri', 'running', 't', 't', '{}', 'in.jsonl', 'm')`,
    ).run(run.id);
    const insert = db.prepare(
      `INSERT INTO calls (${CALL_COLUMN_NAMES.join(", ")}) VALUES (${CALL_COLUMN_NAMES.map(() => "?").join(", ")})`,
    );
    for (const c of calls(run.id)) insert.run(...callValues(c).map((v) => (typeof v === "boolean" ? Number(v) : (v as SQLInputValue))));
    db.close();

    const migrated = new SqliteStore(path);
    assert.deepEqual([await migrated.listCalls(run.id, "q1"), await migrated.listCalls(run.id, "q2")], expected);
    await migrated.recordCalls([call(run.id, "q2", { step: "response.generate" })]);
    assert.deepEqual(
      (await migrated.listCalls(run.id, "q2")).map((c) => c.step),
      ["principle.generate", "response.generate"],
    );
    await migrated.close();
  });

  test("refuses a database from a newer spri and a foreign SQLite file", async () => {
    const newer = freshPath();
    await new SqliteStore(newer).close();
    let db = new (loadSqlite().DatabaseSync)(newer);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => new SqliteStore(newer),
      (e: unknown) => e instanceof StoreError && /schema version/.test(e.message),
    );

    const foreign = freshPath();
    db = new (loadSqlite().DatabaseSync)(foreign);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    db.close();
    assert.throws(
      () => new SqliteStore(foreign),
      (e: unknown) => e instanceof StoreError && /not a spri database/.test(e.message),
    );

    const junk = freshPath();
    writeFileSync(junk, "this is not a database at all, just text ".repeat(100));
    assert.throws(() => new SqliteStore(junk), StoreError);
    assert.throws(() => new SqliteStore(join(dir, "no", "such", "dir", "x.db")), StoreError);
  });

  test("an uncommitted transaction (connection closed) leaves a consistent database", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const run = await store.createRun(newRun());
    await store.recordCalls([call(run.id, "q1")]);

    const raw = new (loadSqlite().DatabaseSync)(path);
    raw.exec("BEGIN IMMEDIATE");
    raw.exec(`INSERT INTO items (run_id, item_id, status, attempts, updated_at) VALUES ('${run.id}', 'ghost', 'done', 1, 'x')`);
    raw.exec(`UPDATE run_usage SET calls = 999 WHERE run_id = '${run.id}'`);
    raw.close(); // never committed

    assert.equal((await store.itemStatuses(run.id)).size, 0);
    assert.equal((await store.runUsage(run.id)).calls, 1);
    await store.setItemStatus(run.id, "real", "done");
    await store.close();
  });

  test("kill -9 in the middle of a large write transaction loses that transaction only", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const run = await store.createRun(newRun());
    await store.setItemStatuses(run.id, [{ itemId: "kept", status: "done", record: { ok: true } }]);
    await store.recordCalls([call(run.id, "kept")]);
    await store.close();

    // A child process starts a big write (large enough to spill pages into the WAL), then dies
    // by SIGKILL before COMMIT.
    const storeUrl = pathToFileURL(join(import.meta.dirname, "sqlite-store.ts")).href;
    const childScript = `
      import { SqliteStore } from ${JSON.stringify(storeUrl)};
      import { loadSqlite } from ${JSON.stringify(pathToFileURL(join(import.meta.dirname, "sqlite-module.ts")).href)};
      const store = new SqliteStore(${JSON.stringify(path)});
      await store.setItemStatus(${JSON.stringify(run.id)}, "committed-by-child", "done");
      await store.close();
      const db = new (loadSqlite().DatabaseSync)(${JSON.stringify(path)});
      db.exec("PRAGMA cache_size = 10");
      db.exec("BEGIN IMMEDIATE");
      const insert = db.prepare("INSERT INTO item_records (run_id, item_id, record) VALUES (?, ?, ?)");
      const item = db.prepare("INSERT INTO items (run_id, item_id, status, attempts, updated_at) VALUES (?, ?, 'done', 1, 'x')");
      for (let i = 0; i < 3000; i++) {
        item.run(${JSON.stringify(run.id)}, "ghost-" + i);
        insert.run(${JSON.stringify(run.id)}, "ghost-" + i, JSON.stringify({ pad: "x".repeat(2000) }));
      }
      db.exec("DELETE FROM call_groups");
      process.kill(process.pid, "SIGKILL");
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", childScript], { encoding: "utf8" });
    assert.equal(child.signal, "SIGKILL", child.stderr);
    assert.doesNotMatch(child.stderr, /ExperimentalWarning/);
    // The dead transaction left its pages in the WAL; recovery must ignore them.
    assert.ok(statSync(`${path}-wal`).size > 1_000_000);

    const reopened = new SqliteStore(path);
    const db = new (loadSqlite().DatabaseSync)(path);
    assert.equal(db.prepare("PRAGMA integrity_check").get()?.integrity_check, "ok");
    assert.deepEqual(db.prepare("PRAGMA foreign_key_check").all(), []);
    db.close();
    assert.deepEqual([...(await reopened.itemStatuses(run.id))].sort(), [
      ["committed-by-child", "done"],
      ["kept", "done"],
    ]);
    assert.equal((await reopened.listCalls(run.id, "kept")).length, 1);
    assert.deepEqual((await reopened.listItems(run.id, { status: "done" }))[0]?.record, { ok: true });
    await reopened.close();
  });
});

test("loading node:sqlite prints no ExperimentalWarning, other warnings still print", () => {
  const moduleUrl = pathToFileURL(join(import.meta.dirname, "sqlite-module.ts")).href;
  const script = `
    import { loadSqlite } from ${JSON.stringify(moduleUrl)};
    loadSqlite();
    new (loadSqlite().DatabaseSync)(":memory:").close();
    process.emitWarning("something else", "ExperimentalWarning");
  `;
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(child.status, 0, child.stderr);
  assert.doesNotMatch(child.stderr, /SQLite/);
  assert.match(child.stderr, /something else/);
});

// Type-level check that a StoredCall is a CallRecord with a run id.
const _typecheck: CallRecord = call("r", "i");
void _typecheck;

describe("SqliteCallCache group commit", () => {
  const result = cachedAnswer;
  const meta = { endpoint: "openai-compatible:http://127.0.0.1:1/v1#m", modelId: "m" };

  test("puts of one turn commit together; an awaited put is visible to another connection", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    // A reader may miss another connection's puts for `cacheForeignPutsWithinMs` (20 ms by default,
    // the commit delay; see CacheKeyFilter): with no window it sees every committed put. (With the
    // default, this test failed now and then on a loaded machine: the reader's filter had synced
    // just under 20 ms before the commit.)
    const reader = new SqliteStore(path, { cacheForeignPutsWithinMs: 0 });
    const puts = Array.from({ length: 50 }, (_, i) => store.cache.put(`k${i}`, result(`answer ${i}`), meta));
    assert.equal(await reader.cache.get("k0"), undefined, "nothing is committed within the turn of the puts");
    await Promise.all(puts);
    assert.equal((await reader.cache.get("k49"))?.text, "answer 49");
    await reader.close();
    await store.close();
  });
});

/** Runs the first `version` migrations on a bare file, as a spri of that schema version did. */
function migrateTo(db: InstanceType<ReturnType<typeof loadSqlite>["DatabaseSync"]>, version: number): void {
  for (let v = 0; v < version; v++) {
    const migration = MIGRATIONS[v]!;
    if (typeof migration === "string") db.exec(migration);
    else migration(db);
  }
}
