/**
 * The grading prompt of SPRI's judge step (spec §6.2) and the critic's view of a judgement.
 *
 * - Template: `ABSOLUTE_PROMPT.txt`, or `ABSOLLUTE_REFINE_PROMPT.txt` (the reference's spelling) for
 *   BiGGen's meta-evaluation instances, whose id contains `llm_judge`: their instruction asks for a
 *   grading itself, and that template sets it off with `@@@` lines.
 * - Reference-free grading (no reference answer, as in the paper's runs) removes the template's
 *   reference-answer section (a header line, `{reference_answer}` and a blank line) and the clause of
 *   its task description that mentions a reference answer.
 * - Rubric slot: the rubric text is parsed as a Python literal (`literal-eval.ts`); a dict with
 *   `criteria` and `score1_description`..`score5_description` is rendered through
 *   `prometheus-score-rubric-template.txt`. On any failure (syntax, not a dict, a missing key) the
 *   rubric text goes in verbatim: no salvage, as the reference.
 * - Fields: single-pass Python `str.format` (`pyFormat`); `{min_score}` and `{max_score}` are offered
 *   too, for templates that state the scale.
 *
 * Structure the code relies on, true of the paper's templates and of spri's own: the task
 * description is the first line's section; `{instruction}` sits under a header line of its own; the
 * template ends with the header under which the judge writes (`###Feedback: `).
 */
import { ConfigError } from "../../base/errors/errors.ts";
import type { PromptPack } from "../../io/prompts/prompt-pack.ts";
import type { CompatOptions } from "../spri/compat.ts";
import { pyFormat, pyStrip } from "../../base/util/python.ts";
import { DEFAULT_JUDGE_SCALE, type JudgeScale } from "./judge-score.ts";
import { tryLiteralEval } from "./literal-eval.ts";
import { dictGet, pyStr } from "./py-value.ts";

/** Template names, as the paper's files are called. */
export const JUDGE_TEMPLATES = {
  system: "task2-judge-system.txt",
  grading: "ABSOLUTE_PROMPT.txt",
  metaGrading: "ABSOLLUTE_REFINE_PROMPT.txt",
  rubric: "prometheus-score-rubric-template.txt",
  critique: "instruct-stage2_02-eval_response_critique.txt",
  refine: "instruct-stage2_02-eval_response_refinement.txt",
} as const;

/** The keys a rubric dict must have, in the order the reference reads them. */
export const RUBRIC_KEYS = [
  "criteria",
  "score1_description",
  "score2_description",
  "score3_description",
  "score4_description",
  "score5_description",
] as const;

/** The header that replaces the grading prompt's closing header in the critic's view (spec §6.2). */
export const EVALUATION_RESULT_HEADER = "### Evaluation Result: ";

/** BiGGen's meta-evaluation instances: the instruction asks for a grading itself. */
export function isMetaGrading(id: string): boolean {
  return id.includes("llm_judge");
}

