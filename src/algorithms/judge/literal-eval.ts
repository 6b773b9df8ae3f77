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
import { LiteralEvalError, LiteralScanner } from "./literal-scanner.ts";
import { readNumber, readStrings } from "./literal-tokens.ts";
import { isHashable, type PyValue, pyEquals } from "./py-value.ts";

/** `ast.literal_eval(text)`; throws LiteralEvalError where Python raises. */
export function literalEval(text: string): PyValue {
  return new LiteralParser(text).parseSource();
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

/**
 * The grammar: one expression (a tuple when commas join several) of literals, lists, tuples, dicts
 * and sets, with the non-literal forms Python would evaluate rejected as `literal_eval` rejects them.
 */
class LiteralParser extends LiteralScanner {
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
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(this.peek(1)))) return readNumber(this);
    if (ch === "'" || ch === '"') return readStrings(this);
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
    const value = readNumber(this);
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
      return readStrings(this);
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
}
