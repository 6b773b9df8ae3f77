/**
 * Reading input items. JSON Lines are streamed line by line; a `.json` file holds one array (or one
 * object). Each item comes with its 1-based line (JSONL) or index (JSON) for error messages.
 */
import { createReadStream, existsSync, readFileSync, statSync } from "node:fs";
import { createInterface } from "node:readline";
import { InputError } from "../errors/errors.ts";

export interface InputRow {
  /** 1-based line number in a JSONL file, or 1-based position in a JSON array. */
  line: number;
  value: unknown;
}

export function checkInputFile(file: string): void {
  if (!existsSync(file)) throw new InputError("input file does not exist", { file, hint: "check the --input path" });
  if (!statSync(file).isFile()) throw new InputError("input path is not a file", { file });
}

export async function* readInputRows(file: string): AsyncGenerator<InputRow> {
  checkInputFile(file);
  if (file.endsWith(".json")) {
    yield* readJsonArray(file);
    return;
  }
  const lines = createInterface({ input: createReadStream(file, "utf8"), crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError(`malformed JSON: ${(error as Error).message}`, {
        file,
        line,
        cause: error,
        hint: "fix or remove the line; JSON Lines need one complete object per line",
      });
    }
    yield { line, value };
  }
}

function* readJsonArray(file: string): Generator<InputRow> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new InputError(`malformed JSON: ${(error as Error).message}`, { file, cause: error, hint: "a .json input holds one array of objects; use .jsonl for one object per line" });
  }
  const items = Array.isArray(value) ? value : [value];
  for (let i = 0; i < items.length; i++) yield { line: i + 1, value: items[i] };
}
