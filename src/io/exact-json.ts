/**
 * JSON numbers are doubles: an integer beyond 2^53 loses digits (9007199254740993 reads as
 * ...992), so two ids can collapse into one. spri reads such an integer as a string of its exact
 * digits, as it reads a Parquet INT64 (see `plainValue`); every other number stays a number.
 */

const INTEGER = /^-?\d+$/;
/** 2^53 has 16 digits: a text without a run of 16 digits holds no unsafe integer. */
const LONG_DIGITS = /\d{16}/;

/** A JSON number's source text as spri reads it. */
export function exactNumber(source: string): number | string {
  const value = Number(source);
  return Number.isSafeInteger(value) || !INTEGER.test(source) ? value : source;
}

type Reviver = (key: string, value: unknown, context: { source?: string }) => unknown;

const keepDigits: Reviver = (_key, value, context) =>
  typeof value === "number" && !Number.isSafeInteger(value) && context.source !== undefined ? exactNumber(context.source) : value;

/** `JSON.parse`, with integers beyond 2^53 as strings of their digits. */
export function parseExactJson(text: string): unknown {
  // The reviver (which sees each number's source text) costs time: only texts that may need it pay.
  return LONG_DIGITS.test(text) ? JSON.parse(text, keepDigits as Parameters<typeof JSON.parse>[1]) : JSON.parse(text);
}
