import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { storeExists } from "./open-store.ts";

test("storeExists: a SQLite file that is there; a PostgreSQL URL is taken as there (asking would connect)", () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-open-store-"));
  const file = join(dir, "spri.db");
  assert.equal(storeExists(file), false);
  writeFileSync(file, "");
  assert.equal(storeExists(file), true);
  assert.equal(storeExists("postgres://user@127.0.0.1:5432/spri"), true);
  assert.equal(storeExists("postgresql://127.0.0.1/spri"), true);
});
