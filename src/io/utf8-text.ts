/**
 * Input files are UTF-8, and a byte that is not is an error that names its line, never a silent
 * U+FFFD in a prompt. Two readings: whole text in chunks for the parsers that take a stream (JSON,
 * CSV), which ends at the first bad line; and line by line for JSON Lines, where one bad line is
 * one malformed item and the lines after it still count. A leading byte-order mark is dropped.
 */
import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { type Duplex, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { InputError } from "../base/errors/errors.ts";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export function notUtf8Error(file: string, line: number): InputError {
  return new InputError("the line is not valid UTF-8", {
    file,
    line,
    hint: "save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in > out`), or fix the bytes on that line",
  });
}

/** How far `utf8Text` has read. */
export interface TextRead {
  /** Line breaks (`\n`, `\r\n` or a lone `\r`): at the end, the file's lines less one. */
  breaks: number;
  /** UTF-16 code units of text yielded (as string offsets count). */
  chars: number;
  /** The last chunk ended with `\r`: a `\n` starting the next one belongs to that break. */
  endsWithCr?: boolean;
}

/**
 * The file's text in chunks, each ending on a whole character. Throws `notUtf8Error` at the first
 * invalid or cut-off sequence.
 */
export async function* utf8Text(file: string, read: TextRead = { breaks: 0, chars: 0 }): AsyncGenerator<string> {
  let carry: Buffer | undefined;
  let first = true;
  for await (const chunk of fileBytes(file)) {
    let bytes = carry ? Buffer.concat([carry, chunk]) : chunk;
    if (first && bytes.length >= BOM.length) {
      first = false;
      if (bytes.subarray(0, BOM.length).equals(BOM)) bytes = bytes.subarray(BOM.length);
    }
    // A character cut by the read waits for the rest of its bytes in the next one.
    const whole = wholeCharacters(bytes);
    carry = whole < bytes.length ? Buffer.from(bytes.subarray(whole)) : undefined;
    const text = bytes.subarray(0, whole);
    if (!isUtf8(text)) throw notUtf8Error(file, read.breaks + 1 + firstBadLine(text, read.endsWithCr === true));
    if (text.length === 0) continue;
    countBreaks(text, read);
    const decoded = text.toString("utf8");
    read.chars += decoded.length;
    yield decoded;
  }
  if (carry) throw notUtf8Error(file, read.breaks + 1);
}

/**
 * The file's bytes; a `.gz` file's unpacked (datasets are often published so), where bytes that are
 * not gzip are an InputError naming the file.
 */
export async function* fileBytes(file: string): AsyncGenerator<Buffer> {
  const raw = createReadStream(file);
  if (!/\.gz$/i.test(file)) {
    yield* raw as AsyncIterable<Buffer>;
    return;
  }
  const gunzip = createGunzip();
  raw.on("error", (error) => gunzip.destroy(error));
  try {
    yield* raw.pipe(gunzip) as AsyncIterable<Buffer>;
  } catch (error) {
    if (!String((error as { code?: unknown }).code).startsWith("Z_")) throw error;
    throw new InputError(`not a valid gzip file: ${(error as Error).message}`, {
      file,
      cause: error,
      hint: "the name ends in .gz, so spri unpacks it: download it again, or rename it if it is not compressed",
    });
  } finally {
    raw.destroy();
    gunzip.destroy();
  }
}

/**
 * The file's text piped through a parser stream (text in, parsed values out), yielded as the parser
 * gives them; a bad byte ends the stream with `notUtf8Error`.
 */
export async function* parseUtf8(file: string, read: TextRead, parser: Duplex): AsyncGenerator<unknown> {
  const feeding = pipeline(Readable.from(utf8Text(file, read)), parser);
  try {
    yield* parser;
    await feeding;
  } finally {
    // A consumer that stops early must not leave the file open.
    parser.destroy();
    await feeding.catch(() => undefined);
  }
}

/** A line of a file: its 1-based number, its length in bytes as read (without its `\n`), and its text. */
export interface TextLine {
  line: number;
  bytes: number;
  /** Without a leading byte-order mark and a closing `\r`; undefined when the line is not valid UTF-8. */
  text: string | undefined;
}

/** The file's lines (a `.gz` file's unpacked), split at `\n` only. */
export function utf8Lines(file: string): AsyncGenerator<TextLine> {
  return textLines(byteLines(fileBytes(file)));
}

/**
 * `utf8Lines` of the file as stored, never unpacked whatever its name, so the lines' `bytes` add up
 * to byte offsets in the file (spri's own output files).
 */
export function storedUtf8Lines(file: string): AsyncGenerator<TextLine> {
  return textLines(byteLines(createReadStream(file) as AsyncIterable<Buffer>));
}

async function* textLines(lines: AsyncIterable<Buffer>): AsyncGenerator<TextLine> {
  let line = 0;
  for await (const raw of lines) {
    line++;
    let bytes = raw;
    if (line === 1 && bytes.subarray(0, BOM.length).equals(BOM)) bytes = bytes.subarray(BOM.length);
    if (bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, -1);
    yield { line, bytes: raw.length, text: isUtf8(bytes) ? bytes.toString("utf8") : undefined };
  }
}

async function* byteLines(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a); end >= 0; end = chunk.indexOf(0x0a, start)) {
      parts.push(chunk.subarray(start, end));
      yield parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      parts = [];
      start = end + 1;
    }
    if (start < chunk.length) parts.push(chunk.subarray(start));
  }
  if (parts.length > 0) yield Buffer.concat(parts);
}

/** How many leading bytes end on a whole character (a cut-off sequence at the end is left out). */
function wholeCharacters(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return size > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

/** 0-based index of the first line of `bytes` that is not valid UTF-8 (breaks as in `countBreaks`). */
function firstBadLine(bytes: Buffer, afterCr: boolean): number {
  let index = 0;
  let start = afterCr && bytes[0] === 0x0a ? 1 : 0;
  for (let at = start; at < bytes.length; at++) {
    const byte = bytes[at];
    if (byte !== 0x0a && byte !== 0x0d) continue;
    if (!isUtf8(bytes.subarray(start, at))) return index;
    if (byte === 0x0d && bytes[at + 1] === 0x0a) at++;
    index++;
    start = at + 1;
  }
  return index;
}

/** Adds the line breaks in `bytes` to `read`: `\n`, `\r\n` and a lone `\r` (old Mac files) count one each. */
function countBreaks(bytes: Buffer, read: TextRead): void {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) count++;
  for (let at = bytes.indexOf(0x0d); at >= 0; at = bytes.indexOf(0x0d, at + 1)) {
    if (bytes[at + 1] !== 0x0a) count++;
  }
  // A `\r\n` cut by the read: its `\r` was counted as a lone one, so its `\n` does not count.
  if (read.endsWithCr && bytes[0] === 0x0a) count--;
  read.breaks += count;
  read.endsWithCr = bytes[bytes.length - 1] === 0x0d;
}
