/**
 * Opens the run store a command was pointed at (`--store`, `SPRI_STORE`, the config file's `store`):
 * a `postgres://` or `postgresql://` URL opens the PostgreSQL store (connecting and creating or
 * migrating its schema), anything else is the path of a SQLite file (created when missing). Each
 * backend loads only when opened: a SQLite run never loads the PostgreSQL driver.
 */
import { existsSync } from "node:fs";
import type { RunStore } from "./run-store.ts";

/** The same test as `PostgresStore.open` makes (kept here so that asking does not load the driver). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** Whether opening `location` finds a store rather than creating an empty SQLite file; a PostgreSQL URL counts as there (asking would connect). */
export function storeExists(location: string): boolean {
  return isPostgresUrl(location) || existsSync(location);
}

export async function openStore(location: string): Promise<RunStore> {
  if (isPostgresUrl(location)) {
    const { PostgresStore } = await import("./postgres-store.ts");
    return PostgresStore.open(location);
  }
  const { SqliteStore } = await import("./sqlite-store.ts");
  return new SqliteStore(location);
}
