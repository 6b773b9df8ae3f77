/**
 * Python's `ast.literal_eval(text)` for the subset of Python literal syntax that generated rubrics
 * use. The SPRI reference parses every generated rubric with it and, on *any* failure, puts the
 * rubric text verbatim into the grading prompt, so what it accepts and what it rejects both decide
 * the prompt the judge sees. Semantics follow CPython 3.11:
 *
 * - The text is parsed as one expression in `eval` mode after `lstrip(" \t")`: only spaces and tabs
 *   go from the front, so `"\n  {…}"` is an IndentationError, while a blank or comment line before
 *   the expression (`### Rubric:\n{…}`) and trailing blank or comment lines (`{…}\n###`) are fine.
 * - Outside brackets an expression cannot span lines (except by a backslash continuation); inside
 *   brackets newlines, indentation and comments are free. A later non-blank line is a SyntaxError, an
 *   indented one an IndentationError, and so is a last line of only spaces with no newline after it.
 * - Literals: strings (`'…'`, `"…"`, triple-quoted; prefixes `r`, `u` in any case; escapes `\\ \' \"
 *   \a \b \f \n \r \t \v \ooo \xhh \uXXXX \UXXXXXXXX`, backslash-newline, unknown escapes kept as
 *   written), adjacent strings concatenated, ints (decimal, `0x`, `0o`, `0b`, underscores; no
 *   leading zeros), floats, `True`, `False`, `None`, a sign on a number, tuples, lists, dicts
 *   (duplicate keys: the last value at the first key's place), sets, `set()`, trailing commas.
 * - Rejected as Python rejects them: names (`true`, `null`, `criteria`), calls other than `set()`,
 *   operators, subscripts, f-strings, `**` unpacking, unhashable dict keys or set members.
 *
 * Not supported, and so rejected although Python accepts them (no generated rubric uses them):
 * bytes literals, complex numbers, `...`, and `\N{name}` escapes.
 */
import { pyReprString } from "../util/python.ts";

export type PyValue =
  | { kind: "str"; value: string }
  | { kind: "int"; value: bigint }
  | { kind: "float"; value: number }
  | { kind: "bool"; value: boolean }
  | { kind: "none" }
  | { kind: "list"; items: PyValue[] }
  | { kind: "tuple"; items: PyValue[] }
  | { kind: "set"; items: PyValue[] }
  | { kind: "dict"; entries: [PyValue, PyValue][] };

/** The Python exception the reference would see, with its message. */
export class LiteralEvalError extends Error {
  readonly pythonType: "SyntaxError" | "IndentationError" | "ValueError" | "TypeError" | "Unsupported";
  readonly offset: number;

  constructor(pythonType: LiteralEvalError["pythonType"], message: string, offset: number) {
    super(`${pythonType}: ${message} (at ${offset})`);
    this.name = "LiteralEvalError";
    this.pythonType = pythonType;
    this.offset = offset;
  }
}

/** `ast.literal_eval(text)`; throws LiteralEvalError where Python raises. */
export function literalEval(text: string): PyValue {
  return new Parser(text).parseSource();
}

/** `literalEval`, or undefined where Python would raise. */
export function tryLiteralEval(text: string): PyValue | undefined {
  try {
    return literalEval(text);
  } catch (error) {
    if (error instanceof LiteralEvalError) return undefined;
    throw error;
  }
}

/** `d[key]` for a str key: undefined when `d` is not a dict (TypeError) or lacks the key (KeyError). */
export function dictGet(value: PyValue, key: string): PyValue | undefined {
  if (value.kind !== "dict") return undefined;
  return value.entries.find(([k]) => k.kind === "str" && k.value === key)?.[1];
}

/** Python `str(value)`, as `str.format` inserts it. */
export function pyStr(value: PyValue): string {
  return value.kind === "str" ? value.value : pyReprValue(value);
}

/** Python `repr(value)`. */
export function pyReprValue(value: PyValue): string {
  switch (value.kind) {
    case "str":
      return pyReprString(value.value);
    case "int":
      return value.value.toString();
    case "float":
      return reprFloat(value.value);
    case "bool":
      return value.value ? "True" : "False";
    case "none":
      return "None";
    case "list":
      return `[${value.items.map(pyReprValue).join(", ")}]`;
    case "tuple":
      return value.items.length === 1 ? `(${pyReprValue(value.items[0]!)},)` : `(${value.items.map(pyReprValue).join(", ")})`;
    case "set":
      return value.items.length === 0 ? "set()" : `{${value.items.map(pyReprValue).join(", ")}}`;
    case "dict":
      return `{${value.entries.map(([k, v]) => `${pyReprValue(k)}: ${pyReprValue(v)}`).join(", ")}}`;
  }
}

