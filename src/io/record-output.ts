/**
 * The output JSONL of a run, written so that every finished item appears exactly once even after a
 * kill -9 at any moment and a re-run. While a run works, records go to `<file>.partial`, which only
 * becomes `<file>` when the run has been through its whole input, so an unfinished output never looks
 * complete. The partial file is the source of truth for "done": opening it reads the ids already
 * written and cuts off a last line that a crash left incomplete. Each record goes out in a single
 * append, so a record is either wholly in the file or not at all. Re-running a finished run turns
 * `<file>` back into the working file and appends what earlier runs could not do.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { InputError } from "../base/errors/errors.ts";
import { storedUtf8Lines } from "./utf8-text.ts";

export interface OpenedOutput {
  output: RecordOutput;
  /** Ids of the records already in the file. */
  done: Set<string>;
  /** Bytes of an incomplete last line that were cut off (0 when the file ended cleanly). */
  truncatedBytes: number;
}

export class RecordOutput {
  readonly file: string;
  readonly partial: string;
  private fd: number | undefined;
  private unsynced = 0;
  /** A second descriptor of the file, for syncs in the background (one at a time). */
  private syncFd: number | undefined;
  private syncing = false;
  /** A background sync that failed: the next append or close throws it. */
  private syncError: unknown;

  private constructor(file: string, fd: number) {
    this.file = file;
    this.partial = partialPath(file);
    this.fd = fd;
  }

  /** Opens (or creates) the working file for appending, after reading which ids it holds. */
  static async open(file: string, idField: RecordIdentity): Promise<OpenedOutput> {
    mkdirSync(dirname(file), { recursive: true });
    const partial = partialPath(file);
    if (!existsSync(partial) && existsSync(file)) renameSync(file, partial);
    const done = new Set<string>();
    let truncatedBytes = 0;
    if (existsSync(partial)) {
      const validBytes = await scanRecords(partial, idField, done);
      const size = statSync(partial).size;
      if (validBytes < size) {
        const fd = openSync(partial, "r+");
        ftruncateSync(fd, validBytes);
        fdatasyncSync(fd);
        closeSync(fd);
      }
      truncatedBytes = size - validBytes;
    }
    return { output: new RecordOutput(file, openSync(partial, "a")), done, truncatedBytes };
  }

  /** The ids an output already holds, read without changing anything (for dry runs). */
  static async readDone(file: string, idField: RecordIdentity): Promise<Set<string>> {
    const done = new Set<string>();
    const path = existsSync(partialPath(file)) ? partialPath(file) : file;
    if (existsSync(path)) await scanRecords(path, idField, done);
    return done;
  }

  /**
   * Appends one record as one write. Every `syncEvery` records the file is synced to disk in the
   * background (off the event loop: a sync takes milliseconds, and a run appends hundreds of
   * records a second); `sync` and `close` sync at once. A kill -9 loses nothing that was appended
   * (the write is in the OS's cache); a power cut may lose the records since the last sync.
   */
  append(record: unknown, syncEvery = 64): void {
    this.appendLines([JSON.stringify(record)], syncEvery);
  }

  /**
   * Appends records that are each one line of JSON text (`recordLine`), a page of them in one write
   * (up to `WRITE_CHARS`): a page of records from the store costs a system call, not one a record. A
   * write cut short by a crash leaves a torn last line, which the next `open` cuts off.
   */
  appendLines(lines: readonly string[], syncEvery = 64): void {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    this.throwSyncError();
    for (let start = 0, end = 0, chars = 0; end < lines.length; ) {
      chars += lines[end]!.length + 1;
      end++;
      if (chars >= WRITE_CHARS || end === lines.length) {
        writeText(this.fd, `${lines.slice(start, end).join("\n")}\n`);
        start = end;
        chars = 0;
      }
    }
    this.unsynced += lines.length;
    if (this.unsynced >= syncEvery) this.syncInBackground();
  }

  /** Syncs what was appended to disk now. */
  sync(): void {
    this.throwSyncError();
    if (this.fd !== undefined && this.unsynced > 0) {
      fdatasyncSync(this.fd);
      this.unsynced = 0;
    }
  }

  /** Flushes and leaves the working file for the next run to resume. */
  close(): void {
    if (this.fd === undefined) return;
    this.unsynced = Math.max(this.unsynced, 1);
    try {
      this.sync();
    } finally {
      closeSync(this.fd);
      this.fd = undefined;
      // A background sync still running closes its descriptor when it ends.
      if (!this.syncing) this.closeSyncFd();
    }
  }

