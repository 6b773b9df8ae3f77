import assert from "node:assert/strict";
import { test } from "node:test";
import { loadSqlite } from "./sqlite-module.ts";
import { migrate } from "./sqlite-schema.ts";
import { recordStatements } from "./sqlite-statements.ts";

test("recordStatements: an item's record is written, replaced and deleted; the run's finish count is read", () => {
  const { DatabaseSync } = loadSqlite();
  const db = new DatabaseSync(":memory:");
  migrate(db);
  db.exec(`INSERT INTO runs (id, key, task, status, created_at, updated_at, settings, input_path, base_model)
           VALUES ('r', 'k', 'sft', 'running', 't', 't', '{}', 'in.jsonl', 'm')`);
  db.exec("INSERT INTO items (run_id, item_id, status, updated_at) VALUES ('r', 'a', 'done', 't')");
  const sql = recordStatements((text) => db.prepare(text));
  const record = () => db.prepare("SELECT record, summary FROM item_records WHERE run_id = 'r' AND item_id = 'a'").get();
  sql.upsertRecord.run("r", "a", '{"x":1}', "[]");
  sql.upsertRecord.run("r", "a", '{"x":2}', "[1]");
  assert.deepEqual({ ...record() }, { record: '{"x":2}', summary: "[1]" });
  sql.deleteRecord.run("r", "a");
  assert.equal(record(), undefined);
  assert.equal(sql.finishedCount.get("r")?.finished_count, 0);
  db.close();
});
