/**
 * Reading input items, streamed: nothing here holds more than one item (JSONL, JSON, CSV) or one
 * Parquet row group in memory, so inputs of any length run in bounded memory.
 *
 * Formats, chosen by extension unless `format` says otherwise:
 * - `.jsonl` / `.ndjson` / anything else: JSON Lines, read line by line;
 * - `.json`: one array whose elements stream one at a time (stream-json), or one object (one item);
 * - `.csv` / `.tsv`: a header row names the fields; every value is a string;
 * - `.parquet`: read one row group at a time (hyparquet; pages compressed with Snappy, GZIP,
 *   Brotli, ZSTD or LZ4 via hyparquet-compressors); BigInt becomes a number when it is a safe
 *   integer and a decimal string otherwise, dates become ISO strings, bytes become base64.
 *
 * A text file whose name ends in `.gz` (`rows.jsonl.gz`) is read unpacked, as the format before it.
 *
 * Text formats must be UTF-8 (an invalid byte is an InputError with its line), and a JSON integer
 * beyond 2^53 is read as the string of its digits (exact-json.ts), as a Parquet INT64 is.
 *
 * Each item comes with `line`: the 1-based line in a JSONL file, the line a CSV record starts on, or
 * the 1-based position in a JSON array or Parquet file.
 */
import { existsSync, statSync } from "node:fs";
import type { CsvError } from "csv-parse";
import { InputError } from "../base/errors/errors.ts";
import { exactNumber, parseExactJson } from "./exact-json.ts";
import { notUtf8Error, parseUtf8, type TextRead, utf8Lines } from "./utf8-text.ts";

export type InputFormat = "jsonl" | "json" | "csv" | "tsv" | "parquet";
export const INPUT_FORMATS: readonly InputFormat[] = ["jsonl", "json", "csv", "tsv", "parquet"];

export interface InputRow {
  /** 1-based line number (JSONL; CSV: the line the record starts on), or 1-based position (JSON, Parquet). */
  line: number;
  value: unknown;
  error?: undefined;
}

/** A JSONL line that is not JSON, yielded (not thrown) with `onMalformed: "yield"`. */
export interface MalformedRow {
  line: number;
  error: InputError;
  value?: undefined;
}

export interface ReadInputOptions {
  /** Overrides the format inferred from the extension. */
  format?: InputFormat;
  /**
   * What a malformed JSONL line does: `"throw"` (default) ends the stream with an InputError;
   * `"yield"` hands it over as `{ line, error }` and reads on. Other formats cannot recover from a
   * syntax error and always throw.
   */
  onMalformed?: "throw" | "yield";
}

export function checkInputFile(file: string): void {
  if (!existsSync(file)) throw new InputError("input file does not exist", { file, hint: "check the --input path" });
  if (!statSync(file).isFile()) throw new InputError("input path is not a file", { file });
}

/** The format a file's extension implies: `.json`, `.csv`, `.tsv`, `.parquet`, else JSON Lines; a `.gz` after it is unpacked. */
export function inputFormatOf(file: string): InputFormat {
  const lower = file.toLowerCase().replace(/\.gz$/, "");
  if (lower.endsWith(".json")) return "json";
  if (lower.endsWith(".csv")) return "csv";
  if (lower.endsWith(".tsv") || lower.endsWith(".tab")) return "tsv";
  if (lower.endsWith(".parquet") || lower.endsWith(".pq")) return "parquet";
  return "jsonl";
}

/** Checks a user-given format name. */
export function parseInputFormat(value: string): InputFormat {
  const format = value.toLowerCase() === "ndjson" ? "jsonl" : value.toLowerCase();
  if ((INPUT_FORMATS as readonly string[]).includes(format)) return format as InputFormat;
  throw new InputError(`unknown input format "${value}"`, { field: "format", hint: `use one of ${INPUT_FORMATS.join(", ")}` });
}

export function readInputRows(file: string, options?: ReadInputOptions & { onMalformed?: "throw" }): AsyncGenerator<InputRow>;
export function readInputRows(file: string, options: ReadInputOptions): AsyncGenerator<InputRow | MalformedRow>;
export async function* readInputRows(file: string, options: ReadInputOptions = {}): AsyncGenerator<InputRow | MalformedRow> {
  checkInputFile(file);
  switch (options.format ?? inputFormatOf(file)) {
    case "json":
      yield* readJson(file);
      return;
    case "csv":
      yield* readCsv(file, ",");
      return;
    case "tsv":
      yield* readCsv(file, "\t");
      return;
    case "parquet":
      yield* readParquet(file);
      return;
    default:
      yield* readJsonl(file, options.onMalformed ?? "throw");
  }
}

