/**
 * Prompts that live in Python source (the paper's GPT-4 evaluator keeps its prompts as functions
 * returning f-strings, its system prompt as a keyword argument and its settings as absl flag
 * defaults), read without running Python. Only the shapes those files use are accepted; anything
 * else is a ConfigError naming the file and line, never a prompt that differs from what Python sends.
 */
import { ConfigError } from "../../base/errors/errors.ts";
import { pyEscape, type PyEscapeRefusal, pyFloat, pyStrip } from "../../base/util/python.ts";

export type FStringPart = { text: string } | { field: string; strip: boolean; line: number };

/** The f-string a Python function returns, with the function's parameter names. */
export interface PythonFString {
  file: string;
  name: string;
  /** The line of the `def`. */
  line: number;
  params: string[];
  parts: FStringPart[];
}

/** `def name(params): return f"""…"""` in `source` (the text of `file`). */
export function pythonFunctionFString(source: string, file: string, name: string): PythonFString {
  const def = new RegExp(`^[ \\t]*def\\s+${name}\\s*\\(([^)]*)\\)\\s*(?:->[^:\\n]*)?:`, "m").exec(source);
  if (!def)
    throw new ConfigError(`no function ${name} in this file`, { file, hint: "point --prompts at the paper's GPT-4-eval directory" });
  const params = def[1]!
    .split(",")
    .map((param) => /^\s*\**([A-Za-z_]\w*)/.exec(param)?.[1])
    .filter((param): param is string => param !== undefined);
  const body = skipDocstring(source, skipBlankAndComments(source, def.index + def[0].length));
  const opening = /^return\s+([rR]?[fF][rR]?)("""|'''|"|')/.exec(source.slice(body));
  if (!opening) {
    throw new ConfigError(`expected ${name} to return an f-string (return f"""…""")`, { file, line: lineAt(source, body) });
  }
  const start = body + opening[0].length;
  const literal = scanString(source, file, start, opening[2]!, /r/i.test(opening[1]!), "names");
  return { file, name, line: lineAt(source, def.index + def[0].indexOf("def")), params, parts: literal.parts };
}

/** The string literal given as `name = "…"` (an assignment or a keyword argument). */
export function pythonStringArgument(source: string, file: string, name: string): string {
  const match = new RegExp(`\\b${name}\\s*=\\s*([rR]?)("""|'''|"|')`).exec(source);
  if (!match)
    throw new ConfigError(`${file} has no string ${name} = "…"`, { file, hint: "point --prompts at the paper's GPT-4-eval directory" });
  const literal = scanString(source, file, match.index + match[0].length, match[2]!, match[1] !== "", "none");
  return literal.parts.map((part) => ("text" in part ? part.text : "")).join("");
}

/** The default of an absl flag, `flags.DEFINE_<kind>("name", default, …)`: a string or a number. */
export function abslFlagDefault(source: string, file: string, flag: string): string | number {
  const match = new RegExp(`flags\\.DEFINE_\\w+\\(\\s*(["'])${flag}\\1\\s*,\\s*`).exec(source);
  if (!match) throw new ConfigError(`no flag "${flag}" (flags.DEFINE_…) in this file`, { file });
  const at = match.index + match[0].length;
  const quote = /^("""|'''|"|')/.exec(source.slice(at));
  if (quote)
    return scanString(source, file, at + quote[0].length, quote[0], false, "none")
      .parts.map((p) => ("text" in p ? p.text : ""))
      .join("");
  const number = /^[-+]?[\d.][\w.+-]*(?=\s*[,)])/.exec(source.slice(at));
  const value = number ? pyFloat(number[0]) : null;
  if (value === null)
    throw new ConfigError(`the default of flag "${flag}" is not a literal string or number`, { file, line: lineAt(source, at) });
  return value;
}

/**
 * Every string literal assigned to `name` (`name = "…"`, `name = f"""…"""`: a statement or a keyword
 * argument) between the offsets `from` and `to`, in source order. An f-string's fields keep their
 * expression's text (`row['Reddit Post']`), to be given values under that text; `name` is the
 * variable and `line` the literal's line.
 */
export function pythonAssignedStrings(
  source: string,
  file: string,
  name: string,
  range: { from: number; to: number } = { from: 0, to: source.length },
): PythonFString[] {
  const assignment = new RegExp(String.raw`(?<![\w.])${name}\s*=(?!=)\s*([rRfF]{0,2})("""|'''|"|')`, "g");
  assignment.lastIndex = range.from;
  const found: PythonFString[] = [];
  for (let match = assignment.exec(source); match && match.index < range.to; match = assignment.exec(source)) {
    const prefix = match[1]!;
    const start = match.index + match[0].length;
    const literal = scanString(source, file, start, match[2]!, /r/i.test(prefix), /f/i.test(prefix) ? "expressions" : "none");
    found.push({ file, name, line: lineAt(source, start), params: [], parts: literal.parts });
  }
  return found;
}

