/**
 * The paper's task-1 baselines' prompts as a pack: its RESORT pipeline directory, read at run time.
 * The pipeline keeps its prompts in Python: the one-off strings inside the branch of each
 * experiment mode of `[bam]-pipeline-INDV.py` / `[bam]-pipeline-ITER.py` (`if
 * FLAGS.experiment_mode == "<mode>":`), the follow-up builders of `pipeline_components/
 * prompt_loading.py`, and per appraisal dimension a question and a guidance (the expert
 * constitution) in the text files the scripts' flags name (`prompts/appraisal_questions.txt`,
 * `prompts/reappraisal_guidance.txt`, one `<Name> = text` line per dimension, 24 lines).
 *
 * Each file is looked up in the `--prompts` directories in order, at its place in the pipeline or by
 * its name alone, so a directory holding only another `reappraisal_guidance.txt` (the paper's
 * principle-instruct seeds) placed first overrides the constitutions.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { universalNewlines } from "../../base/util/python.ts";
import {
  abslFlagDefault,
  abslListDefault,
  type PythonFString,
  pythonAssignedStrings,
  pythonFunctionFString,
  renderFString,
} from "./python-source.ts";

export type ResortScript = "INDV" | "ITER";
export const RESORT_SCRIPTS: Readonly<Record<ResortScript, string>> = { INDV: "[bam]-pipeline-INDV.py", ITER: "[bam]-pipeline-ITER.py" };
export const RESORT_PROMPT_LOADING = "pipeline_components/prompt_loading.py";

/** The pipeline's `dimensions_df` is indexed 1..24: its text files must have exactly that many lines. */
const DIMENSION_LINES = 24;

/** The prompts one experiment mode of one script sends. Builders take and return text only. */
export interface ResortPrompts {
  /** Where the pack was read, for messages and run metadata. */
  description: string;
  /** `my_system_prompt`. */
  system: string;
  /** The mode's first user message: `[Text] post … [Question] …` (not in the appraisal modes). */
  opening?: (post: string, guidance: string) => string;
  /** The appraisal modes' second message in the same conversation ("based on the analysis above"). */
  followUp?: (guidance: string) => string;
  /** `build_appraisal_prompt(text, appraisal_q)`. */
  appraisal(post: string, question: string): string;
  /** `build_iterative_step_baseline(post, prev_step)`. */
  refine(post: string, previous: string): string;
  /** `build_iterative_step_baseline_guideline(post, guidance, prev_step)`. */
  refineWithGuidance(post: string, guidance: string, previous: string): string;
  /** `build_iterative_step_w_appraisal(post, appraisal, prev_step)`. */
  refineWithAppraisal(post: string, appraisal: string, previous: string): string;
  /** A dimension's appraisal question and guidance, by its 1-based id. */
  appraisalQuestion(dimension: number): string;
  guidance(dimension: number): string;
  /** The iterative script's `--dimensions` default: the dimensions each item walks through, in order. */
  dimensions: number[];
}

export function loadResortPrompts(directories: readonly string[], script: ResortScript, mode: string): ResortPrompts {
  const dirs = directories.map((dir) => resolve(dir));
  const locate = packLocator(dirs);
  const scriptFile = locate(RESORT_SCRIPTS[script]);
  const source = readText(scriptFile);
  const loadingFile = locate(RESORT_PROMPT_LOADING);
  const loading = readText(loadingFile);

  const branch = modeBranch(source, scriptFile, mode);
  const pick = (name: string, guided: boolean) => pickString(source, scriptFile, branch, name, guided);
  const system = render(single(pythonAssignedStrings(source, scriptFile, "my_system_prompt"), scriptFile, "my_system_prompt"), {});
  const fn = (name: string) => pythonFunctionFString(loading, loadingFile, name);
  const revision = pythonAssignedStrings(loading, loadingFile, "revision_prompt");
  const extra: Record<string, string> = revision[0] ? { revision_prompt: render(revision[0], {}) } : {};
  const appraisal = fn("build_appraisal_prompt");
  const refine = fn("build_iterative_step_baseline");
  const refineWithGuidance = fn("build_iterative_step_baseline_guideline");
  const refineWithAppraisal = fn("build_iterative_step_w_appraisal");

  const table = (flag: string) => dimensionTable(locate(String(abslFlagDefault(source, scriptFile, flag))));
  const questions = table("path_to_appraisal_questions");
  const guidance = table("path_to_reappraisal_guidance");
  const dimension = (values: string[], file: string) => (id: number) => {
    if (!Number.isInteger(id) || id < 1 || id > values.length) {
      throw new InputError(`appraisal dimension ${id} is not one of the pipeline's 1–${values.length}`, {
        field: "appraisal_dimension_id",
        hint: `${file} has one line per dimension`,
      });
    }
    return values[id - 1]!;
  };

  const prompts: ResortPrompts = {
    description: dirs.join(", "),
    system,
    appraisal: (post, question) => render(appraisal, { text: post, appraisal_q: question }),
    refine: (post, previous) => render(refine, { post, prev_step: previous, ...extra }),
    refineWithGuidance: (post, g, previous) => render(refineWithGuidance, { post, guidance: g, prev_step: previous, ...extra }),
    refineWithAppraisal: (post, a, previous) => render(refineWithAppraisal, { post, appraisal: a, prev_step: previous, ...extra }),
    appraisalQuestion: dimension(questions.values, questions.file),
    guidance: dimension(guidance.values, guidance.file),
    dimensions: script === "ITER" ? abslListDefault(source, scriptFile, "dimensions") : [],
  };
  if (mode.startsWith("+appr")) {
    const followUp = pick(openingQuestionName(script, mode), mode.includes("+cons"));
    prompts.followUp = (g) => renderPipelineString(followUp, { guidance: g });
  } else {
    const question = pick(openingQuestionName(script, mode), mode !== "vanilla" && mode !== "self-refine");
    const frame = pick("user_message", false);
    prompts.opening = (post, g) => renderPipelineString(frame, { post, question: renderPipelineString(question, { guidance: g }) });
  }
  return prompts;
}

