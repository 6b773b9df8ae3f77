/**
 * Python string semantics the SPRI reference relies on. Reproducing the paper's prompts byte for
 * byte needs these exact behaviours; porting them as "close enough" JS breaks the replay.
 */
import { ConfigError } from "../errors/errors.ts";

/** Characters Python's `str.strip()` removes (str.isspace). */
const PY_WHITESPACE =
  " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

/** Python `s.strip(chars)`; whitespace when `chars` is omitted. */
export function pyStrip(text: string, chars: string = PY_WHITESPACE): string {
  let start = 0;
  let end = text.length;
  while (start < end && chars.includes(text[start]!)) start++;
  while (end > start && chars.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** The reference's output cleaner: `s.strip("\n#").strip()`. A `#` after a leading space survives. */
export function pythonClean(text: string): string {
  return pyStrip(pyStrip(text, "\n#"));
}

/** Our default cleaner: whitespace and markdown `#` removed from both ends. */
export function saneClean(text: string): string {
  return text.replace(/^[\s#]+|[\s#]+$/gu, "");
}

/**
 * Python `str.format(**fields)`: one pass over `{name}` fields, `{{`/`}}` as literal braces, values
 * never re-scanned, extra fields ignored, a missing field is an error (KeyError in Python).
 */
export function pyFormat(template: string, fields: Readonly<Record<string, string>>, templateName = "template"): string {
  // Literal runs are copied as slices between braces: one string per run, not one per character
  // (prompts are built for every call; a character-wise copy was a quarter of a run's allocations).
  let out = "";
  let i = 0;
  while (i < template.length) {
    const brace = nextBrace(template, i);
    if (brace > i) out += template.slice(i, brace);
    if (brace === template.length) break;
    const ch = template[brace]!;
    if (template[brace + 1] === ch) {
      out += ch;
      i = brace + 2;
    } else if (ch === "}") {
      out += ch;
      i = brace + 1;
    } else {
      const close = template.indexOf("}", brace);
      const name = close < 0 ? "" : template.slice(brace + 1, close);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new ConfigError(`unsupported format field "{${name}" in ${templateName}`, {
          hint: "use {name} fields only, and write a literal brace as {{ or }}",
        });
      }
      const value = fields[name];
      if (value === undefined) {
        throw new ConfigError(`${templateName} uses the field {${name}}, which this task does not provide`, {
          hint: `available fields: ${Object.keys(fields).join(", ")}`,
        });
      }
      out += value;
      i = close + 1;
    }
  }
  return out;
}

/** The index of the first `{` or `}` at or after `from`, or the text's length. */
function nextBrace(text: string, from: number): number {
  const open = text.indexOf("{", from);
  const close = text.indexOf("}", from);
  if (open < 0) return close < 0 ? text.length : close;
  return close < 0 ? open : Math.min(open, close);
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function escapeChar(ch: string): string {
  switch (ch) {
    case "\\":
      return "\\\\";
    case "\n":
      return "\\n";
    case "\r":
      return "\\r";
    case "\t":
      return "\\t";
  }
  if (ch !== " " && NON_PRINTABLE.test(ch)) {
    const code = ch.codePointAt(0)!;
    if (code <= 0xff) return `\\x${code.toString(16).padStart(2, "0")}`;
    if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, "0")}`;
    return `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return ch;
}

/** Python `repr(str)`: single quotes unless the text has `'` and no `"`. */
export function pyReprString(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let body = "";
  for (const ch of text) body += ch === quote ? `\\${ch}` : escapeChar(ch);
  return quote + body + quote;
}

/** Python `str(value)` for JSON-like values: dicts and lists in Python literal syntax. */
export function pyRepr(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "string") return pyReprString(value);
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    if (Number.isInteger(value) && !Object.is(value, -0)) return String(value);
    return Number.isFinite(value) ? String(value) : value > 0 ? "inf" : value < 0 ? "-inf" : "nan";
  }
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(", ")}]`;
  if (typeof value === "object") {
    const parts = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${pyReprString(k)}: ${pyRepr(v)}`);
    return `{${parts.join(", ")}}`;
  }
  return String(value);
}

/** Python `open(path).read()` text: universal newlines turn CRLF and lone CR into LF. */
export function universalNewlines(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

const PY_FLOAT_NUMBER = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const PY_FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;

/**
 * Python `float(text)` for a str: surrounding whitespace allowed, `_` only between digits, `inf`,
 * `infinity` and `nan` in any case; null where Python raises ValueError. ASCII digits only (Python
 * also reads other Unicode decimal digits).
 */
export function pyFloat(text: string): number | null {
  const literal = pyStrip(text);
  const special = PY_FLOAT_SPECIAL.exec(literal);
  if (special) return special[2]!.toLowerCase() === "nan" ? Number.NaN : special[1] === "-" ? -Infinity : Infinity;
  return PY_FLOAT_NUMBER.test(literal) ? Number(literal.replaceAll("_", "")) : null;
}

/**
 * Python `round(value, digits)`: the nearest number with that many decimals, where a value exactly
 * halfway (in its binary value, so 2.675 is not: it is 2.67499…) goes to the even digit.
 */
export function pyRound(value: number, digits: number): number {
  if (!Number.isFinite(value) || Math.abs(value) >= 1e21) return value;
  // toFixed(100) is the exact decimal expansion of every double this size that has a fraction.
  const exact = value.toFixed(100);
  const point = exact.indexOf(".");
  const kept = exact.slice(0, point + 1 + digits);
  const rest = exact.slice(point + 1 + digits);
  const tie = /^50*$/.test(rest);
  const lastDigit = Number(kept.replace(/\.$/, "").at(-1));
  return tie && lastDigit % 2 === 0 ? Number(kept.replace(/\.$/, "")) : Number(value.toFixed(digits));
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  "\n": "",
  "\\": "\\",
  "'": "'",
  '"': '"',
  a: "\x07",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
  v: "\v",
};

/** What a backslash escape stands for and how many characters it takes, or why Python refuses it (`letter`: the one after the backslash). */
export type PyEscape = { value: string; length: number } | { error: PyEscapeRefusal; letter: string };
export type PyEscapeRefusal = "truncated" | "beyond-unicode" | "named";

/**
 * The backslash escape at `text[at]` in a string literal that is not raw, as Python's tokenizer reads
 * it: simple escapes, a line continuation, octal, `\x`, `\u` and `\U`; an unknown escape stays as
 * written (Python only warns). `\N{name}` is refused: it would need Unicode's name table.
 */
export function pyEscape(text: string, at: number): PyEscape {
  const letter = text[at + 1] ?? "";
  const simple = SIMPLE_ESCAPES[letter];
  if (simple !== undefined) return { value: simple, length: 2 };
  const octal = /^[0-7]{1,3}/.exec(text.slice(at + 1, at + 4));
  if (octal) return { value: String.fromCodePoint(Number.parseInt(octal[0], 8)), length: 1 + octal[0].length };
  const hexLength = letter === "x" ? 2 : letter === "u" ? 4 : letter === "U" ? 8 : 0;
  if (hexLength > 0) {
    const hex = text.slice(at + 2, at + 2 + hexLength);
    if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) return { error: "truncated", letter };
    const code = Number.parseInt(hex, 16);
    if (code > 0x10ffff) return { error: "beyond-unicode", letter };
    return { value: String.fromCodePoint(code), length: 2 + hexLength };
  }
  if (letter === "N") return { error: "named", letter };
  return { value: `\\${letter}`, length: 2 };
}
