/**
 * Mapping an input row to what a task needs (a `TaskItem`, algorithm/task-item.ts). Fields come
 * from flags when given, otherwise from the first present of common names. Missing or empty values
 * are InputErrors naming file, line, field.
 */
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import { InputError } from "../../base/errors/errors.ts";
import { POST_FIELDS, QUESTION_FIELDS } from "../../io/question-fields.ts";

/** The tasks run through SPRI (spri-task.ts builds their steps). */
export type TaskName = "sft" | "reappraisal" | "rubric";
export const SPRI_TASK_NAMES: readonly TaskName[] = ["sft", "reappraisal", "rubric"];

/** The paper's Task 3 (SFT data) baselines, run per item like SPRI (src/presets/tasks/baselines/). */
export type BaselineTaskName =
  | "baseline-direct"
  | "baseline-self-instruct"
  | "baseline-self-align"
  | "baseline-self-refine"
  | "baseline-seed-principles";
export const BASELINE_TASK_NAMES: readonly BaselineTaskName[] = [
  "baseline-direct",
  "baseline-self-instruct",
  "baseline-self-align",
  "baseline-self-refine",
  "baseline-seed-principles",
];

/** The paper's task-1 (reappraisal) baselines as its RESORT pipeline runs them (src/presets/tasks/baselines/resort.ts). */
export type ResortTaskName =
  | "resort-vanilla"
  | "resort-appr"
  | "resort-cons"
  | "resort-appr-cons"
  | "resort-self-refine"
  | "resort-iter-appr"
  | "resort-iter-cons"
  | "resort-iter-appr-cons";
export const RESORT_TASK_NAMES: readonly ResortTaskName[] = [
  "resort-vanilla",
  "resort-appr",
  "resort-cons",
  "resort-appr-cons",
  "resort-self-refine",
  "resort-iter-appr",
  "resort-iter-cons",
  "resort-iter-appr-cons",
];

/** Every `--task` value. */
export type AnyTaskName = TaskName | BaselineTaskName | ResortTaskName;
export const TASK_NAMES: readonly AnyTaskName[] = [...SPRI_TASK_NAMES, ...BASELINE_TASK_NAMES, ...RESORT_TASK_NAMES];

export function isResortTask(task: string): task is ResortTaskName {
  return (RESORT_TASK_NAMES as readonly string[]).includes(task);
}

export function isBaselineTask(task: string): task is BaselineTaskName {
  return (BASELINE_TASK_NAMES as readonly string[]).includes(task);
}

export interface FieldMapping {
  questionField?: string;
  idField?: string;
  goalField?: string;
  referenceField?: string;
  systemPromptField?: string;
  domainField?: string;
}

/** Where a row came from, for error messages. */
export interface RowOrigin {
  file: string;
  line: number;
}

const BASELINE_FIELDS = { question: QUESTION_FIELDS };
// The pipeline reads the post from `Reddit Post` and the dimension from `appraisal_dimension_id`.
const RESORT_FIELDS = { question: [...POST_FIELDS, ...QUESTION_FIELDS], domain: ["appraisal_dimension_id", "domain"] };
const DEFAULT_FIELDS: Record<
  AnyTaskName,
  { question: readonly string[]; goal?: readonly string[]; domain?: readonly string[]; systemPrompt?: readonly string[] }
> = {
  sft: { question: QUESTION_FIELDS, domain: ["domain", "category", "question_type"] },
  reappraisal: {
    question: [...POST_FIELDS, ...QUESTION_FIELDS],
    goal: ["appraisal_dimension_aim", "response_goal", "goal"],
    domain: ["appraisal_dimension_id", "domain"],
  },
  rubric: { question: QUESTION_FIELDS, systemPrompt: ["system_prompt"], domain: ["capability", "domain"] },
  // The reference's baseline scripts read `user_input` (and `id`), the first of QUESTION_FIELDS.
  "baseline-direct": BASELINE_FIELDS,
  "baseline-self-instruct": BASELINE_FIELDS,
  "baseline-self-align": BASELINE_FIELDS,
  "baseline-self-refine": BASELINE_FIELDS,
  "baseline-seed-principles": BASELINE_FIELDS,
  ...(Object.fromEntries(RESORT_TASK_NAMES.map((task) => [task, RESORT_FIELDS])) as Record<ResortTaskName, typeof RESORT_FIELDS>),
};