/** Every row's value of a file of records, in file order: for files small enough to hold whole, such as a run's output. */
export async function readInputRecords(file: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for await (const row of readInputRows(file)) records.push(row.value as Record<string, unknown>);
  return records;
}

/**
 * How many items the file holds, streamed like the reader (Parquet: from its footer alone). JSONL
 * counts non-blank lines, malformed ones included.
 */
export async function countInputRows(file: string, options: Pick<ReadInputOptions, "format"> = {}): Promise<number> {
  checkInputFile(file);
  const format = options.format ?? inputFormatOf(file);
  if (format === "parquet") {
    // The readers of the rarer formats load on first use: a JSONL run never pays for them.
    const { asyncBufferFromFile, parquetMetadataAsync } = await import("hyparquet");
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file)).catch((error: unknown) => {
      throw parquetError(file, error);
    });
    return Number(metadata.num_rows);
  }
  if (format === "jsonl") {
    let count = 0;
    for await (const { text } of utf8Lines(file)) {
      if (text === undefined || text.trim() !== "") count++;
    }
    return count;
  }
  if (format === "json") return countJson(file);
  let count = 0;
  for await (const _row of readCsv(file, format === "tsv" ? "\t" : ",")) count++;
  return count;
}

// ---- JSON Lines ---------------------------------------------------------------------------------

async function* readJsonl(file: string, onMalformed: "throw" | "yield"): AsyncGenerator<InputRow | MalformedRow> {
  for await (const { line, text } of utf8Lines(file)) {
    if (text !== undefined && text.trim() === "") continue;
    let value: unknown;
    try {
      if (text === undefined) throw notUtf8Error(file, line);
      value = parseExactJson(text);
    } catch (error) {
      const malformed =
        error instanceof InputError
          ? error
          : new InputError(`malformed JSON: ${(error as Error).message}`, {
              file,
              line,
              cause: error,
              hint: "fix or remove the line; JSON Lines need one complete object per line",
            });
      if (onMalformed === "throw") throw malformed;
      yield { line, error: malformed };
      continue;
    }
    yield { line, value };
  }
}

// ---- JSON (one array, or one object) ------------------------------------------------------------

type JsonToken = { name: string; value?: unknown };

/** The file's JSON tokens, packed: whole keys, strings and numbers, no chunk tokens. */
async function* jsonTokens(file: string, read: TextRead): AsyncGenerator<JsonToken> {
  const { parser } = await import("stream-json/parser.js");
  yield* parseUtf8(file, read, parser.asStream({ streamValues: false })) as AsyncGenerator<JsonToken>;
}

/** An integer beyond 2^53 becomes a string token of its digits (see exact-json.ts). */
function exactToken(token: JsonToken): JsonToken {
  if (token.name !== "numberValue") return token;
  const value = exactNumber(token.value as string);
  return typeof value === "string" ? { name: "stringValue", value } : token;
}

