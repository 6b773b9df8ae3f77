import assert from "node:assert/strict";
import { test } from "node:test";
import { whileLocked } from "./sqlite-module.ts";

test("whileLocked retries a statement SQLite refused as locked, and only that", () => {
  let tries = 0;
  const value = whileLocked(1_000, () => {
    if (++tries < 3) throw new Error("database is locked");
    return "wal";
  });
  assert.deepEqual([value, tries], ["wal", 3]);

  let other = 0;
  assert.throws(
    () =>
      whileLocked(1_000, () => {
        other++;
        throw new Error("no such table: runs");
      }),
    /no such table/,
  );
  assert.equal(other, 1);

  assert.throws(
    () =>
      whileLocked(0, () => {
        throw new Error("database is locked");
      }),
    /database is locked/,
  );
});
