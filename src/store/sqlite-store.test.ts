import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import type { CallRecord } from "../io/records.ts";
import { REDACTED, type NewRun, type StoredCall, StoreError, runKey } from "./run-store.ts";
import { loadSqlite } from "./sqlite-module.ts";
import { APPLICATION_ID, SCHEMA_VERSION, SqliteStore } from "./sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-store-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `run-${files++}.db`);

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  const settings = { task: "spri", maxIterations: 3, temperature: 0 };
  return {
    key: runKey({ task: "spri", settings, inputPath: "data/in.jsonl" }),
    task: "spri",
    settings,
    inputPath: "data/in.jsonl",
    outputPath: "out.jsonl",
    baseModel: "openai-compatible#http://localhost:8000/v1#llama",
    criticModel: "anthropic#claude",
    ...overrides,
  };
}

function call(runId: string, itemId: string, overrides: Partial<StoredCall> = {}): StoredCall {
  return {
    runId,
    itemId,
    step: "principle.generate",
    iteration: 0,
    attempt: 0,
    role: "base",
    model: "llama",
    endpoint: "openai-compatible#http://localhost:8000/v1#llama",
    request: {
      messages: [
        { role: "system", content: "You write principles." },
        { role: "user", content: `Question ${itemId}` },
      ],
      sampling: { temperature: 0.7, maxTokens: 256, stop: ["###"] },
      schema: "principles",
    },
    response: `principles for ${itemId}`,
    usage: { inputTokens: 100, outputTokens: 20 },
    latencyMs: 12.5,
    finishReason: "stop",
    cacheHit: false,
    startedAt: "2025-01-01T00:00:00.000Z",
    ...overrides,
  };
}

describe("SqliteStore runs", () => {
  test("create, get, find by key, list, update round-trip", async () => {
    const store = new SqliteStore(freshPath());
    try {
      const created = await store.createRun(newRun());
      assert.match(created.id, /^[0-9a-f-]{36}$/);
      assert.equal(created.status, "running");
      assert.equal(created.createdAt, created.updatedAt);
      assert.deepEqual(await store.getRun(created.id), created);
      assert.deepEqual(await store.findRunByKey(created.key), created);
      assert.equal(await store.findRunByKey("nope"), undefined);
      assert.equal(await store.getRun("nope"), undefined);

      const updated = await store.updateRun(created.id, { status: "completed", outputPath: "other.jsonl" });
      assert.equal(updated.status, "completed");
      assert.equal(updated.outputPath, "other.jsonl");
      assert.equal(updated.criticModel, "anthropic#claude");
      assert.deepEqual(await store.getRun(created.id), updated);
      await assert.rejects(store.updateRun("nope", { status: "failed" }), StoreError);
      await assert.rejects(store.updateRun(created.id, { status: "bogus" as never }), StoreError);
    } finally {
      await store.close();
    }
  });

  test("a run without critic or output path reads back without those fields", async () => {
    const store = new SqliteStore(freshPath());
    const { outputPath: _o, criticModel: _c, ...bare } = newRun();
    const created = await store.createRun(bare);
    const read = await store.getRun(created.id);
    assert.ok(read);
    assert.equal("outputPath" in read, false);
    assert.equal("criticModel" in read, false);
    await store.close();
  });

  test("findRunByKey returns the newest run with that key; listRuns pages newest first", async () => {
    const store = new SqliteStore(freshPath());
    const a = await store.createRun(newRun({ id: "a", createdAt: "2025-01-01T00:00:00.000Z" }));
    const b = await store.createRun(newRun({ id: "b", createdAt: "2025-01-02T00:00:00.000Z" }));
    const c = await store.createRun(newRun({ id: "c", key: "other", createdAt: "2025-01-03T00:00:00.000Z" }));
    assert.equal((await store.findRunByKey(a.key))?.id, "b");
    assert.deepEqual(
      (await store.listRuns()).map((r) => r.id),
      ["c", "b", "a"],
    );
    assert.deepEqual(
      (await store.listRuns({ limit: 1, offset: 1 })).map((r) => r.id),
      [b.id],
    );
    assert.equal(c.key, "other");
    await assert.rejects(store.createRun(newRun({ id: "a" })), StoreError);
    await store.close();
  });

  test("runKey ignores settings key order and resolves the input path", () => {
    const one = runKey({ task: "spri", settings: { a: 1, b: { c: 2, d: 3 } }, inputPath: "in.jsonl" });
    const two = runKey({ task: "spri", settings: { b: { d: 3, c: 2 }, a: 1 }, inputPath: "./in.jsonl" });
    assert.equal(one, two);
    assert.notEqual(one, runKey({ task: "spri", settings: { a: 2, b: { c: 2, d: 3 } }, inputPath: "in.jsonl" }));
    assert.notEqual(one, runKey({ task: "rubric", settings: { a: 1, b: { c: 2, d: 3 } }, inputPath: "in.jsonl" }));
    assert.notEqual(one, runKey({ task: "spri", settings: { a: 1, b: { c: 2, d: 3 } }, inputPath: "other.jsonl" }));
  });

  test("credential-named settings never reach the database", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const run = await store.createRun(
      newRun({
        settings: {
          model: "gpt-4o-mini",
          apiKey: "sk-live-SECRET1",
          endpoints: [{ url: "http://x", api_key: "sk-live-SECRET2", headers: { Authorization: "Bearer SECRET3" } }],
        },
      }),
    );
    assert.equal(run.settings.apiKey, REDACTED);
    await store.updateRun(run.id, { settings: { password: "SECRET4", maxTokens: 5 } });
    const read = await store.getRun(run.id);
    assert.deepEqual(read?.settings, { password: REDACTED, maxTokens: 5 });
    await store.close();
    const db = new (loadSqlite().DatabaseSync)(path);
    const dump = JSON.stringify(db.prepare("SELECT * FROM runs").all());
    db.close();
    assert.doesNotMatch(dump, /SECRET/);
  });
});