function firstPresent(row: Record<string, unknown>, names: readonly string[]): string | undefined {
  return names.find((name) => row[name] !== undefined && row[name] !== null);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

export function toTaskItem(task: AnyTaskName, row: unknown, mapping: FieldMapping, origin: RowOrigin): TaskItem {
  if (typeof row !== "object" || row === null || Array.isArray(row)) {
    throw new InputError("each input item must be a JSON object", { ...origin, hint: "write one object per line" });
  }
  const record = row as Record<string, unknown>;
  const defaults = DEFAULT_FIELDS[task];

  const questionField = mapping.questionField ?? firstPresent(record, defaults.question);
  const question = questionField === undefined ? undefined : record[questionField];
  if (questionField === undefined || question === undefined || question === null) {
    const tried = mapping.questionField ? `"${mapping.questionField}"` : defaults.question.map((f) => `"${f}"`).join(", ");
    throw new InputError(`no question field (looked for ${tried})`, {
      ...origin,
      field: mapping.questionField ?? defaults.question[0],
      hint: "name the field holding the question with --question-field",
    });
  }
  if (typeof question !== "string" || question.trim() === "") {
    throw new InputError("the question is empty or not a string", {
      ...origin,
      field: questionField,
      hint: "give every item a non-empty question, or remove the line",
    });
  }

  const item: TaskItem = { id: itemId(record, mapping, origin), question, row: record };

  if (task === "reappraisal") {
    const goalField = mapping.goalField ?? firstPresent(record, defaults.goal ?? []);
    const goal = goalField === undefined ? undefined : record[goalField];
    if (goalField === undefined || typeof goal !== "string" || goal.trim() === "") {
      throw new InputError("no response goal for the reappraisal task", {
        ...origin,
        field: mapping.goalField ?? "appraisal_dimension_aim",
        hint: "name the field holding the goal with --goal-field",
      });
    }
    item.goal = goal;
  }
  if (task === "rubric") {
    const systemField = mapping.systemPromptField ?? firstPresent(record, defaults.systemPrompt ?? []);
    if (systemField !== undefined && record[systemField] !== undefined && record[systemField] !== null) {
      item.systemPrompt = text(record[systemField]);
    }
  }
  if (mapping.referenceField !== undefined) {
    const reference = record[mapping.referenceField];
    if (typeof reference !== "string" || reference.trim() === "") {
      throw new InputError("the reference answer is missing or empty", {
        ...origin,
        field: mapping.referenceField,
        hint: "fill it in, or leave out --reference-field for reference-free rubrics",
      });
    }
    item.reference = reference;
  }
  const domainField = mapping.domainField ?? firstPresent(record, defaults.domain ?? []);
  if (domainField !== undefined && record[domainField] !== undefined && record[domainField] !== null) {
    item.domain = text(record[domainField]);
  }
  return item;
}

/**
 * The item's id, a string: the id field's text, or the line number when the row has no such field
 * (and no `--id-field` was named). A number gives its digits; an integer beyond 2^53 already comes
 * as a string of its exact digits from the reader. An id that is there but null or empty is an
 * error, never the line number: the output record keeps the row's own id, and resuming finds
 * records by it. "." and ".." are refused too: a URL cannot hold them (the viewer could not open
 * the item).
 */
function itemId(record: Record<string, unknown>, mapping: FieldMapping, origin: RowOrigin): string {
  const field = mapping.idField ?? "id";
  const value = record[field];
  const refuse = (problem: string) =>
    new InputError(problem, {
      ...origin,
      field,
      hint: "give every item a unique id (a string or a number), or leave the field out of every row to use line numbers",
    });
  if (value === undefined) {
    if (mapping.idField !== undefined) throw refuse("the id field is missing");
    return String(origin.line);
  }
  if (value === null) throw refuse("the id is null");
  if (typeof value === "number") return String(value);
  if (typeof value !== "string")
    throw refuse(
      `the id must be a string or a number, not ${Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : `a ${typeof value}`}`,
    );
  if (value.trim() === "") throw refuse("the id is empty");
  if (value === "." || value === "..")
    throw refuse(`the id "${value}" cannot be used (it cannot be part of a URL, so the viewer could not show the item)`);
  return value;
}
