/**
 * Whole JSON files: the one reader (state, settings, constitutions, configuration, and as text the
 * JSON or JSON Lines files parsed above io/, such as seeds) and the one atomic writer. Streams of
 * records have their own readers and writers (input-reader, record-output, jsonl-output, parquet).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ConfigError, InputError } from "../base/errors/errors.ts";

export interface JsonFileContext {
  /** What the file is, as messages name it: "config file", "batch state", "constitution". */
  what: string;
  /** The flag or setting that named the file, when one did. */
  field?: string;
  /** What to do when it cannot be read, phrased as an instruction. */
  hint?: string;
  /** The error to raise: InputError (the default) for data, ConfigError for configuration. */
  as?: typeof InputError | typeof ConfigError;
}

/** The JSON value `file` holds. A missing file, a directory or malformed JSON is an error naming the file. */
export function readJsonFile(file: string, context: JsonFileContext): unknown {
  const text = readTextFile(file, context);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw failure(context, `${context.what} is not valid JSON: ${(error as Error).message}`, file, error);
  }
}

/** As readJsonFile, for files that must hold one JSON object (not an array, a string or null). */
export function readJsonObjectFile(file: string, context: JsonFileContext): Record<string, unknown> {
  const value = readJsonFile(file, context);
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw failure(context, `${context.what} must hold one JSON object`, file);
  return value as Record<string, unknown>;
}

/**
 * Writes `text` to `file` through `<file>.partial`, renamed over it when written, so a reader sees
 * the old content or the new, never half of it. Missing folders are made.
 */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  writeFileSync(partial, text, "utf8");
  renameSync(partial, file);
}

/** `value` as pretty JSON ending in a newline, written atomically. */
export function writeJsonFile(file: string, value: unknown): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** The whole text of `file` (UTF-8). A missing file or a directory is an error naming the file. */
export function readTextFile(file: string, context: JsonFileContext): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw failure(context, `${context.what} does not exist`, file, error);
    if (code === "EISDIR") throw failure(context, `${context.what} is not a file`, file, error);
    throw failure(context, `cannot read the ${context.what}: ${(error as Error).message}`, file, error);
  }
}

function failure(context: JsonFileContext, message: string, file: string, cause?: unknown): InputError | ConfigError {
  const ErrorClass = context.as ?? InputError;
  return new ErrorClass(message, { file, field: context.field, hint: context.hint, cause });
}
