/**
 * The batch lane's request files (see batch-lane.ts): a round's lines are written to temporary
 * files in the lane's directory as the pass collects them, one model per file, a new file when
 * one would pass the Batch API's limits (lines, bytes); the lane renames them into place once the
 * round ends. Each line carries its custom_id (the request's cache key), which the provider's batch
 * format reads back (`requestKeys`) to tell which requests a part holds.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { BatchFormat } from "../../models/batch-provider.ts";

/** One file of a round being written: the lines for one model. */
export interface RoundFile<M extends { id: string }> {
  model: M;
  tmp: string;
  lines: number;
  bytes: number;
  keys: string[];
}

interface OpenFile<M extends { id: string }> extends RoundFile<M> {
  fd: number;
}

export class RoundFiles<M extends { id: string }> {
  private readonly dir: string;
  private readonly maxLines: number;
  private readonly maxBytes: number;
  private files: OpenFile<M>[] = [];
  private seq = 0;

  constructor(dir: string, limits: { maxLines: number; maxBytes: number }) {
    this.dir = dir;
    this.maxLines = limits.maxLines;
    this.maxBytes = limits.maxBytes;
  }

  /** Appends `line` (ending in a newline) for `model`, in a new file when the last one is full. */
  add(round: number, model: M, key: string, line: string): void {
    const bytes = Buffer.byteLength(line);
    let file = this.files.findLast((f) => f.model.id === model.id);
    if (!file || file.lines >= this.maxLines || (file.lines > 0 && file.bytes + bytes > this.maxBytes)) {
      const tmp = join(this.dir, `.round-${round}.${++this.seq}.jsonl.tmp`);
      file = { model, tmp, fd: openSync(tmp, "w"), lines: 0, bytes: 0, keys: [] };
      this.files.push(file);
    }
    writeSync(file.fd, line);
    file.lines++;
    file.bytes += bytes;
    file.keys.push(key);
  }

  /** Closes the files written so far and starts over; `discard` deletes them, else the caller renames them. */
  close(discard: boolean): RoundFile<M>[] {
    const files = this.files;
    this.files = [];
    for (const file of files) {
      closeSync(file.fd);
      if (discard) rmSync(file.tmp, { force: true });
    }
    return files.map(({ fd: _fd, ...file }) => file);
  }
}

/** Deletes temporary files a killed process left in `dir`. */
export function removeTempFiles(dir: string): void {
  for (const name of readdirSync(dir)) if (name.endsWith(".jsonl.tmp")) rmSync(join(dir, name), { force: true });
}

/** The custom ids of a request file's lines, read by the format that wrote them; none when the file is gone. */
export function requestKeys(path: string, format: Pick<BatchFormat, "requestKeyOf">): string[] {
  if (!existsSync(path)) return [];
  const keys: string[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.trim() === "") continue;
    // A line that cannot be read (a damaged request file) matches nothing, which importing reports.
    const key = format.requestKeyOf(line);
    if (key !== undefined) keys.push(key);
  }
  return keys;
}