  /** fdatasync on a second descriptor syncs the same file, so appends go on meanwhile. */
  private syncInBackground(): void {
    if (this.syncing) return;
    this.syncing = true;
    this.unsynced = 0;
    this.syncFd ??= openSync(this.partial, "r");
    fdatasync(this.syncFd, (error) => {
      this.syncing = false;
      if (error) this.syncError ??= error;
      if (this.fd === undefined) this.closeSyncFd();
    });
  }

  private closeSyncFd(): void {
    if (this.syncFd === undefined) return;
    closeSync(this.syncFd);
    this.syncFd = undefined;
  }

  private throwSyncError(): void {
    if (this.syncError === undefined) return;
    const error = this.syncError;
    this.syncError = undefined;
    throw error;
  }

  /** Closes and gives the output its real name: the run has been through its whole input. */
  commit(): void {
    this.close();
    renameSync(this.partial, this.file);
  }
}

/**
 * How a record is identified: its id field, or the field and a key derived from the record (when
 * the id alone is not unique, see `PreparedTask.itemKey`).
 */
export type RecordIdentity = string | { field: string; key: (record: Readonly<Record<string, unknown>>, id: string) => string };

/**
 * Characters of records joined into one write at most: a page of large records (items of up to
 * `--max-item-size`) would otherwise make one string past V8's limit (~537 million characters).
 */
const WRITE_CHARS = 16 * 1024 * 1024;

/**
 * Writes text whole. Written as text, Node encodes it outside the JavaScript heap; only a write cut
 * short (rare for a file) needs the bytes to go on from.
 */
function writeText(fd: number, text: string): void {
  const first = writeSync(fd, text, null, "utf8");
  if (first < Buffer.byteLength(text, "utf8")) {
    const bytes = Buffer.from(text, "utf8");
    let written = first;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
  }
}

/**
 * A record's JSON text as one output line: text that holds a line break (JSON allows them between
 * tokens) is parsed and written again, so a line is always one record.
 */
export function recordLine(json: string): string {
  return json.includes("\n") || json.includes("\r") ? JSON.stringify(JSON.parse(json)) : json;
}

export function partialPath(file: string): string {
  return `${file}.partial`;
}

/**
 * Reads complete lines and collects their ids; returns the byte length of the valid prefix. A last
 * line without its newline, or a last line that is not a record, is the remains of a crash and is
 * left out. A broken line followed by more records means the file was edited by hand: that is an
 * error, not something to cut off silently. Lines end at `\n` only: JSON text may hold U+2028 and
 * U+2029 as they are (JSON.stringify writes them so), which other line readers take for line ends.
 */
async function scanRecords(file: string, idField: RecordIdentity, done: Set<string>): Promise<number> {
  const size = statSync(file).size;
  let offset = 0;
  let valid = 0;
  let broken: { line: number; message: string } | undefined;
  for await (const { line: lineNo, bytes, text: line } of storedUtf8Lines(file)) {
    const end = offset + bytes + 1;
    if (end > size) break;
    if (broken) {
      throw new InputError(`the output file has a broken record: ${broken.message}`, {
        file,
        line: broken.line,
        hint: "fix or delete that line (or write to a new --output), then re-run",
      });
    }
    if (line === undefined) broken = { line: lineNo, message: "the line is not valid UTF-8" };
    else if (line.trim() !== "") {
      const id = recordId(line, idField);
      if (typeof id === "string") done.add(id);
      else broken = { line: lineNo, message: id.message };
    }
    if (!broken) valid = end;
    offset = end;
  }
  return valid;
}

function recordId(line: string, identity: RecordIdentity): string | Error {
  const field = typeof identity === "string" ? identity : identity.field;
  try {
    const record = JSON.parse(line) as Record<string, unknown>;
    const id = record[field];
    if (id === undefined || id === null) return new Error(`the record has no "${field}" field`);
    return typeof identity === "string" ? String(id) : identity.key(record, String(id));
  } catch (error) {
    return error as Error;
  }
}

/** The records of an output file (complete lines only) with their ids, in file order. */
export async function* readRecords(
  file: string,
  identity: RecordIdentity,
): AsyncGenerator<{ id: string; record: Record<string, unknown> }> {
  const path = existsSync(partialPath(file)) ? partialPath(file) : file;
  if (!existsSync(path)) return;
  for await (const { text: line } of storedUtf8Lines(path)) {
    if (line === undefined || line.trim() === "") continue;
    const id = recordId(line, identity);
    if (typeof id !== "string") continue;
    yield { id, record: JSON.parse(line) as Record<string, unknown> };
  }
}