/** The variable holding the mode's question in the reference scripts. */
function openingQuestionName(script: ResortScript, mode: string): string {
  if (script === "ITER") return "baseline_prompt";
  if (mode === "vanilla") return "baseline_vanilla_prompt";
  return mode === "+appr" ? "baseline_prompt" : "dim_prompt";
}

/** The first string the branch assigns to `name`; `guided`: the first of them that shows a guidance. */
function pickString(source: string, file: string, branch: { from: number; to: number }, name: string, guided: boolean): PythonFString {
  const found = pythonAssignedStrings(source, file, name, branch).find(
    (s) => !guided || s.parts.some((p) => "field" in p && /guidance/.test(p.field)),
  );
  if (!found) {
    throw new ConfigError(`the mode's branch assigns no ${guided ? "string showing a guidance" : "string"} to ${name}`, {
      file,
      hint: "point --prompts at the paper's RESORT_pipeline directory, as released",
    });
  }
  return found;
}

/**
 * An f-string of the scripts, its fields given by what their expressions name: the post
 * (`row['Reddit Post']`), the guidance (`guidance`, `dimensions_df.reappraisal_guidance[dim]`), or the
 * question variable the frame wraps. Any other expression is an error naming its line.
 */
function renderPipelineString(fstring: PythonFString, values: { post?: string; guidance?: string; question?: string }): string {
  const byExpression: Record<string, string> = {};
  for (const part of fstring.parts) {
    if (!("field" in part)) continue;
    const value = /Reddit Post/.test(part.field)
      ? values.post
      : /guidance/.test(part.field)
        ? values.guidance
        : /^(baseline_vanilla_prompt|baseline_prompt|dim_prompt)$/.test(part.field)
          ? values.question
          : undefined;
    if (value === undefined) {
      throw new ConfigError(`unsupported field {${part.field}} in ${fstring.name}`, {
        file: fstring.file,
        line: part.line,
        hint: "spri fills the post, the guidance and the question; restore the file as released",
      });
    }
    byExpression[part.field] = value;
  }
  return render(fstring, byExpression);
}

function render(fstring: PythonFString, values: Record<string, string>): string {
  return renderFString(fstring, values);
}

function single(found: PythonFString[], file: string, name: string): PythonFString {
  if (!found[0])
    throw new ConfigError(`no string ${name} = "…" in this file`, {
      file,
      hint: "point --prompts at the paper's RESORT_pipeline directory",
    });
  return found[0];
}

/** The offsets of the body of `if FLAGS.experiment_mode == "<mode>":` (its more-indented lines). */
function modeBranch(source: string, file: string, mode: string): { from: number; to: number } {
  const quoted = mode.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const head = new RegExp(String.raw`^([ \t]*)(?:el)?if\s+FLAGS\.experiment_mode\s*==\s*(["'])${quoted}\2\s*:[ \t]*$`, "m").exec(source);
  if (!head) {
    throw new ConfigError(`no branch for the experiment mode "${mode}" in this script`, {
      file,
      hint: "point --prompts at the paper's RESORT_pipeline directory, as released",
    });
  }
  const indent = head[1]!.length;
  const from = head.index + head[0].length + 1;
  let to = from;
  for (const line of source.slice(from).split("\n")) {
    const depth = /^[ \t]*/.exec(line)![0].length;
    if (line.trim() !== "" && depth <= indent) break;
    to += line.length + 1;
  }
  return { from, to: Math.min(to, source.length) };
}

/** `RESORT_utils.get_prompts`: line i (1-based) of the file is dimension i; its value follows the first `=`. */
function dimensionTable(file: string): { file: string; values: string[] } {
  const lines = readText(file).split("\n");
  if (lines.length !== DIMENSION_LINES) {
    throw new ConfigError(`${file} has ${lines.length} lines; the pipeline reads exactly ${DIMENSION_LINES}, one per appraisal dimension`, {
      file,
      hint: "restore the file as released (no trailing newline)",
    });
  }
  return { file, values: lines.map((line) => line.slice(line.indexOf("=") + 1)) };
}

/** Finds a pack file: in each directory in order, at its path within the pipeline, then by its name. */
function packLocator(dirs: readonly string[]): (path: string) => string {
  return (path) => {
    const relative = path.replace(/^\.\//, "");
    for (const dir of dirs) {
      for (const candidate of [join(dir, relative), join(dir, basename(relative))]) if (existsSync(candidate)) return candidate;
    }
    throw new ConfigError(`the RESORT pipeline pack needs ${relative}, found in none of ${dirs.join(", ")}`, {
      hint: "point --prompts at the paper's [task1]-reappraisal/RESORT_pipeline directory",
    });
  };
}

/** Text as Python's `open().read()` gives it: UTF-8, universal newlines. */
function readText(file: string): string {
  return universalNewlines(readFileSync(file, "utf8"));
}
