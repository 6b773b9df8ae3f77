import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors/errors.ts";
import {
  pyFormat,
  pyRepr,
  pyReprString,
  pyStrip,
  pythonClean,
  saneClean,
  universalNewlines,
  pyFloat,
  pyRound,
  pyEscape,
} from "./python.ts";

describe("pyFormat (Python str.format semantics)", () => {
  test("one pass: values are never re-scanned", () => {
    assert.equal(pyFormat("Q: {q} P: {p}", { q: "{p}", p: "x" }), "Q: {p} P: x");
  });
  test("extra fields are ignored, doubled braces are literal", () => {
    assert.equal(pyFormat("{{literal}} {a}", { a: "1", unused: "2" }), "{literal} 1");
  });
  test("a missing field is an error naming the template and field", () => {
    assert.throws(
      () => pyFormat("{missing}", { a: "1" }, "critique.txt"),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /critique\.txt.*\{missing\}/);
        return true;
      },
    );
  });
  test("literal runs, lone closing braces and fields anywhere: the same text as a character-by-character reading", () => {
    // The character-wise reading pyFormat replaced, kept here as the specification of its output.
    const charWise = (template: string, fields: Record<string, string>): string => {
      let out = "";
      for (let i = 0; i < template.length; ) {
        const ch = template[i]!;
        if ((ch === "{" || ch === "}") && template[i + 1] === ch) {
          out += ch;
          i += 2;
        } else if (ch === "{") {
          const close = template.indexOf("}", i);
          const value = close < 0 ? undefined : fields[template.slice(i + 1, close)];
          if (value === undefined) return "error";
          out += value;
          i = close + 1;
        } else {
          out += ch;
          i++;
        }
      }
      return out;
    };
    const fields = { a: "<A>", b_1: "{a}" };
    const pieces = ["{", "}", "{{", "}}", "{a}", "{b_1}", "x", "\\n", "ab", "{c}", "{ }"];
    // Every sequence of up to four pieces (16,105 templates).
    let templates = [""];
    const all = [""];
    for (let length = 1; length <= 4; length++) {
      templates = templates.flatMap((t) => pieces.map((piece) => t + piece));
      all.push(...templates);
    }
    for (const template of all) {
      let got: string;
      try {
        got = pyFormat(template, fields);
      } catch {
        got = "error";
      }
      assert.equal(got, charWise(template, fields), JSON.stringify(template));
    }
  });
});

describe("output cleaning", () => {
  test("pythonClean is strip('\\n#').strip(): a # after a leading space survives", () => {
    assert.equal(pythonClean("\n### Rubric:\n{x}\n###"), "Rubric:\n{x}");
    assert.equal(pythonClean(" ### Rubric: {x} "), "### Rubric: {x}");
  });
  test("saneClean removes whitespace and # at both ends", () => {
    assert.equal(saneClean(" ### Rubric: {x} \n\n#"), "Rubric: {x}");
  });
  test("pyStrip uses Python's whitespace set", () => {
    assert.equal(pyStrip("\x1c\u00a0 text \x85"), "text");
  });
});

describe("pyRepr (Python str() of literals)", () => {
  test("quotes: single by default, double when the text has ' and no \"", () => {
    assert.equal(pyReprString("plain"), "'plain'");
    assert.equal(pyReprString("it's"), `"it's"`);
    assert.equal(pyReprString(`it's "quoted"`), `'it\\'s "quoted"'`);
  });
  test("escapes control characters, keeps printable unicode", () => {
    assert.equal(pyReprString("a\nb\tc\\d"), "'a\\nb\\tc\\\\d'");
    assert.equal(pyReprString("café ’"), "'café ’'");
    assert.equal(pyReprString("\x07"), "'\\x07'");
  });
  test("dicts keep insertion order with ': ' and ', ' separators", () => {
    assert.equal(
      pyRepr({ criteria: "Is it 'good'?", score1_description: "bad" }),
      `{'criteria': "Is it 'good'?", 'score1_description': 'bad'}`,
    );
    assert.equal(pyRepr([1, true, null]), "[1, True, None]");
  });
});

test("universalNewlines turns CRLF and CR into LF", () => {
  assert.equal(universalNewlines("a\r\nb\rc\n"), "a\nb\nc\n");
});

describe("pyFloat", () => {
  test("what Python's float() accepts: whitespace, sign, underscores between digits, exponents, inf and nan", () => {
    const cases: [string, number][] = [
      ["4", 4],
      [" 4.5\n", 4.5],
      ["+.5", 0.5],
      ["5.", 5],
      ["-1e1", -10],
      ["1_000", 1000],
      ["\u00a03\u2003", 3],
      ["Infinity", Infinity],
      ["-inf", -Infinity],
    ];
    for (const [text, value] of cases) assert.equal(pyFloat(text), value, text);
    assert.ok(Number.isNaN(pyFloat("NaN")));
  });
  test("anything else is null, as Python's ValueError", () => {
    for (const text of ["", "4/5", "1__0", "_1", "1_", "0x10", "4 5", "five", "e5", ".", "1e", "[4]"])
      assert.equal(pyFloat(text), null, text);
  });
});

describe("pyRound", () => {
  test("round(x, 2): nearest, and exact binary ties to the even digit", () => {
    assert.equal(pyRound(7.733333333333333, 2), 7.73);
    assert.equal(pyRound(4.466666666666667, 2), 4.47);
    assert.equal(pyRound(4.125, 2), 4.12);
    assert.equal(pyRound(4.375, 2), 4.38);
    assert.equal(pyRound(2.675, 2), 2.67); // 2.675 is 2.67499999… in binary
    assert.equal(pyRound(-0.125, 2), -0.12);
    assert.equal(pyRound(8, 2), 8);
  });
});

test("pyEscape: a backslash escape of a Python string literal as its tokenizer reads it", () => {
  const at = (text: string) => pyEscape(text, 0);
  assert.deepEqual(at("\\n rest"), { value: "\n", length: 2 });
  assert.deepEqual(at("\\\nnext line"), { value: "", length: 2 });
  assert.deepEqual(at("\\'"), { value: "'", length: 2 });
  assert.deepEqual(at("\\101x"), { value: "A", length: 4 });
  assert.deepEqual(at("\\7"), { value: "\x07", length: 2 });
  assert.deepEqual(at("\\x41"), { value: "A", length: 4 });
  assert.deepEqual(at("\\u00e9"), { value: "é", length: 6 });
  assert.deepEqual(at("\\U0001F600"), { value: "😀", length: 10 });
  assert.deepEqual(at("\\q"), { value: "\\q", length: 2 }, "an unknown escape stays as written");
  assert.deepEqual(at("\\x4"), { error: "truncated", letter: "x" });
  assert.deepEqual(at("\\U00110000"), { error: "beyond-unicode", letter: "U" });
  assert.deepEqual(at("\\N{BULLET}"), { error: "named", letter: "N" });
  assert.deepEqual(pyEscape("ab\\t", 2), { value: "\t", length: 2 });
});