/** A plain JSON-like view (dict keys through `str()`), for callers that only read the data. */
export function toJs(value: PyValue): unknown {
  switch (value.kind) {
    case "str":
    case "bool":
      return value.value;
    case "int":
      return Number(value.value);
    case "float":
      return value.value;
    case "none":
      return null;
    case "list":
    case "tuple":
    case "set":
      return value.items.map(toJs);
    case "dict":
      return Object.fromEntries(value.entries.map(([k, v]) => [pyStr(k), toJs(v)]));
  }
}

// ---------------------------------------------------------------------------------------------------

/** Python `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
function reprFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace(".", "");
  const sign = x < 0 ? "-" : "";
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function pyEquals(a: PyValue, b: PyValue): boolean {
  const num = (v: PyValue): number | bigint | undefined =>
    v.kind === "int" ? v.value : v.kind === "float" ? v.value : v.kind === "bool" ? (v.value ? 1n : 0n) : undefined;
  const na = num(a);
  const nb = num(b);
  if (na !== undefined || nb !== undefined) {
    if (na === undefined || nb === undefined) return false;
    // Python compares ints, floats and bools by value.
    return typeof na === typeof nb ? na === nb : Number(na) === Number(nb);
  }
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case "str":
      return a.value === (b as typeof a).value;
    case "none":
      return true;
    case "tuple": {
      const other = b as typeof a;
      return a.items.length === other.items.length && a.items.every((item, i) => pyEquals(item, other.items[i]!));
    }
    default:
      return false;
  }
}

function isHashable(value: PyValue): boolean {
  if (value.kind === "list" || value.kind === "dict" || value.kind === "set") return false;
  if (value.kind === "tuple") return value.items.every(isHashable);
  return true;
}

const SIMPLE_ESCAPES: Record<string, string> = {
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

class Parser {
  private readonly src: string;
  private pos = 0;
  /** Bracket nesting: inside brackets newlines and comments are insignificant. */
  private depth = 0;

  constructor(text: string) {
    // Python reads source text with universal newlines; `lstrip(" \t")` is literal_eval's own.
    this.src = text.replace(/^[ \t]+/, "").replace(/\r\n?/g, "\n");
  }

  parseSource(): PyValue {
    if (this.src.includes("\0")) this.fail("SyntaxError", "source code cannot contain null bytes");
    this.skipBlankLines(true);
    const value = this.parseTestlist();
    this.skipInline();
    if (this.pos < this.src.length && this.peek() !== "\n" && this.peek() !== "#") this.fail("SyntaxError", "invalid syntax");
    this.skipComment();
    if (this.peek() === "\n") {
      this.pos++;
      this.skipBlankLines(false);
    }
    return value;
  }

  // --- layout ---------------------------------------------------------------------------------------

  private fail(type: LiteralEvalError["pythonType"], message: string, at = this.pos): never {
    throw new LiteralEvalError(type, message, at);
  }

  private peek(offset = 0): string {
    return this.src[this.pos + offset] ?? "";
  }

  private skipComment(): void {
    if (this.peek() !== "#") return;
    while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
  }

  /**
   * Top-level lines around the expression, from the start of a line: blank and comment lines are
   * skipped. Before the expression (`before`), the first line with content is the expression and
   * must start at column 0 (the first line was lstripped); after it, any content is an error. A last
   * line of only whitespace with no newline after it is an IndentationError past column 0.
   */
  private skipBlankLines(before: boolean): void {
    for (;;) {
      let column = 0;
      for (;;) {
        const ch = this.peek();
        if (ch === " ") column++;
        else if (ch === "\t") column = (Math.floor(column / 8) + 1) * 8;
        else if (ch === "\f") column = 0;
        else break;
        this.pos++;
      }
      if (this.pos >= this.src.length) {
        if (column > 0) this.fail("IndentationError", "unexpected indent at the end of the source");
        if (before) this.fail("SyntaxError", "invalid syntax: no expression");
        return;
      }
      const ch = this.peek();
      if (ch === "#") this.skipComment();
      if (this.pos >= this.src.length) {
        if (before) this.fail("SyntaxError", "invalid syntax: no expression");
        return;
      }
      if (this.peek() === "\n") {
        this.pos++;
        continue;
      }
      if (!before) this.fail(column > 0 ? "IndentationError" : "SyntaxError", "invalid syntax: content after the expression");
      if (column > 0) this.fail("IndentationError", "unexpected indent");
      return;
    }
  }

  /** Whitespace between tokens: within the line at top level, anything insignificant in brackets. */
  private skipInline(): void {
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos]!;
      if (ch === " " || ch === "\t" || ch === "\f") this.pos++;
      else if (ch === "\\") {
        if (this.peek(1) !== "\n") this.fail("SyntaxError", "unexpected character after line continuation character");
        this.pos += 2;
        if (this.pos >= this.src.length) this.fail("SyntaxError", "unexpected end of source after a line continuation");
      } else if (this.depth > 0 && ch === "\n") this.pos++;
      else if (this.depth > 0 && ch === "#") this.skipComment();
      else break;
    }
  }

  private expect(ch: string): void {
    this.skipInline();
    if (this.peek() !== ch) this.fail("SyntaxError", `expected "${ch}"`);
    this.pos++;
  }

  // --- grammar --------------------------------------------------------------------------------------

  /** `expr (',' expr)* [',']`: a tuple when there is a comma. */
  private parseTestlist(): PyValue {
    const first = this.parseExpression();
    this.skipInline();
    if (this.peek() !== ",") return first;
    const items = [first];
    while (this.peek() === ",") {
      this.pos++;
      this.skipInline();
      if (!this.startsExpression()) break;
      items.push(this.parseExpression());
      this.skipInline();
    }
    return { kind: "tuple", items };
  }

  private startsExpression(): boolean {
    const ch = this.peek();
    return ch !== "" && /[\p{L}\p{N}_'"([{+\-.]/u.test(ch);
  }

  private parseExpression(): PyValue {
    const value = this.parseAtom();
    this.skipInline();
    const ch = this.peek();
    // Anything that continues an expression makes it a non-literal (ValueError) or bad syntax.
    if (ch === "[" || ch === "(" || ch === ".") this.fail("ValueError", "malformed node or string: not a literal");
    if (/^[+-][ \t]*[0-9.][0-9_.eE]*[jJ]/.test(this.src.slice(this.pos, this.pos + 64)))
      this.fail("Unsupported", "complex numbers are not supported");
    if (/[+\-*/%@<>=!&|^~]/.test(ch)) this.fail("ValueError", "malformed node or string: an operator");
    if (/[\p{L}_]/u.test(ch)) this.fail("ValueError", "malformed node or string");
    return value;
  }

  private parseAtom(): PyValue {
    this.skipInline();
    const ch = this.peek();
    if (ch === "") this.fail("SyntaxError", "unexpected end of source");
    if (ch === "{") return this.parseBraces();
    if (ch === "[") return this.parseList();
    if (ch === "(") return this.parseParens();
    if (ch === "+" || ch === "-") return this.parseSigned();
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(this.peek(1)))) return this.parseNumber();
    if (ch === "'" || ch === '"') return this.parseStrings();
    if (this.src.startsWith("...", this.pos)) this.fail("Unsupported", "Ellipsis is not supported");
    if (/[\p{L}_]/u.test(ch)) return this.parseName();
    return this.fail("SyntaxError", `invalid syntax at "${ch}"`);
  }

  private parseSigned(): PyValue {
    const negative = this.peek() === "-";
    this.pos++;
    this.skipInline();
    const ch = this.peek();
    if (!(/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(this.peek(1)))))
      this.fail("ValueError", "malformed node or string: a sign on a non-number");
    const value = this.parseNumber();
    if (!negative) return value;
    return value.kind === "int" ? { kind: "int", value: -value.value } : { kind: "float", value: -(value as { value: number }).value };
  }

  private parseName(): PyValue {
    const start = this.pos;
    while (/[\p{L}\p{N}_]/u.test(this.peek())) this.pos++;
    const name = this.src.slice(start, this.pos);
    const next = this.peek();
    if ((next === "'" || next === '"') && /^[rRuUbBfF]{1,2}$/.test(name)) {
      this.pos = start;
      return this.parseStrings();
    }
    if (name === "True") return { kind: "bool", value: true };
    if (name === "False") return { kind: "bool", value: false };
    if (name === "None") return { kind: "none" };
    if (name === "set") {
      this.skipInline();
      if (this.peek() === "(") {
        this.pos++;
        this.depth++;
        this.skipInline();
        const close = this.peek() === ")";
        this.depth--;
        if (close) {
          this.pos++;
          return { kind: "set", items: [] };
        }
      }
    }
    return this.fail("ValueError", `malformed node or string: the name ${name}`, start);
  }

  private parseSequence(close: string): { items: PyValue[]; trailingComma: boolean } {
    this.pos++;
    this.depth++;
    const items: PyValue[] = [];
    let trailingComma = false;
    this.skipInline();
    while (this.peek() !== close) {
      items.push(this.parseExpression());
      this.skipInline();
      if (this.peek() === ",") {
        this.pos++;
        trailingComma = true;
        this.skipInline();
      } else {
        trailingComma = false;
        if (this.peek() !== close) this.fail("SyntaxError", `expected "," or "${close}"`);
      }
    }
    this.pos++;
    this.depth--;
    return { items, trailingComma };
  }

  private parseList(): PyValue {
    return { kind: "list", items: this.parseSequence("]").items };
  }

  private parseParens(): PyValue {
    const { items, trailingComma } = this.parseSequence(")");
    if (items.length === 1 && !trailingComma) return items[0]!;
    return { kind: "tuple", items };
  }

  private parseBraces(): PyValue {
    this.pos++;
    this.depth++;
    this.skipInline();
    if (this.peek() === "}") {
      this.pos++;
      this.depth--;
      return { kind: "dict", entries: [] };
    }
    if (this.peek() === "*") this.fail("ValueError", "malformed node or string: ** unpacking");
    const firstAt = this.pos;
    const first = this.parseExpression();
    this.skipInline();
    if (this.peek() === ":") return this.parseDictRest(first, firstAt);
    const items: PyValue[] = [first];
    for (;;) {
      this.skipInline();
      if (this.peek() === "}") break;
      this.expect(",");
      this.skipInline();
      if (this.peek() === "}") break;
      items.push(this.parseExpression());
    }
    this.pos++;
    this.depth--;
    const set: PyValue[] = [];
    for (const item of items) {
      if (!isHashable(item)) this.fail("TypeError", "unhashable set member", firstAt);
      if (!set.some((s) => pyEquals(s, item))) set.push(item);
    }
    return { kind: "set", items: set };
  }

  private parseDictRest(firstKey: PyValue, firstAt: number): PyValue {
    const pairs: [PyValue, PyValue][] = [];
    let key = firstKey;
    for (;;) {
      this.expect(":");
      const value = this.parseExpression();
      pairs.push([key, value]);
      this.skipInline();
      if (this.peek() === "}") break;
      this.expect(",");
      this.skipInline();
      if (this.peek() === "}") break;
      if (this.peek() === "*") this.fail("ValueError", "malformed node or string: ** unpacking");
      key = this.parseExpression();
    }
    this.pos++;
    this.depth--;
    const entries: [PyValue, PyValue][] = [];
    for (const [k, v] of pairs) {
      if (!isHashable(k)) this.fail("TypeError", "unhashable dict key", firstAt);
      const existing = entries.find(([e]) => pyEquals(e, k));
      if (existing) existing[1] = v;
      else entries.push([k, v]);
    }
    return { kind: "dict", entries };
  }

  // --- numbers --------------------------------------------------------------------------------------

  private parseNumber(): PyValue {
    const rest = this.src.slice(this.pos);
    const radix = /^0([xXoObB])((?:_?[0-9a-zA-Z])+)/.exec(rest);
    if (radix) {
      const base = { x: 16, o: 8, b: 2 }[radix[1]!.toLowerCase() as "x" | "o" | "b"];
      const digits = radix[2]!.replace(/_/g, "");
      const valid = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : /^[01]+$/;
      if (!valid.test(digits)) this.fail("SyntaxError", "invalid digit in a number literal");
      this.pos += radix[0].length;
      this.checkNumberEnd();
      const prefix = base === 16 ? "0x" : base === 8 ? "0o" : "0b";
      return { kind: "int", value: BigInt(prefix + digits) };
    }
    const digitpart = String.raw`[0-9](?:_?[0-9])*`;
    const float = new RegExp(
      String.raw`^(?:(?:${digitpart})?\.${digitpart}|${digitpart}\.)(?:[eE][+-]?${digitpart})?|^${digitpart}[eE][+-]?${digitpart}`,
    ).exec(rest);
    if (float) {
      this.pos += float[0].length;
      this.checkNumberEnd();
      return { kind: "float", value: Number(float[0].replace(/_/g, "")) };
    }
    const int = new RegExp(`^${digitpart}`).exec(rest);
    if (!int) return this.fail("SyntaxError", "invalid number literal");
    this.pos += int[0].length;
    this.checkNumberEnd();
    const digits = int[0].replace(/_/g, "");
    if (/^0+[1-9]/.test(digits)) this.fail("SyntaxError", "leading zeros in decimal integer literals are not permitted");
    return { kind: "int", value: BigInt(digits) };
  }

  private checkNumberEnd(): void {
    const ch = this.peek();
    if (ch === "j" || ch === "J") this.fail("Unsupported", "complex numbers are not supported");
    if (/[\p{L}\p{N}_.]/u.test(ch)) this.fail("SyntaxError", "invalid number literal");
  }

  // --- strings --------------------------------------------------------------------------------------

  /** One or more adjacent string literals, concatenated. */
  private parseStrings(): PyValue {
    let value = "";
    let any = false;
    for (;;) {
      this.skipInline();
      const start = this.pos;
      let prefix = "";
      while (/[rRuUbBfF]/.test(this.peek()) && prefix.length < 2) prefix += this.src[this.pos++];
      const quote = this.peek();
      if (quote !== "'" && quote !== '"') {
        this.pos = start;
        if (!any) this.fail("SyntaxError", "expected a string");
        break;
      }
      const lower = prefix.toLowerCase();
      if (lower.includes("f")) this.fail("ValueError", "malformed node or string: an f-string", start);
      if (lower.includes("b")) this.fail("Unsupported", "bytes literals are not supported", start);
      if (!["", "r", "u"].includes(lower)) this.fail("SyntaxError", "invalid string prefix", start);
      value += this.parseStringBody(lower === "r");
      any = true;
    }
    return { kind: "str", value };
  }

  private parseStringBody(raw: boolean): string {
    const q = this.peek();
    const triple = this.peek(1) === q && this.peek(2) === q;
    const delimiter = triple ? q.repeat(3) : q;
    this.pos += delimiter.length;
    let out = "";
    for (;;) {
      if (this.pos >= this.src.length) this.fail("SyntaxError", "unterminated string literal");
      const ch = this.src[this.pos]!;
      if (this.src.startsWith(delimiter, this.pos)) {
        this.pos += delimiter.length;
        return out;
      }
      if (ch === "\n" && !triple) this.fail("SyntaxError", "unterminated string literal");
      if (ch !== "\\") {
        out += ch;
        this.pos++;
        continue;
      }
      const next = this.src[this.pos + 1];
      if (next === undefined) this.fail("SyntaxError", "unterminated string literal");
      if (raw) {
        // A backslash keeps the next character (so a quote does not end the string) and stays.
        out += ch + next;
        this.pos += 2;
        continue;
      }
      this.pos += 2;
      if (next === "\n") continue;
      const simple = SIMPLE_ESCAPES[next];
      if (simple !== undefined) {
        out += simple;
        continue;
      }
      if (/[0-7]/.test(next)) {
        let digits = next;
        while (digits.length < 3 && /[0-7]/.test(this.peek())) digits += this.src[this.pos++];
        out += String.fromCodePoint(Number.parseInt(digits, 8));
        continue;
      }
      const hexLength = next === "x" ? 2 : next === "u" ? 4 : next === "U" ? 8 : 0;
      if (hexLength > 0) {
        const hex = this.src.slice(this.pos, this.pos + hexLength);
        if (!new RegExp(`^[0-9a-fA-F]{${hexLength}}$`).test(hex)) this.fail("SyntaxError", `truncated \\${next} escape`);
        const code = Number.parseInt(hex, 16);
        if (code > 0x10ffff) this.fail("SyntaxError", "illegal Unicode character");
        this.pos += hexLength;
        out += String.fromCodePoint(code);
        continue;
      }
      if (next === "N") this.fail("Unsupported", "\\N{name} escapes are not supported");
      // An unknown escape stays as written (Python only warns).
      out += ch + next;
    }
  }
}
