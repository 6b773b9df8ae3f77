/**
 * Opens the run store a command was pointed at (`--store`, `SPRI_STORE`, the config file's `store`):
 * a `postgres://` or `postgresql://` URL opens the PostgreSQL store (connecting and creating or
 * migrating its schema), anything else is the path of a SQLite file (created when missing).
 */
import { PostgresStore, isPostgresUrl } from "./postgres-store.ts";
import type { RunStore } from "./run-store.ts";
import { SqliteStore } from "./sqlite-store.ts";

export { isPostgresUrl };

export async function openStore(location: string): Promise<RunStore> {
  return isPostgresUrl(location) ? PostgresStore.open(location) : new SqliteStore(location);
}
