/**
 * The source text of a Python literal as `literal_eval` reads it, and a position in it: the layout
 * rules (which whitespace, comments, line breaks and continuations may sit between tokens, and
 * where) and the error Python would raise. `literal-tokens.ts` reads numbers and strings from it;
 * `literal-eval.ts` is the grammar on top.
 */

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

export class LiteralScanner {
  readonly src: string;
  /** The next character to read; token readers move it past what they read. */
  pos = 0;
  /** Bracket nesting: inside brackets newlines and comments are insignificant. */
  depth = 0;

  constructor(text: string) {
    // Python reads source text with universal newlines; `lstrip(" \t")` is literal_eval's own.
    this.src = text.replace(/^[ \t]+/, "").replace(/\r\n?/g, "\n");
  }

  fail(type: LiteralEvalError["pythonType"], message: string, at = this.pos): never {
    throw new LiteralEvalError(type, message, at);
  }

  peek(offset = 0): string {
    return this.src[this.pos + offset] ?? "";
  }

  skipComment(): void {
    if (this.peek() !== "#") return;
    while (this.pos < this.src.length && this.src[this.pos] !== "\n") this.pos++;
  }

  /**
   * Top-level lines around the expression, from the start of a line: blank and comment lines are
   * skipped. Before the expression (`before`), the first line with content is the expression and
   * must start at column 0 (the first line was lstripped); after it, any content is an error. A last
   * line of only whitespace with no newline after it is an IndentationError past column 0.
   */
  skipBlankLines(before: boolean): void {
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
  skipInline(): void {
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

  expect(ch: string): void {
    this.skipInline();
    if (this.peek() !== ch) this.fail("SyntaxError", `expected "${ch}"`);
    this.pos++;
  }
}