describe("SqliteStore items", () => {
  test("status round trip: reason, record, attempts, counts, paging by status", async () => {
    const store = new SqliteStore(freshPath());
    const run = await store.createRun(newRun());
    await store.setItemStatuses(run.id, [
      { itemId: "q1", status: "pending" },
      { itemId: "q2", status: "pending" },
      { itemId: "q3", status: "pending" },
    ]);
    await store.setItemStatus(run.id, "q2", "failed", { reason: "rate limited" });
    await store.setItemStatus(run.id, "q1", "done", { record: { question: "q1", principle_final: "Be kind." } });
    await store.setItemStatus(run.id, "q2", "done", { record: { question: "q2" } });

    const statuses = await store.itemStatuses(run.id);
    assert.deepEqual([...statuses].sort(), [
      ["q1", "done"],
      ["q2", "done"],
      ["q3", "pending"],
    ]);
    const items = await store.listItems(run.id);
    assert.deepEqual(
      items.map((i) => [i.itemId, i.status, i.attempts, i.reason, i.record]),
      [
        ["q1", "done", 1, undefined, { question: "q1", principle_final: "Be kind." }],
        ["q2", "done", 2, undefined, { question: "q2" }],
        ["q3", "pending", 0, undefined, undefined],
      ],
    );
    assert.deepEqual(
      (await store.listItems(run.id, { status: "done", limit: 1, offset: 1 })).map((i) => i.itemId),
      ["q2"],
    );
    assert.deepEqual(await store.itemCounts(run.id), { pending: 1, done: 2, failed: 0, total: 3 });

    await store.setItemStatus(run.id, "q3", "failed", { reason: "bad JSON" });
    const [failed] = await store.listItems(run.id, { status: "failed" });
    assert.equal(failed?.reason, "bad JSON");
    assert.equal(failed?.runId, run.id);
    assert.ok((await store.getRun(run.id))!.updatedAt >= run.updatedAt);

    await assert.rejects(store.setItemStatus("missing-run", "q1", "done"), StoreError);
    await assert.rejects(store.setItemStatus(run.id, "q1", "weird" as never), StoreError);
    assert.equal((await store.itemStatuses("missing-run")).size, 0);
    await store.close();
  });

  test("itemStatuses reads 100,000 items", async () => {
    const store = new SqliteStore(freshPath());
    const run = await store.createRun(newRun());
    const other = await store.createRun(newRun({ key: "other" }));
    const updates = Array.from({ length: 100_000 }, (_, i) => ({
      itemId: `item-${i}`,
      status: i % 10 === 0 ? ("failed" as const) : i % 3 === 0 ? ("pending" as const) : ("done" as const),
    }));
    await store.setItemStatuses(run.id, updates);
    await store.setItemStatuses(other.id, [{ itemId: "item-1", status: "pending" }]);
    const statuses = await store.itemStatuses(run.id);
    assert.equal(statuses.size, 100_000);
    assert.equal(statuses.get("item-0"), "failed");
    assert.equal(statuses.get("item-3"), "pending");
    assert.equal(statuses.get("item-99999"), "pending");
    assert.equal(statuses.get("item-1"), "done");
    const counts = await store.itemCounts(run.id);
    assert.equal(counts.total, 100_000);
    assert.equal(counts.failed, 10_000);
    assert.deepEqual((await store.itemStatuses(other.id)).get("item-1"), "pending");
    await store.close();
  });

  test("resume: reopening the file finds the same run, statuses, calls and usage", async () => {
    const path = freshPath();
    const first = new SqliteStore(path);
    const run = await first.createRun(newRun());
    await first.setItemStatus(run.id, "a", "done", { record: { x: 1 } });
    await first.setItemStatus(run.id, "b", "failed", { reason: "timeout" });
    await first.recordCalls([call(run.id, "a")]);
    await first.close();
    await first.close(); // twice is fine
    await assert.rejects(first.getRun(run.id), StoreError);

    const second = new SqliteStore(path);
    assert.deepEqual(await second.findRunByKey(run.key), (await second.getRun(run.id))!);
    assert.equal((await second.findRunByKey(run.key))?.id, run.id);
    assert.deepEqual([...(await second.itemStatuses(run.id))].sort(), [
      ["a", "done"],
      ["b", "failed"],
    ]);
    assert.equal((await second.listCalls(run.id, "a")).length, 1);
    assert.equal((await second.runUsage(run.id)).calls, 1);
    await second.close();
  });
});

