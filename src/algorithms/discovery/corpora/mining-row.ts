/**
 * What a corpus loader turns each published row into: the row `spri discover mine` reads (`prompt`
 * is one of the question fields it looks for, `gold` its default --gold-field), plus the reading
 * helpers the layouts share. A row that does not fit its layout is an InputError naming the file,
 * the line and the field.
 */
import { InputError } from "../../../base/errors/errors.ts";

export interface ChatMessage {
  role: "user" | "assistant" | "system";
  content: string;
}

export interface MiningRow {
  id: string;
  /** The corpus the row came from (hh-rlhf, ultrafeedback, tldr, hotpotqa). */
  source: string;
  /** The request as one text: what the miner sends as the user message. */
  prompt: string;
  /** The reference response the principle step is shown. */
  gold: string;
  /** A multi-turn prompt as messages, when the corpus has turns (HH-RLHF). */
  messages?: ChatMessage[];
}

/** Where a row came from: its file and line, and a label of the file that generated ids carry. */
export interface RowOrigin {
  file: string;
  line: number;
  /** The file as the user named it, or its path in a Hub repository, without the data extension. */
  label: string;
}

export interface LayoutOptions {
  /** hotpotqa: put the context paragraphs before the question (default true). */
  context?: boolean;
}

/** One corpus: how a row of its published layout becomes a mining row. */
export interface CorpusLayout {
  /** The fields a row of each published layout holds, for help texts and errors. */
  readonly layouts: string;
  toMiningRow(row: unknown, origin: RowOrigin, options: LayoutOptions): MiningRow;
}

export function rowError(origin: RowOrigin, field: string, problem: string, hint: string): InputError {
  return new InputError(problem, { file: origin.file, line: origin.line, field, hint });
}

/** The row as an object; a line that holds anything else is refused. */
export function objectRow(row: unknown, origin: RowOrigin, layouts: string): Record<string, unknown> {
  if (typeof row === "object" && row !== null && !Array.isArray(row)) return row as Record<string, unknown>;
  throw new InputError("the row is not an object", { file: origin.file, line: origin.line, hint: `expected ${layouts}` });
}

/** A field that must hold non-blank text; returned trimmed. */
export function requiredText(record: Record<string, unknown>, field: string, origin: RowOrigin, layouts: string): string {
  const value = record[field];
  if (value === undefined || value === null) throw rowError(origin, field, "the field is missing", `expected ${layouts}`);
  if (typeof value !== "string") throw rowError(origin, field, `the field holds ${kindOf(value)}, not text`, `expected ${layouts}`);
  if (value.trim() === "") throw rowError(origin, field, "the field is empty", "remove the row, or pass --skip-invalid");
  return value.trim();
}

/** The row's own id when it has one (a string or a number), else `<source>-<file label>-<line>`. */
export function rowId(source: string, own: unknown, origin: RowOrigin): string {
  if (typeof own === "number" && Number.isFinite(own)) return String(own);
  if (typeof own === "string" && own.trim() !== "") return own;
  const label = origin.label.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  return [source, label, String(origin.line)].filter((part) => part !== "").join("-");
}

export function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
