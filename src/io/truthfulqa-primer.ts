/** The few-shot primer `spri eval truthfulqa` puts before each question: a text file the user gives, or none. */
import { ConfigError } from "../base/errors/errors.ts";
import { universalNewlines } from "../base/util/python.ts";
import { readTextFile } from "./json-file.ts";

const STANDARD_PRIMER =
  "QA_PRIMER in truthfulqa/presets.py of github.com/sylinrl/TruthfulQA (the six question-answer pairs lm-evaluation-harness's truthfulqa_mc1 also puts before each question)";
const PRIMER_HINT = `pass --primer FILE with the few-shot examples (the standard ones: ${STANDARD_PRIMER}), or --primer none for none`;

/** The primer of `file` as Python reads text (universal newlines), trailing whitespace dropped; "none" is the empty primer. */
export function readTruthfulQaPrimer(file: string | undefined): string {
  if (file === undefined) throw new ConfigError("spri eval truthfulqa needs the few-shot primer", { field: "primer", hint: PRIMER_HINT });
  if (file === "none") return "";
  const text = readTextFile(file, { what: "primer", field: "primer", hint: PRIMER_HINT, as: ConfigError });
  return universalNewlines(text).trimEnd();
}