describe("SqliteStore calls", () => {
  test("a call round-trips field for field", async () => {
    const store = new SqliteStore(freshPath());
    const run = await store.createRun(newRun());
    const full = call(run.id, "q1", {
      step: "principle.critique",
      iteration: 2,
      attempt: 1,
      role: "critic",
      parsed: { score: 4, marker: "[[4]]" },
      costUsd: 0.0012,
    });
    const failed: StoredCall = {
      ...call(run.id, "q1", { step: "response.generate" }),
      response: null,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: 0,
      error: "429 rate limited",
    };
    delete failed.finishReason;
    await store.recordCalls([full, failed]);
    assert.deepEqual(await store.listCalls(run.id, "q1"), [full, failed]);
    assert.deepEqual(await store.listCalls(run.id, "q2"), []);
    await store.close();
  });

  test("recordCalls keeps order across batches and aggregates usage; cache hits are not paid", async () => {
    const store = new SqliteStore(freshPath());
    const run = await store.createRun(newRun());
    const other = await store.createRun(newRun({ key: "k2" }));
    const batch: StoredCall[] = [];
    for (let i = 0; i < 500; i++) batch.push(call(run.id, `q${i % 5}`, { iteration: i, costUsd: 0.01 }));
    batch.push(call(run.id, "q0", { iteration: 999, cacheHit: true, costUsd: 0.5 }));
    batch.push(call(other.id, "q0", { error: "boom", usage: { inputTokens: 1, outputTokens: 0 } }));
    await store.recordCalls(batch);
    await store.recordCalls([call(run.id, "q0", { iteration: 1000 })]);
    await store.recordCalls([]);

    const q0 = await store.listCalls(run.id, "q0");
    assert.equal(q0.length, 102);
    assert.deepEqual(
      q0.map((c) => c.iteration),
      [...Array.from({ length: 100 }, (_, k) => k * 5), 999, 1000],
    );
    const usage = await store.runUsage(run.id);
    assert.equal(usage.calls, 502);
    assert.equal(usage.cacheHits, 1);
    assert.equal(usage.errors, 0);
    assert.equal(usage.inputTokens, 501 * 100);
    assert.equal(usage.outputTokens, 501 * 20);
    assert.ok(Math.abs(usage.costUsd! - 5) < 1e-9);
    assert.equal(usage.unpricedCalls, 1);
    assert.deepEqual(await store.runUsage(other.id), {
      calls: 1,
      cacheHits: 0,
      errors: 1,
      inputTokens: 1,
      outputTokens: 0,
      costUsd: null,
      unpricedCalls: 1,
    });
    assert.deepEqual(await store.runUsage("none"), {
      calls: 0,
      cacheHits: 0,
      errors: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: null,
      unpricedCalls: 0,
    });
    await store.close();
  });

  test("a bad call rejects the whole batch and leaves nothing behind", async () => {
    const store = new SqliteStore(freshPath());
    const run = await store.createRun(newRun());
    const bad = call(run.id, "q1", { iteration: null as unknown as number }); // NOT NULL fails mid-batch
    await assert.rejects(store.recordCalls([call(run.id, "q1"), call(run.id, "q1"), bad]));
    await assert.rejects(store.recordCalls([call(run.id, "q1"), call("no-such-run", "q1")]), StoreError);
    await assert.rejects(store.recordCalls([call("", "q1")]), StoreError);
    assert.deepEqual(await store.listCalls(run.id, "q1"), []);
    assert.equal((await store.runUsage(run.id)).calls, 0);
    // The store still works after the rollback.
    await store.recordCalls([call(run.id, "q1")]);
    assert.equal((await store.listCalls(run.id, "q1")).length, 1);
    await store.close();
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
    const dump = JSON.stringify(db.prepare("SELECT * FROM calls").all());
    db.close();
    assert.equal(
      columns.some((c) => /key|secret|auth|token$|password/i.test(c) && !["key", "input_tokens", "output_tokens"].includes(c)),
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

  test("refuses a database from a newer spri and a foreign SQLite file", async () => {
    const newer = freshPath();
    await new SqliteStore(newer).close();
    let db = new (loadSqlite().DatabaseSync)(newer);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => new SqliteStore(newer), (e: unknown) => e instanceof StoreError && /schema version/.test(e.message));

    const foreign = freshPath();
    db = new (loadSqlite().DatabaseSync)(foreign);
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)");
    db.close();
    assert.throws(() => new SqliteStore(foreign), (e: unknown) => e instanceof StoreError && /not a spri database/.test(e.message));

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
      db.exec("DELETE FROM calls");
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

describe("SqliteStore artifacts", () => {
  test("put, replace and get JSON artifacts by run and name; unknown ones are undefined", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const run = await store.createRun(newRun());
    const other = await store.createRun(newRun());
    assert.equal(await store.getArtifact(run.id, "constitution"), undefined);
    await store.putArtifact(run.id, "constitution", { principles: [{ id: "c1", size: 2 }], map: [{ x: 0.5, y: -1, cluster: "c1", text: "é ✓" }] });
    await store.putArtifact(run.id, "note", "text");
    assert.deepEqual(await store.getArtifact(run.id, "constitution"), { principles: [{ id: "c1", size: 2 }], map: [{ x: 0.5, y: -1, cluster: "c1", text: "é ✓" }] });
    await store.putArtifact(run.id, "constitution", [1, 2]);
    assert.deepEqual(await store.getArtifact(run.id, "constitution"), [1, 2]);
    assert.equal(await store.getArtifact(run.id, "note"), "text");
    assert.equal(await store.getArtifact(other.id, "constitution"), undefined);
    assert.equal(await store.getArtifact("nope", "constitution"), undefined);
    await assert.rejects(store.putArtifact("nope", "constitution", {}), StoreError);
    await assert.rejects(store.putArtifact(run.id, "x", undefined), StoreError);
    await store.close();
    const reopened = new SqliteStore(path);
    assert.deepEqual(await reopened.getArtifact(run.id, "constitution"), [1, 2]);
    await reopened.close();
    await assert.rejects(store.getArtifact(run.id, "constitution"), StoreError);
  });
});

describe("SqliteCallCache group commit", () => {
  const result = (text: string) => ({ text, finishReason: "stop" as const, usage: { inputTokens: 3, outputTokens: 4 }, latencyMs: 12, model: "m" });
  const meta = { endpoint: "openai-compatible:http://127.0.0.1:1/v1#m", modelId: "m" };

  test("puts of one turn commit together; an awaited put is visible to another connection", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    const reader = new SqliteStore(path);
    const puts = Array.from({ length: 50 }, (_, i) => store.cache.put(`k${i}`, result(`answer ${i}`), meta));
    assert.equal(await reader.cache.get("k0"), undefined, "nothing is committed within the turn of the puts");
    await Promise.all(puts);
    assert.equal((await reader.cache.get("k49"))?.text, "answer 49");
    await reader.close();
    await store.close();
  });

  test("a get sees a put of the same turn, and close commits puts nobody awaited", async () => {
    const path = freshPath();
    const store = new SqliteStore(path);
    void store.cache.put("a", result("first"), meta);
    assert.equal((await store.cache.get("a"))?.text, "first");
    void store.cache.put("b", result("second"), meta);
    await store.close();
    const reopened = new SqliteStore(path);
    assert.equal((await reopened.cache.get("b"))?.text, "second");
    await reopened.close();
  });

  test("a failed commit rejects the puts of its turn", async () => {
    const store = new SqliteStore(freshPath());
    const bad = store.cache.put("x", { ...result("t"), text: undefined as unknown as string }, meta);
    await assert.rejects(bad, /cannot be bound/);
    await store.cache.put("y", result("fine"), meta);
    assert.equal((await store.cache.get("y"))?.text, "fine");
    await store.close();
  });
});
