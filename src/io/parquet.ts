/**
 * Writing rows to Parquet (hyparquet-writer), streamed one row group at a time. Columns are typed
 * explicitly: text is `BYTE_ARRAY` annotated UTF8/STRING; a conversation is a native nested column,
 * the standard three-level LIST of a struct of strings
 * (`messages: LIST<element: STRUCT<role: STRING, content: STRING>>`), which pandas, pyarrow, DuckDB
 * and Hugging Face `datasets` read as a list of dicts. No value is ever null: every column is REQUIRED.
 */
import { renameSync, rmSync } from "node:fs";
import type { SchemaElement } from "hyparquet";

export type ParquetColumn =
  | { name: string; kind: "string" }
  /** A list of structs whose fields are all strings. */
  | { name: string; kind: "struct-list"; fields: readonly string[] };

export const DEFAULT_ROW_GROUP_SIZE = 10_000;

function stringElement(name: string): SchemaElement {
  return { name, type: "BYTE_ARRAY", converted_type: "UTF8", logical_type: { type: "STRING" }, repetition_type: "REQUIRED" };
}

/** The Parquet schema (flattened, root first) for the columns. */
export function parquetSchemaFor(columns: readonly ParquetColumn[]): SchemaElement[] {
  const schema: SchemaElement[] = [{ name: "root", num_children: columns.length }];
  for (const column of columns) {
    if (column.kind === "string") {
      schema.push(stringElement(column.name));
    } else {
      schema.push(
        { name: column.name, repetition_type: "REQUIRED", converted_type: "LIST", logical_type: { type: "LIST" }, num_children: 1 },
        { name: "list", repetition_type: "REPEATED", num_children: 1 },
        { name: "element", repetition_type: "REQUIRED", num_children: column.fields.length },
        ...column.fields.map(stringElement),
      );
    }
  }
  return schema;
}

export interface ParquetWriteOptions {
  /** Rows per row group (default 10,000): what is held in memory at once. */
  rowGroupSize?: number;
  /** Key-value metadata stored in the file footer. */
  metadata?: Record<string, string>;
}

/**
 * Writes rows to `file` via `<file>.partial`, renamed once the footer is written; on failure the
 * partial file is removed. Rows are pulled one row group at a time. Returns the rows written.
 */
export async function writeParquetRows(
  file: string,
  columns: readonly ParquetColumn[],
  rows: AsyncIterable<Record<string, unknown>>,
  options: ParquetWriteOptions = {},
): Promise<number> {
  // Loaded on first use: only Parquet exports need the writer.
  const { fileWriter, parquetWriteRows } = await import("hyparquet-writer");
  const partial = `${file}.partial`;
  let count = 0;
  async function* counted(): AsyncGenerator<Record<string, unknown>> {
    for await (const row of rows) {
      count++;
      yield row;
    }
  }
  try {
    await parquetWriteRows({
      writer: fileWriter(partial),
      rows: counted(),
      columns: columns.map((column) => ({ name: column.name, nullable: false })),
      schema: parquetSchemaFor(columns),
      rowGroupSize: options.rowGroupSize ?? DEFAULT_ROW_GROUP_SIZE,
      kvMetadata: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
      createdBy: "spri (hyparquet-writer)",
    });
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  renameSync(partial, file);
  return count;
}
