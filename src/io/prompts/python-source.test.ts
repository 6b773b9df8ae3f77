import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import {
  abslFlagDefault,
  abslListDefault,
  pythonAssignedStrings,
  pythonFunctionFString,
  pythonStringArgument,
  renderFString,
} from "./python-source.ts";

const SOURCE = [
  "import os",
  "",
  "def build_x(post, aim):",
  '    return f"""Post: {post}',
  "    Aim: {aim.strip()} {{literal}} \\u00e9\\t\\\\ end\\",
  '    joined"""',
  "",
  "def build_bad(post):",
  '    return "no f-string"',
  "",
  "def build_expr(post):",
  '    return f"""{post.upper()}"""',
  "",
].join("\n");

describe("pythonFunctionFString", () => {
  test("reads the f-string a function returns: fields, doubled braces, escapes, line continuations", () => {
    const fstring = pythonFunctionFString(SOURCE, "p.py", "build_x");
    assert.deepEqual(fstring.params, ["post", "aim"]);
    assert.equal(fstring.line, 3);
    assert.equal(renderFString(fstring, { post: "P", aim: "  A \n" }), "Post: P\n    Aim: A {literal} é\t\\ end    joined");
  });
  test("a missing function, another return or an unsupported field names the file and line", () => {
    const failure = (name: string, pattern: RegExp, line?: number) =>
      assert.throws(
        () => pythonFunctionFString(SOURCE, "p.py", name),
        (error: unknown) => error instanceof ConfigError && error.file === "p.py" && error.line === line && pattern.test(error.message),
      );
    failure("build_none", /no function build_none/);
    failure("build_bad", /expected build_bad to return an f-string/, 9);
    failure("build_expr", /unsupported field \{post\.upper\(\)\}/, 12);
  });
  test("rendering without a value for a field is an error", () => {
    assert.throws(() => renderFString(pythonFunctionFString(SOURCE, "p.py", "build_x"), { post: "P" }), /field \{aim\}/);
  });
});

describe("pythonStringArgument and abslFlagDefault", () => {
  const SCRIPT = [
    'flags.DEFINE_string("model", "gpt-4-0613", "Specify the LLM.")',
    'flags.DEFINE_float("temperature", 0.1, "The value.")',
    'flags.DEFINE_integer("max_tokens", 256, "Max.")',
    "agent = Agent(",
    "    client = client,",
    '    new_system_prompt = """Answer "plainly".""",',
    ")",
  ].join("\n");
  test("the string given to a keyword argument, and a flag's default", () => {
    assert.equal(pythonStringArgument(SCRIPT, "s.py", "new_system_prompt"), 'Answer "plainly".');
    assert.equal(abslFlagDefault(SCRIPT, "s.py", "model"), "gpt-4-0613");
    assert.equal(abslFlagDefault(SCRIPT, "s.py", "temperature"), 0.1);
    assert.equal(abslFlagDefault(SCRIPT, "s.py", "max_tokens"), 256);
  });
  test("what is not there, or not a literal, names the file (and line)", () => {
    assert.throws(() => pythonStringArgument(SCRIPT, "s.py", "system"), /s\.py has no string system = "…"/);
    assert.throws(() => abslFlagDefault(SCRIPT, "s.py", "seed"), /no flag "seed"/);
    assert.throws(
      () => abslFlagDefault('flags.DEFINE_integer("seed", SEED, "")', "s.py", "seed"),
      (error: unknown) => error instanceof ConfigError && error.line === 1 && /default of flag "seed" is not a literal/.test(error.message),
    );
  });
});

describe("docstrings, assigned literals with expression fields, list flags", () => {
  const MODULE = [
    'tail = """the tail"""',
    "",
    "def build_doc(text, q):",
    '    """',
    "    :input: a docstring before the return",
    '    """',
    '    return f"""[A] {text} [B] {q} {tail}"""',
    "",
    "for row in rows:",
    '    if mode == "one":',
    "        note = 'plain'",
    '        note = f"""Say {row[\'Post\']} with {table.column[dim]}"""',
    "        call(user = f\"[T] {row['Post']}\\n\\n[Q] {note}\")",
  ].join("\n");
  test("a function's docstring is skipped; module strings render through the fields", () => {
    const fstring = pythonFunctionFString(MODULE, "m.py", "build_doc");
    const tail = pythonAssignedStrings(MODULE, "m.py", "tail")[0]!;
    assert.equal(renderFString(fstring, { text: "X", q: "Y", tail: renderFString(tail, {}) }), "[A] X [B] Y the tail");
  });
  test("every literal assigned to a name, f-strings' fields kept as their expressions, with their lines", () => {
    const notes = pythonAssignedStrings(MODULE, "m.py", "note");
    assert.equal(notes.length, 2);
    assert.equal(renderFString(notes[0]!, {}), "plain");
    assert.deepEqual(
      notes[1]!.parts.flatMap((p) => ("field" in p ? [p.field] : [])),
      ["row['Post']", "table.column[dim]"],
    );
    assert.equal(notes[1]!.line, 12);
    const user = pythonAssignedStrings(MODULE, "m.py", "user")[0]!;
    assert.equal(renderFString(user, { "row['Post']": "P", note: "N" }), "[T] P\n\n[Q] N");
    assert.deepEqual(pythonAssignedStrings(MODULE, "m.py", "user", { from: 0, to: 10 }), []);
  });
  test("a list flag's default of integers; anything else names the file and line", () => {
    assert.deepEqual(abslListDefault('flags.DEFINE_list("dims", [1, 4, 23], "the dims")', "s.py", "dims"), [1, 4, 23]);
    assert.throws(
      () => abslListDefault('flags.DEFINE_list("dims", ["a"], "")', "s.py", "dims"),
      (error: unknown) => error instanceof ConfigError && error.line === 1 && /not a list of integers/.test(error.message),
    );
  });
});
