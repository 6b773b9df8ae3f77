import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { findRun } from "./run-lookup.ts";

let dir: string;
let store: SqliteStore;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "spri-lookup-"));
  store = new SqliteStore(join(dir, "spri.db"));
  for (const id of ["abc12345-0000", "abc99999-0000", "def00000-0000"])
    await store.createRun({ id, key: id, task: "spri/sft", settings: {}, inputPath: "/in.jsonl", baseModel: "m" });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("findRun: the run with the id, or the one run whose id starts with it", async () => {
  assert.equal((await findRun(store, "abc99999-0000")).id, "abc99999-0000");
  assert.equal((await findRun(store, "def")).id, "def00000-0000");
});

test("findRun: an ambiguous prefix, an unknown id and an empty one are usage errors naming --run", async () => {
  const refused = (pattern: RegExp) => (error: unknown) =>
    error instanceof InputError && error.field === "run" && pattern.test(error.message);
  await assert.rejects(findRun(store, "abc"), refused(/ambiguous: 2 runs start with it/));
  await assert.rejects(findRun(store, "zzz"), refused(/no run with id "zzz"/));
  await assert.rejects(findRun(store, ""), refused(/no run with id ""/));
});
