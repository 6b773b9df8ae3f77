/**
 * Loads Node's built-in `node:sqlite` without its `ExperimentalWarning`, so CLI output stays clean.
 *
 * Node emits that warning once, synchronously through `process.emitWarning`, while it first loads
 * the module. We load the module through `process.getBuiltinModule` (not a static import, which
 * would run before any of our code) with `process.emitWarning` wrapped for that one synchronous call
 * only; the wrapper drops exactly the SQLite ExperimentalWarning, forwards every other warning, and
 * is removed before the call returns. Nothing else about warnings changes: no listeners are removed
 * and `--no-warnings`/`--disable-warning` keep working. If something else loaded `node:sqlite`
 * first, Node has already printed the warning and there is nothing left to hide.
 */
import type * as Sqlite from "node:sqlite";
import { StoreError } from "./run-store.ts";

export type SqliteModule = typeof Sqlite;

let loaded: SqliteModule | undefined;

export function loadSqlite(): SqliteModule {
  if (loaded) return loaded;
  const original = process.emitWarning;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]) {
    if (isSqliteExperimentalWarning(warning, rest[0])) return;
    return (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  process.emitWarning = filtered as typeof process.emitWarning;
  let module: SqliteModule | undefined;
  try {
    module = process.getBuiltinModule("node:sqlite") as SqliteModule | undefined;
  } catch (error) {
    throw unavailable(error);
  } finally {
    if (process.emitWarning === filtered) process.emitWarning = original;
  }
  if (!module?.DatabaseSync) throw unavailable();
  loaded = module;
  return module;
}

/** True for the one warning we hide: type ExperimentalWarning, message about SQLite. */
export function isSqliteExperimentalWarning(warning: string | Error, typeOrOptions: unknown): boolean {
  const message = typeof warning === "string" ? warning : warning.message;
  const type =
    typeof warning !== "string"
      ? warning.name
      : typeof typeOrOptions === "string"
        ? typeOrOptions
        : typeof typeOrOptions === "object" && typeOrOptions !== null
          ? (typeOrOptions as { type?: unknown }).type
          : undefined;
  return type === "ExperimentalWarning" && /^SQLite\b/.test(message);
}

function unavailable(cause?: unknown): StoreError {
  return new StoreError(`node:sqlite is not available in Node ${process.version}`, {
    hint: "use Node 22.13 or newer (`npm install` provides one for npm scripts and npx)",
    cause,
  });
}

/**
 * Runs `fn` again while SQLite answers "database is locked", for up to `timeoutMs`. Switching a file
 * to WAL can be refused at once, without the busy handler, while another process opens or closes the
 * same new file (two `spri run` started together); every other statement waits in the busy handler.
 */
export function whileLocked<T>(timeoutMs: number, fn: () => T): T {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      return fn();
    } catch (error) {
      if (!/database is locked/.test((error as Error).message) || performance.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
}
