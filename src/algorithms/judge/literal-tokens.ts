/**
 * The two kinds of token of a Python literal that carry text: numbers (ints in any radix, floats)
 * and strings (prefixes, quotes, escapes, adjacent literals), read as CPython's tokenizer reads
 * them from a `LiteralScanner`.
 */
import { pyEscape, type PyEscapeRefusal } from "../../base/util/python.ts";
import type { LiteralEvalError, LiteralScanner } from "./literal-scanner.ts";
import type { PyValue } from "./py-value.ts";

/** An int or float literal (no sign; `literal-eval.ts` reads a sign as part of the grammar). */
export function readNumber(s: LiteralScanner): PyValue {
  const rest = s.src.slice(s.pos);
  const radix = /^0([xXoObB])((?:_?[0-9a-zA-Z])+)/.exec(rest);
  if (radix) {
    const base = { x: 16, o: 8, b: 2 }[radix[1]!.toLowerCase() as "x" | "o" | "b"];
    const digits = radix[2]!.replace(/_/g, "");
    const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : /^[01]+$/;
    if (!valid.test(digits)) s.fail("SyntaxError", "invalid digit in a number literal");
    s.pos += radix[0].length;
    checkNumberEnd(s);
    const prefix = base === 16 ? "0x" : base === 8 ? "0o" : "0b";
    return { kind: "int", value: BigInt(prefix + digits) };
  }
  const digitpart = String.raw`[0-9](?:_?[0-9])*`;
  const float = new RegExp(
    String.raw`^(?:(?:${digitpart})?\.${digitpart}|${digitpart}\.)(?:[eE][+-]?${digitpart})?|^${digitpart}[eE][+-]?${digitpart}`,
  ).exec(rest);
  if (float) {
    s.pos += float[0].length;
    checkNumberEnd(s);
    return { kind: "float", value: Number(float[0].replace(/_/g, "")) };
  }
  const int = new RegExp(`^${digitpart}`).exec(rest);
  if (!int) return s.fail("SyntaxError", "invalid number literal");
  s.pos += int[0].length;
  checkNumberEnd(s);
  const digits = int[0].replace(/_/g, "");
  if (/^0+[1-9]/.test(digits)) s.fail("SyntaxError", "leading zeros in decimal integer literals are not permitted");
  return { kind: "int", value: BigInt(digits) };
}

function checkNumberEnd(s: LiteralScanner): void {
  const ch = s.peek();
  if (ch === "j" || ch === "J") s.fail("Unsupported", "complex numbers are not supported");
  if (/[\p{L}\p{N}_.]/u.test(ch)) s.fail("SyntaxError", "invalid number literal");
}

/** Python's messages for the escapes it refuses (`pyEscape`'s errors). */
const ESCAPE_ERRORS: Record<PyEscapeRefusal, (letter: string) => [LiteralEvalError["pythonType"], string]> = {
  truncated: (letter) => ["SyntaxError", `truncated \\${letter} escape`],
  "beyond-unicode": () => ["SyntaxError", "illegal Unicode character"],
  named: () => ["Unsupported", "\\N{name} escapes are not supported"],
};

/** One or more adjacent string literals, concatenated (`'a' "b"` is `'ab'`). */
export function readStrings(s: LiteralScanner): PyValue {
  let value = "";
  let any = false;
  for (;;) {
    s.skipInline();
    const start = s.pos;
    let prefix = "";
    while (/[rRuUbBfF]/.test(s.peek()) && prefix.length < 2) prefix += s.src[s.pos++];
    const quote = s.peek();
    if (quote !== "'" && quote !== '"') {
      s.pos = start;
      if (!any) s.fail("SyntaxError", "expected a string");
      break;
    }
    const lower = prefix.toLowerCase();
    if (lower.includes("f")) s.fail("ValueError", "malformed node or string: an f-string", start);
    if (lower.includes("b")) s.fail("Unsupported", "bytes literals are not supported", start);
    if (!["", "r", "u"].includes(lower)) s.fail("SyntaxError", "invalid string prefix", start);
    value += readStringBody(s, lower === "r");
    any = true;
  }
  return { kind: "str", value };
}

function readStringBody(s: LiteralScanner, raw: boolean): string {
  const q = s.peek();
  const triple = s.peek(1) === q && s.peek(2) === q;
  const delimiter = triple ? q.repeat(3) : q;
  s.pos += delimiter.length;
  let out = "";
  for (;;) {
    if (s.pos >= s.src.length) s.fail("SyntaxError", "unterminated string literal");
    const ch = s.src[s.pos]!;
    if (s.src.startsWith(delimiter, s.pos)) {
      s.pos += delimiter.length;
      return out;
    }
    if (ch === "\n" && !triple) s.fail("SyntaxError", "unterminated string literal");
    if (ch !== "\\") {
      out += ch;
      s.pos++;
      continue;
    }
    const next = s.src[s.pos + 1];
    if (next === undefined) s.fail("SyntaxError", "unterminated string literal");
    if (raw) {
      // A backslash keeps the next character (so a quote does not end the string) and stays.
      out += ch + next;
      s.pos += 2;
      continue;
    }
    const escape = pyEscape(s.src, s.pos);
    // Python reports a refused escape just past its letter.
    if ("error" in escape) s.fail(...ESCAPE_ERRORS[escape.error](escape.letter), s.pos + 2);
    out += escape.value;
    s.pos += escape.length;
  }
}
