/** RowsInsert: the statements it makes, and what they write on a real PostgreSQL server. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { startPostgres, type TestPostgres } from "../../../test/support/postgres.ts";
import { RowsInsert } from "./postgres-rows.ts";

const insert = (ordered: boolean) =>
  new RowsInsert({
    name: "t_insert",
    into: "t",
    columns: [
      ["k", "text"],
      ["body", "text"],
      ["n", "int4"],
    ],
    ordered,
    tail: "ON CONFLICT (k) DO UPDATE SET body = excluded.body",
  });

describe("RowsInsert statements", () => {
  test("a batch is padded with rows of NULLs to a power of two, one prepared statement per size", () => {
    const [only, ...rest] = insert(false).statements([
      ["a", "x", 1],
      ["b", null, 2],
      ["c", "z", undefined],
    ]);
    assert.equal(rest.length, 0);
    assert.equal(only!.statement.name, "t_insert_4");
    assert.deepEqual(only!.values, ["a", "x", 1, "b", null, 2, "c", "z", null, null, null, null]);
    assert.match(only!.statement.text, /WHERE v\.k IS NOT NULL/);
    assert.match(only!.statement.text, /\(\$10::text, \$11::text, \$12::int4\)\) AS v\(k, body, n\)/);
    assert.equal(insert(false).statements([["a", "x", 1]])[0]!.statement.name, "t_insert_1");
  });

  test("more than 1,024 rows take several statements; a row of the wrong width is refused", () => {
    const rows = Array.from({ length: 1025 }, (_, i) => [`k${i}`, "b", i]);
    assert.deepEqual(
      insert(false)
        .statements(rows)
        .map((s) => [s.statement.name, s.values.length]),
      [
        ["t_insert_1024", 1024 * 3],
        ["t_insert_1", 3],
      ],
    );
    assert.throws(() => insert(false).statements([["a", "b"]]), /a row of 2 values for 3 columns/);
    assert.throws(() => insert(false).statements([[null, "b", 1]]), /a row without its k/);
    // Wide rows: fewer per statement, within PostgreSQL's 65,535 parameters.
    const wide = new RowsInsert({ name: "w", into: "w", columns: Array.from({ length: 100 }, (_, i) => [`c${i}`, "text"] as const) });
    const sizes = wide.statements(Array.from({ length: 700 }, () => Array.from({ length: 100 }, () => "x"))).map((s) => s.values.length);
    // 512 rows of 100 a statement, then the 188 left padded to 256.
    assert.deepEqual(sizes, [51_200, 25_600]);
    assert.deepEqual(insert(false).statements([]), []);
  });
});

describe("RowsInsert on PostgreSQL", () => {
  let server: TestPostgres;
  let client: pg.Client;
  before(async () => {
    server = await startPostgres();
    client = new pg.Client({ connectionString: await server.newDatabase() });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    await server?.stop();
  });

  test("rows go in in the order given, texts byte for byte, padding rows skipped", async () => {
    await client.query("CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY, k TEXT PRIMARY KEY, body TEXT, n INTEGER)");
    const odd = 'quote " back\\slash literal \\u0000 {"json": [1]} pair 😀 \x1b\n';
    const rows = Array.from({ length: 1030 }, (_, i) => [`k${1029 - i}`, `${odd}${i}`, i]);
    for (const { statement, values } of insert(true).statements(rows)) await client.query({ ...statement, values });
    const { rows: stored } = await client.query("SELECT k, body, n FROM t ORDER BY id");
    assert.equal(stored.length, 1030);
    assert.deepEqual(
      stored.map((r) => [r.k, r.body, r.n]),
      rows,
    );
    // The tail applies: a key again updates its row.
    for (const { statement, values } of insert(true).statements([["k5", "again", 0]])) await client.query({ ...statement, values });
    assert.equal((await client.query("SELECT body FROM t WHERE k = 'k5'")).rows[0].body, "again");
    assert.equal((await client.query("SELECT count(*)::int AS c FROM t")).rows[0].c, 1030);
  });
});
