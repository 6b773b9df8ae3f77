import assert from "node:assert/strict";
import { test } from "node:test";
import { pyReprValue } from "./py-value.ts";
import { LiteralEvalError, LiteralScanner } from "./literal-scanner.ts";
import { readNumber, readStrings } from "./literal-tokens.ts";

/** Reads one token at the start of `text`; returns its repr and where the scanner stopped. */
function read(reader: typeof readNumber, text: string): [string, number] {
  const scanner = new LiteralScanner(text);
  return [pyReprValue(reader(scanner)), scanner.pos];
}

test("numbers: radixes, underscores and floats, read up to the token's end", () => {
  assert.deepEqual(read(readNumber, "0x_ff,"), ["255", 5]);
  assert.deepEqual(read(readNumber, "0o17 "), ["15", 4]);
  assert.deepEqual(read(readNumber, "0b101]"), ["5", 5]);
  assert.deepEqual(read(readNumber, "1_000}"), ["1000", 5]);
  assert.deepEqual(read(readNumber, "1.5e3"), ["1500.0", 5]);
  assert.deepEqual(read(readNumber, ".5"), ["0.5", 2]);
  assert.deepEqual(read(readNumber, "12345678901234567890123"), ["12345678901234567890123", 23]);
});

test("numbers Python rejects: leading zeros, bad digits, a name glued on; complex is unsupported", () => {
  const kind = (text: string) => {
    try {
      readNumber(new LiteralScanner(text));
    } catch (error) {
      if (error instanceof LiteralEvalError) return error.pythonType;
      throw error;
    }
    return "accepted";
  };
  assert.equal(kind("007"), "SyntaxError");
  assert.equal(kind("0o8"), "SyntaxError");
  assert.equal(kind("1abc"), "SyntaxError");
  assert.equal(kind("2j"), "Unsupported");
  assert.equal(kind("000"), "accepted");
});

test("strings: adjacent literals concatenated, escapes decoded, raw strings kept as written", () => {
  assert.deepEqual(read(readStrings, `'a' "b"  '''c'''`), [`'abc'`, 16]);
  assert.deepEqual(read(readStrings, String.raw`'\x41\u00e9\101\q\t'`), [String.raw`'AéA\\q\t'`, 20]);
  assert.deepEqual(read(readStrings, String.raw`r'\n\''`), [String.raw`"\\n\\'"`, 7]);
  assert.deepEqual(read(readStrings, "U'x'"), ["'x'", 4]);
  assert.throws(() => readStrings(new LiteralScanner("'x\n'")), /SyntaxError: unterminated string literal/);
  assert.throws(() => readStrings(new LiteralScanner("f'x'")), /ValueError/);
  assert.throws(() => readStrings(new LiteralScanner("b'x'")), /Unsupported/);
});