/** The default of an absl list flag, `flags.DEFINE_list("name", [1, 4, …], …)`, when it is a list of integers. */
export function abslListDefault(source: string, file: string, flag: string): number[] {
  const match = new RegExp(String.raw`flags\.DEFINE_list\(\s*(["'])${flag}\1\s*,\s*`).exec(source);
  if (!match) throw new ConfigError(`no list flag "${flag}" (flags.DEFINE_list) in this file`, { file });
  const at = match.index + match[0].length;
  const list = /^\[\s*(\d+(?:\s*,\s*\d+)*)?\s*,?\s*\]/.exec(source.slice(at));
  if (!list) throw new ConfigError(`the default of flag "${flag}" is not a list of integers`, { file, line: lineAt(source, at) });
  return (list[1] ?? "")
    .split(",")
    .filter((n) => n.trim() !== "")
    .map((n) => Number.parseInt(n, 10));
}

/** The f-string with its fields filled in, as Python evaluates it (`.strip()` is Python's). */
export function renderFString(fstring: PythonFString, values: Readonly<Record<string, string>>): string {
  let out = "";
  for (const part of fstring.parts) {
    if ("text" in part) {
      out += part.text;
      continue;
    }
    const value = values[part.field];
    if (value === undefined) {
      throw new ConfigError(`${fstring.name} uses the field {${part.field}}, which has no value here`, {
        file: fstring.file,
        line: part.line,
        hint: `available: ${Object.keys(values).join(", ")}`,
      });
    }
    out += part.strip ? pyStrip(value) : value;
  }
  return out;
}

function skipBlankAndComments(source: string, from: number): number {
  const rest = /^(?:\s|#[^\n]*)*/.exec(source.slice(from))!;
  return from + rest[0].length;
}

/** Past a docstring statement at `from`, if there is one, and the blank lines after it. */
function skipDocstring(source: string, from: number): number {
  const quote = /^("""|''')/.exec(source.slice(from));
  if (!quote) return from;
  const close = source.indexOf(quote[1]!, from + 3);
  return close < 0 ? from : skipBlankAndComments(source, close + 3);
}

function lineAt(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** Reads a string literal's body from `start` (just past its opening quote) to its closing quote. */
/** `fields`: `none` (a plain string), `names` (`{name}` and `{name.strip()}` only) or `expressions` (any, kept as written). */
function scanString(
  source: string,
  file: string,
  start: number,
  quote: string,
  raw: boolean,
  fields: "none" | "names" | "expressions",
): { parts: FStringPart[] } {
  const fstring = fields !== "none";

  const parts: FStringPart[] = [];
  let text = "";
  let i = start;
  const fail = (message: string, at: number): never => {
    throw new ConfigError(message, {
      file,
      line: lineAt(source, at),
      hint: "spri reads the paper's files as released; restore that shape",
    });
  };
  while (!source.startsWith(quote, i)) {
    if (i >= source.length) fail("a string that never ends", start);
    const ch = source[i]!;
    if (ch === "\n" && quote.length === 1) fail("a one-line string runs past its line", i);
    if (ch === "\\") {
      const [value, length] = raw ? [source.slice(i, i + 2), 2] : escape(source, i, fail);
      text += value;
      i += length;
    } else if (fstring && (ch === "{" || ch === "}")) {
      if (source[i + 1] === ch) {
        text += ch;
        i += 2;
        continue;
      }
      if (ch === "}") fail("a single } in an f-string", i);
      const close = source.indexOf("}", i);
      const expression = close < 0 ? "" : source.slice(i + 1, close);
      const field = fields === "expressions" ? ["", expression.trim()] : /^\s*([A-Za-z_]\w*)(\.strip\(\))?\s*$/.exec(expression);
      if (close < 0 || !field || field[1] === "") fail(`unsupported field {${expression}}: only {name} and {name.strip()} are read`, i);
      if (text) parts.push({ text });
      text = "";
      parts.push({ field: field![1]!, strip: field![2] !== undefined, line: lineAt(source, i) });
      i = close + 1;
    } else {
      text += ch;
      i++;
    }
  }
  if (text) parts.push({ text });
  return { parts };
}

/** What is said of an escape Python refuses (`pyEscape`'s errors). */
const REFUSED_ESCAPES: Record<PyEscapeRefusal, (letter: string) => string> = {
  truncated: (letter) => `a malformed \\${letter} escape`,
  "beyond-unicode": (letter) => `a \\${letter} escape beyond Unicode`,
  named: () => "a \\N{…} escape, which spri does not read",
};

/** A backslash escape of a non-raw literal at `at`, as Python reads it: its value and length. */
function escape(source: string, at: number, fail: (message: string, at: number) => never): [string, number] {
  const read = pyEscape(source, at);
  if ("error" in read) fail(REFUSED_ESCAPES[read.error](read.letter), at);
  return [read.value, read.length];
}
