import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { literalEval, tryLiteralEval } from "./literal-eval.ts";
import { LiteralEvalError } from "./literal-scanner.ts";
import { dictGet, pyReprValue, pyStr } from "./py-value.ts";

/**
 * [source, Python's repr of ast.literal_eval(source)] or [source, null, the exception Python raises],
 * recorded from CPython 3.11.
 */
const PYTHON: [string, string | null, string?][] = [
  ["{'a': 1}", "{'a': 1}"],
  ["\n{'a': 1}", "{'a': 1}"],
  ["\n  {'a': 1}", null, "IndentationError"],
  ["  {'a': 1}", "{'a': 1}"],
  ["\t{'a': 1}", "{'a': 1}"],
  ["# c\n{'a': 1}", "{'a': 1}"],
  ["# c\n  {'a': 1}", null, "IndentationError"],
  ["### Rubric:\n{'a': 1}", "{'a': 1}"],
  ["{'a': 1}\n###", "{'a': 1}"],
  ["{'a': 1}\n\n#", "{'a': 1}"],
  ["{'a': 1}  # x", "{'a': 1}"],
  ["{'a': 1}\n  ", null, "IndentationError"],
  ["{'a': 1}\n  # c", "{'a': 1}"],
  ["{'a': 1}\n{'b': 2}", null, "SyntaxError"],
  ["{'a': 1},", "({'a': 1},)"],
  ["Rubric:\n{'a': 1}", null, "SyntaxError"],
  ["```python\n{'a': 1}\n```", null, "SyntaxError"],
  ["{'a': 1", null, "SyntaxError"],
  ["{'a': 'x' 'y'}", "{'a': 'xy'}"],
  ["{'a': [1, 2,],}", "{'a': [1, 2]}"],
  ["{'a': true}", null, "ValueError"],
  ["{'a': null}", null, "ValueError"],
  ["{'a': True, 'b': None, 'c': -1.5e3}", "{'a': True, 'b': None, 'c': -1500.0}"],
  ["{'a': 1, 'a': 2, 'b': 3}", "{'a': 2, 'b': 3}"],
  ["{1: 'a', True: 'b', 1.0: 'c'}", "{1: 'c'}"],
  ["{'a': \"it's\"}", "{'a': \"it's\"}"],
  ["{'a': 'it\\'s'}", "{'a': \"it's\"}"],
  ["{'a': '\\x41\\u00e9\\101\\q'}", "{'a': 'A\u00e9A\\\\q'}"],
  ["{'a': r'\\n'}", "{'a': '\\\\n'}"],
  ["{'a': f'x'}", null, "ValueError"],
  ["{'a': 1}\r\n", "{'a': 1}"],
  ["{'a':\r\n 1}", "{'a': 1}"],
  ["{'a': 1}\r", "{'a': 1}"],
  ["(1)", "1"],
  ["(1,)", "(1,)"],
  ["()", "()"],
  ["set()", "set()"],
  ["{1, 2}", "{1, 2}"],
  ["{}", "{}"],
  ["{'a': 01}", null, "SyntaxError"],
  ["{'a': 0x1F, 'b': 1_000, 'c': .5, 'd': 1.}", "{'a': 31, 'b': 1000, 'c': 0.5, 'd': 1.0}"],
  ["{'a': --1}", null, "ValueError"],
  ["{'a': -True}", null, "ValueError"],
  ["{[1]: 2}", null, "TypeError"],
  ["{'a': '''x\ny'''}", "{'a': 'x\\ny'}"],
  ["{'a': 'x\ny'}", null, "SyntaxError"],
  ["{'a': 'x\\\ny'}", "{'a': 'xy'}"],
  ["{'a': 1}\\\n", null, "SyntaxError"],
  ["{'a' \\\n: 1}", "{'a': 1}"],
  ["", null, "SyntaxError"],
  ["   ", null, "SyntaxError"],
  ["{'a':1}\u0000", null, "SyntaxError"],
  ["{'a': 1e999}", "{'a': inf}"],
  ["{'a': 1\u00a0}", null, "SyntaxError"],
  ["{\n  # c\n  'a': 1, # d\n}", "{'a': 1}"],
  ["\f{'a': 1}", "{'a': 1}"],
  ["{'a': 1}\f", "{'a': 1}"],
  ["\n\n#x\n{'a': 1}\n\n", "{'a': 1}"],
  ["{'a': 1} \\\n", null, "SyntaxError"],
  ["{'a': '\\777'}", "{'a': '\u01ff'}"],
  ["{'a': '\\x4'}", null, "SyntaxError"],
  ["{'a': U'x', 'b': R'\\d'}", "{'a': 'x', 'b': '\\\\d'}"],
  ["{'a': 1 + 2}", null, "ValueError"],
  ["{'a': (1, 2)}", "{'a': (1, 2)}"],
  ["{'a': {'b': [1, {2, 3}]}}", "{'a': {'b': [1, {2, 3}]}}"],
  ["{**{'a': 1}}", null, "ValueError"],
  ["{'a': 1}[0]", null, "ValueError"],
  ["{'a': x}", null, "ValueError"],
  ["{'a': 1}\n  \n", "{'a': 1}"],
  ["{'a': 1}\n\t", null, "IndentationError"],
  ["{'a': 1} \n", "{'a': 1}"],
  ["{'a': 1}\n \n#", "{'a': 1}"],
  ["{'a': 1} ", "{'a': 1}"],
  [" \n\n{'a': 1}\n###", "{'a': 1}"],
  ["{'a': 1}\n\n ", null, "IndentationError"],
  ["{'a': 1}\n\n \n", "{'a': 1}"],
  ["\n \n{'a': 1}", "{'a': 1}"],
  [" \n {'a': 1}", null, "IndentationError"],
  ["{'a': 1}\n#c\n  ", null, "IndentationError"],
  ["{'a': 1}\r\n  ", null, "IndentationError"],
  ["{'a': 1}\n\f", "{'a': 1}"],
  ["{'a': 1}\n\f ", null, "IndentationError"],
  ["{'a': 1}\n \f", "{'a': 1}"],
  ["{'a': '\\u12'}", null, "SyntaxError"],
  ["{'a': '\\U0010FFFF'}", "{'a': '\\U0010ffff'}"],
  ["{'a': '\\U00110000'}", null, "SyntaxError"],
  ["{'a': r'\\'}", null, "SyntaxError"],
  ["{'a': r'\\''}", "{'a': \"\\\\'\"}"],
  ["{'a': '\\\n'}", "{'a': ''}"],
  ["{'a': 1_}", null, "SyntaxError"],
  ["{'a': 1__0}", null, "SyntaxError"],
  ["{'a': 0_0}", "{'a': 0}"],
  ["{'a': 00}", "{'a': 0}"],
  ["{'a': 0b102}", null, "SyntaxError"],
  ["{'a': 1e}", null, "SyntaxError"],
  ["{'a': 1.5.2}", null, "SyntaxError"],
  ["{'a': 1}#", "{'a': 1}"],
  ["{'a': 'x'\n'y'}", "{'a': 'xy'}"],
  ["{'a': +1, 'b': -0.0, 'c': 1E+2}", "{'a': 1, 'b': -0.0, 'c': 100.0}"],
  ["{'a': 'x'  r'y' u'z'}", "{'a': 'xyz'}"],
  ["{'a': 1,,}", null, "SyntaxError"],
  ["[,]", null, "SyntaxError"],
  ["{'a' : 1 , }", "{'a': 1}"],
  ["{'a': '\\r\\n\\t\\a\\b\\f\\v\\0\\'\\\"'}", "{'a': '\\r\\n\\t\\x07\\x08\\x0c\\x0b\\x00\\'\"'}"],
  ['{\'a\': """q"""}', "{'a': 'q'}"],
  ["{'a': 'unterminated}", null, "SyntaxError"],
  ["{'a': '''x''''}", null, "SyntaxError"],
  ["{'a': 1}\n\n\n", "{'a': 1}"],
  ["{'a': 1};", null, "SyntaxError"],
  ["x = {'a': 1}", null, "SyntaxError"],
  ["'''a\r\nb'''", "'a\\nb'"],
  ["'a\rb'", null, "SyntaxError"],
  ["{'a': 1}\n\f{'b':1}", null, "SyntaxError"],
  ["(\n1\n)", "1"],
  ["'a' \\\n 'b'", "'ab'"],
  ["'\\8'", "'\\\\8'"],
  ["1_0.5", "10.5"],
  ["1e1_0", "10000000000.0"],
  ["0x_1", "1"],
  ["1_e1", null, "SyntaxError"],
  [".5e-3", "0.0005"],
  ["0.", "0.0"],
  ["0e0", "0.0"],
  ["1e-400", "0.0"],
  ["0o7_7", "63"],
  ["0B1", "1"],
  ["0X1f", "31"],
  ["5.0", "5.0"],
  ["10000000000000000.0", "1e+16"],
  ["0.0001", "0.0001"],
  ["0.00001", "1e-05"],
  ["1e22", "1e+22"],
  ["123456789012345678901234567890", "123456789012345678901234567890"],
  ["-0", "0"],
  ["-1.5", "-1.5"],
  ["1e16", "1e+16"],
  ["123.456", "123.456"],
  ["0.1", "0.1"],
  ["{'criteria': 'Is it \"good\"?', 'score1_description': 'No.'}", "{'criteria': 'Is it \"good\"?', 'score1_description': 'No.'}"],
  ["[1, (2,), {3}, {}, set(), None, 'x']", "[1, (2,), {3}, {}, set(), None, 'x']"],
  ["{'a': set([1])}", null, "ValueError"],
  ["{'a': set(1)}", null, "ValueError"],
  ["{'a': 'x'.upper()}", null, "ValueError"],
  ["{'a': 1if 1 else 2}", null, "ValueError"],
  ["{'a': 'x' 'y' 1}", null, "SyntaxError"],
  ["{1: 2, (1, 2): 3, 'k': (4,)}", "{1: 2, (1, 2): 3, 'k': (4,)}"],
  ["{(1, [2]): 3}", null, "TypeError"],
  ["{'a': ur'x'}", null, "SyntaxError"],
];

