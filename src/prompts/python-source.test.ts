import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../errors/errors.ts";
import { abslFlagDefault, pythonFunctionFString, pythonStringArgument, renderFString } from "./python-source.ts";

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