/** The reference-free edit: the reference-answer section and the task description's clause go. */
export function referenceFreeTemplate(template: string): string {
  return template.replace(/^#[^\n]*\n\{reference_answer\}\n\n/m, "").replace(/, a reference answer[^,.\n]*/, "");
}

export interface RenderedRubric {
  text: string;
  /** Whether the rubric parsed as a dict and went through the rubric template. */
  parsed: boolean;
}

/** The rubric slot: the dict through the rubric template, or the text verbatim. */
export function renderRubric(rubric: string, rubricTemplate: string): RenderedRubric {
  const value = tryLiteralEval(rubric);
  if (value === undefined) return { text: rubric, parsed: false };
  const fields: Record<string, string> = {};
  for (const key of RUBRIC_KEYS) {
    const entry = dictGet(value, key);
    if (entry === undefined) return { text: rubric, parsed: false };
    fields[key] = pyStr(entry);
  }
  return { text: pyFormat(rubricTemplate, fields, JUDGE_TEMPLATES.rubric), parsed: true };
}

/** Checks up front that a rubric template uses only the rubric's keys. */
export function checkRubricTemplate(pack: PromptPack): void {
  const fields = Object.fromEntries(RUBRIC_KEYS.map((key) => [key, key]));
  pyFormat(pack.get(JUDGE_TEMPLATES.rubric), fields, JUDGE_TEMPLATES.rubric);
}

export interface GradingInput {
  /** The item id; `llm_judge` ids take the meta-grading template. */
  id: string;
  instruction: string;
  response: string;
  /** The rubric text (a generated `principle_final`, or any other rubric source's). */
  rubric: string;
  /** Grading is reference-free without one. */
  reference?: string;
  scale?: JudgeScale;
}

export interface GradingPrompt {
  /** The template after the reference-free edit, before formatting. */
  template: string;
  templateName: string;
  fields: Readonly<Record<string, string>>;
  /** The user message of the grading call (`formatted_BigGenBench_INIT_GRADING_PROMPT`). */
  text: string;
  rubric: RenderedRubric;
}

export function gradingPrompt(pack: PromptPack, input: GradingInput): GradingPrompt {
  const templateName = isMetaGrading(input.id) ? JUDGE_TEMPLATES.metaGrading : JUDGE_TEMPLATES.grading;
  const raw = pack.get(templateName);
  const template = input.reference === undefined ? referenceFreeTemplate(raw) : raw;
  const rubric = renderRubric(input.rubric, pack.get(JUDGE_TEMPLATES.rubric));
  const scale = input.scale ?? DEFAULT_JUDGE_SCALE;
  const fields: Record<string, string> = {
    instruction: input.instruction,
    response: input.response,
    rubric: rubric.text,
    min_score: String(scale.min),
    max_score: String(scale.max),
  };
  if (input.reference !== undefined) fields.reference_answer = input.reference;
  return { template, templateName, fields, text: pyFormat(template, fields, templateName), rubric };
}

/**
 * Critique input A (spec §6.2): the grading prompt without its task description, ending in the
 * evaluation-result header, so that A followed by the judgement reads as "the grader's input, then
 * its output". See `CompatOptions.judgeCritiqueInput` for the two modes.
 */
export function critiqueInput(grading: GradingPrompt, mode: CompatOptions["judgeCritiqueInput"]): string {
  const { template } = grading;
  const lines = template.split("\n");
  const instructionLine = lines.findIndex((line) => line.includes("{instruction}"));
  let headerLine = -1;
  for (let i = instructionLine - 1; i >= 0; i--) {
    if (lines[i]!.startsWith("#")) {
      headerLine = i;
      break;
    }
  }
  const closingLine = lines.findLastIndex((line) => line.trim() !== "");
  const closing = closingLine >= 0 && lines[closingLine]!.startsWith("#") ? lines[closingLine]!.trim() : undefined;

  if (mode === "reference") {
    // The reference: re.sub("<description header>.*?(?=<instruction header>)", "", prompt, DOTALL),
    // then strip, then replace the closing header everywhere.
    let text = grading.text;
    const first = lines[0]?.trim();
    if (headerLine > 0 && first?.startsWith("#")) {
      const pattern = new RegExp(`${escapeRegExp(first)}[\\s\\S]*?(?=${escapeRegExp(lines[headerLine]!.trim())})`, "g");
      text = text.replace(pattern, "");
    }
    text = pyStrip(text);
    return closing === undefined ? text : text.replaceAll(closing, EVALUATION_RESULT_HEADER);
  }

  // Sections: cut the template, not the formatted text, so no instruction or response is touched.
  if (closingLine < 0) throw new ConfigError(`${grading.templateName} is empty`);
  const kept = lines
    .slice(headerLine >= 0 ? headerLine : 0, closing === undefined ? lines.length : closingLine)
    .filter((line) => line.trim() !== "@@@");
  return `${pyStrip(pyFormat(kept.join("\n"), grading.fields, grading.templateName))}\n\n${EVALUATION_RESULT_HEADER}`;
}

/** The refinement's user message (spec §6.2, reference-free and with a reference alike). */
export function judgementRefineUser(critiqueInputText: string, judgement: string, feedback: string): string {
  return `${critiqueInputText}\n\n${judgement}\n\n### Feedback: ${feedback}\n\n### Refined Evaluation Result:`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