async function* readJson(file: string): AsyncGenerator<InputRow> {
  const { default: Assembler } = await import("stream-json/assembler.js");
  const assembler = new Assembler();
  const read: TextRead = { breaks: 0, chars: 0 };
  let mode: "start" | "array" | "single" | "end" = "start";
  let position = 0;
  try {
    for await (const token of jsonTokens(file, read)) {
      if (mode === "start") {
        if (token.name === "startArray") {
          mode = "array";
          continue;
        }
        mode = "single";
      }
      if (mode === "array" && assembler.done && token.name === "endArray") {
        mode = "end";
        continue;
      }
      assembler.consume(exactToken(token) as Parameters<InstanceType<typeof Assembler>["consume"]>[0]);
      if (assembler.done) {
        position++;
        yield { line: position, value: assembler.current };
        if (mode === "single") mode = "end";
      }
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw await jsonError(file, error, read, mode === "start" ? undefined : position);
  }
}

async function countJson(file: string): Promise<number> {
  const read: TextRead = { breaks: 0, chars: 0 };
  let depth = 0;
  let count = 0;
  let started = false;
  try {
    for await (const token of jsonTokens(file, read)) {
      const name = token.name;
      if (!started) {
        started = true;
        if (name !== "startArray") return 1;
        depth = 1;
        continue;
      }
      if (name === "startObject" || name === "startArray") {
        if (depth === 1) count++;
        depth++;
      } else if (name === "endObject" || name === "endArray") {
        depth--;
      } else if (depth === 1 && name !== "keyValue") {
        count++;
      }
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw await jsonError(file, error, read, started ? (depth > 1 ? count - 1 : count) : undefined);
  }
  return count;
}

/**
 * A parse error as an InputError. The tokenizer does not say where, so the verifier is asked; an
 * error at the very end of the text is a file cut short (a torn download, a full disk), said as such.
 * `items`: the items read whole before the error, undefined before the first token.
 */
async function jsonError(file: string, error: unknown, read: TextRead, items: number | undefined): Promise<InputError> {
  const { verifyFile } = await import("stream-json/file/verifier.js");
  const found = await verifyFile(file).then(
    () => ({}) as { line?: unknown; pos?: unknown; offset?: unknown },
    (verified: unknown) => verified as { line?: unknown; pos?: unknown; offset?: unknown },
  );
  const line = typeof found.line === "number" ? found.line : undefined;
  const atEnd = typeof found.offset === "number" && found.offset >= read.chars;
  if (atEnd && items === undefined) {
    return new InputError("the JSON file is empty", { file, line, hint: "a .json input holds one array of objects" });
  }
  if (atEnd) {
    return new InputError(`the JSON file ends early, after ${items} complete item${items === 1 ? "" : "s"}: ${(error as Error).message}`, {
      file,
      line,
      cause: error,
      hint: "the file is cut off (an interrupted download or copy?): write it again in full",
    });
  }
  const where = typeof found.pos === "number" ? ` (column ${found.pos})` : "";
  return new InputError(`malformed JSON${where}: ${(error as Error).message}`, {
    file,
    line,
    cause: error,
    hint: "a .json input holds one array of objects; use .jsonl for one object per line",
  });
}

// ---- CSV / TSV ----------------------------------------------------------------------------------

async function* readCsv(file: string, delimiter: string): AsyncGenerator<InputRow> {
  const { parse: parseCsv } = await import("csv-parse");
  const records = parseUtf8(
    file,
    { breaks: 0, chars: 0 },
    parseCsv({
      delimiter,
      columns: (header: string[]) => header.map((name) => name.trim()),
      bom: true,
      info: true,
      raw: true,
      skip_empty_lines: true,
      relax_quotes: delimiter === "\t",
    }),
  );
  // The header is taken to be line 1; each record's raw text (skipped blank lines, the record, its
  // line break) tells where the next one starts.
  let nextLine = 2;
  try {
    for await (const chunk of records as AsyncIterable<{ record: Record<string, string>; raw: string }>) {
      const leading = /^(?:\r\n|\r|\n)*/.exec(chunk.raw)?.[0] ?? "";
      const line = nextLine + countBreaks(leading);
      nextLine += countBreaks(chunk.raw);
      yield { line, value: chunk.record };
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    const csv = error as CsvError & { lines?: number };
    throw new InputError(`malformed ${delimiter === "\t" ? "TSV" : "CSV"}: ${csv.message}`, {
      file,
      line: typeof csv.lines === "number" ? csv.lines : undefined,
      cause: error,
      hint: "every row needs as many fields as the header, with quotes closed",
    });
  }
}

function countBreaks(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) count++;
    else if (c === 13) {
      count++;
      if (text.charCodeAt(i + 1) === 10) i++;
    }
  }
  return count;
}

// ---- Parquet ------------------------------------------------------------------------------------

async function* readParquet(file: string): AsyncGenerator<InputRow> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import("hyparquet");
  // Decompressors for the codecs writers use (Snappy, GZIP, Brotli, ZSTD, LZ4), loaded only for Parquet.
  const { compressors } = await import("hyparquet-compressors");
  let position = 0;
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer).catch((error: unknown) => {
    throw parquetError(file, error);
  });
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    if (rowEnd > rowStart) {
      let rows: Record<string, unknown>[];
      try {
        rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, compressors });
      } catch (error) {
        throw parquetError(file, error, position);
      }
      for (const row of rows) {
        position++;
        yield { line: position, value: plainValue(row) };
      }
    }
    rowStart = rowEnd;
  }
}

function parquetError(file: string, error: unknown, rowsRead?: number): InputError {
  const after = rowsRead ? ` after row ${rowsRead}` : "";
  return new InputError(`unreadable Parquet${after}: ${(error as Error).message}`, {
    file,
    cause: error,
    hint: "check that the file is a complete Parquet file (or pass the right format)",
  });
}

/** Parquet values as JSON-ready values: safe BigInt → number (else string), Date → ISO, bytes → base64. */
export function plainValue(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<unknown>, plainValue);
  if (Array.isArray(value)) return value.map(plainValue);
  if (value instanceof Map) return Object.fromEntries(Array.from(value, ([k, v]) => [String(k), plainValue(v)]));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = plainValue(v);
  return out;
}