describe("literalEval matches CPython's ast.literal_eval", () => {
  for (const [source, repr, error] of PYTHON) {
    test(JSON.stringify(source), () => {
      if (repr === null) {
        assert.throws(
          () => literalEval(source),
          (e: unknown) => e instanceof LiteralEvalError,
          `Python raises ${error}`,
        );
        assert.equal(tryLiteralEval(source), undefined);
      } else {
        assert.equal(pyReprValue(literalEval(source)), repr);
      }
    });
  }
});

describe("literalEval: the findings' rubric cases", () => {
  const dict =
    "{'criteria': 'Does it?', 'score1_description': 'a', 'score2_description': 'b', 'score3_description': 'c', 'score4_description': 'd', 'score5_description': 'e'}";

  test("accepted: Python dicts, JSON objects, escaped quotes, comment lines and surrounding whitespace", () => {
    for (const source of [
      dict,
      JSON.stringify({ criteria: 'Say "hi"', score5_description: "x" }, null, 4),
      "{'criteria': 'the user\\'s request \"Photosynthesis …\"'}",
      `### Rubric:\n${dict}`,
      `${dict}\n###`,
      ` \n\n${dict}\n\n#`,
    ]) {
      const value = literalEval(source);
      assert.equal(value.kind, "dict", source);
    }
    assert.equal(pyStr(dictGet(literalEval("{'criteria': 'the user\\'s request'}"), "criteria")!), "the user's request");
  });

  test("rejected: fences, plain text, a Rubric: prefix, truncation, JSON literals, indentation after a newline", () => {
    for (const source of [
      "```python\n" + dict + "\n```",
      "Criteria: Does it?\nScore 1: a",
      `Rubric:\n${dict}`,
      dict.slice(0, 40),
      '{"criteria": "x", "ok": true}',
      '{"criteria": null}',
      `\n  ${dict}`,
    ]) {
      assert.equal(tryLiteralEval(source), undefined, source);
    }
  });

  test("not supported (Python accepts them; they read as failures): bytes, complex, Ellipsis, \\N{name}", () => {
    for (const source of ["{'a': b'x'}", "{'a': 1j}", "{'a': 1 + 2j}", "{'a': ...}", "{'a': '\\N{BULLET}'}"]) {
      assert.throws(
        () => literalEval(source),
        (e: unknown) => e instanceof LiteralEvalError && e.pythonType === "Unsupported",
        source,
      );
    }
  });
});
