/**
 * `spri run` with its store in PostgreSQL (a real server started here): the run, its items, calls
 * and cached answers land in the database; a second run of the same command resumes from it and
 * pays for nothing; the store's password appears in no output.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { PostgresStore } from "../../src/runtime/store/postgres-store.ts";
import { runCli } from "../support/cli.ts";
import { startFakeModelServer } from "../../src/test.ts";
import { startPostgres, type TestPostgres } from "../support/postgres.ts";
import { scriptedBackend } from "../support/scripted-backend.ts";

let postgres: TestPostgres;
let dir: string;
before(async () => {
  postgres = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), "spri-pg-e2e-"));
});
after(async () => {
  await postgres.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("spri run keeps its run and cache in PostgreSQL (--store or SPRI_STORE) and resumes from it", async () => {
  const url = await postgres.newDatabase();
  const password = decodeURIComponent(new URL(url).password);
  const server = await startFakeModelServer(scriptedBackend());
  try {
    const input = join(dir, "items.jsonl");
    writeFileSync(
      input,
      Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: `q${i}`, prompt: `Question number ${i}?` })).join("\n") + "\n",
    );
    const output = join(dir, "out.jsonl");
    const model = ["--base-url", `${server.url}/v1`, "--base-model", "m"];

    const first = await runCli(["run", "--input", input, "--output", output, "--store", url, ...model], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(output, "utf8").trim().split("\n").length, 4);
    const paid = server.requests.length;
    assert.ok(paid > 0);

    rmSync(output);
    const second = await runCli(["run", "--input", input, "--output", output, "--json", ...model], { cwd: dir, env: { SPRI_STORE: url } });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(server.requests.length, paid, "every call was answered from the PostgreSQL cache");
    assert.equal(readFileSync(output, "utf8").trim().split("\n").length, 4);
    for (const shown of [first.stdout, first.stderr, second.stdout, second.stderr]) assert.ok(!shown.includes(password));

    const store = await PostgresStore.open(url);
    try {
      const runs = await store.listRuns();
      assert.ok(runs.length >= 1);
      assert.deepEqual(await store.itemCounts(runs.at(-1)!.id), { pending: 0, done: 4, failed: 0, total: 4 });
      assert.ok((await store.runUsage(runs.at(-1)!.id)).calls >= paid);
      assert.doesNotMatch(JSON.stringify(runs), new RegExp(password));
    } finally {
      await store.close();
    }
  } finally {
    await server.close();
  }
});
