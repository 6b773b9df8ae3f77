/**
 * What the paper's GPT-4 evaluator (`GPT-4-eval/gpt-4-reappraisal_eval.py`) sends for a case, built
 * the plain way from its files in ../shared: the f-string of an eval_prompts.py function with its
 * fields substituted, and the script's system prompt. Independent of spri's Python-source reader,
 * so tests can hold that reader to it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SHARED } from "./cli.ts";

export const GPT4_EVAL = join(SHARED, "spri-public", "[task1]-reappraisal", "GPT-4-eval");
/** The released judgements: eval_outputs/<model>/<method folder>/eval-*.jsonl. */
export const EVAL_OUTPUTS = join(GPT4_EVAL, "eval_outputs");

/** Table 1's methods and the folders the issue's acceptance names for them. */
export const TABLE_1_METHODS: [string, string][] = [
  ["vanilla", "[RESORT_baselines]/INDV/vanilla"],
  ["self-refine", "[RESORT_baselines]/ITER/self-refine"],
  ["SPRI", "[seed=1_RESORT_constitutions_per_dimension]/[resort_human_eval_30]-generated_refined_responses"],
  ["oracle", "[RESORT_baselines]/ITER/+cons"],
];

/** The script's keyword arguments for a record of the evaluated file. */
export function referenceArguments(row: Record<string, unknown>): Record<string, string> {
  return {
    post: String(row["Reddit Post"]),
    reappraisal: String(row.response_final),
    reappraisal_aim: String(row.appraisal_dimension_aim),
    reappraisal_standard: String(row.standards),
  };
}

/** eval_prompts.py's `functionName(**args)`; its f-strings hold only {name} and {name.strip()} fields. */
export function referenceEvalPrompt(functionName: string, args: Record<string, string>): string {
  const source = readFileSync(join(GPT4_EVAL, "eval_prompts.py"), "utf8");
  const body = new RegExp(`def ${functionName}\\([^)]*\\):\\s*return f"""([\\s\\S]*?)"""`).exec(source)![1]!;
  return body.replace(/\{(\w+)(\.strip\(\))?\}/g, (_, name: string, strip?: string) => (strip ? args[name]!.trim() : args[name]!));
}

export function referenceSystemPrompt(): string {
  const script = readFileSync(join(GPT4_EVAL, "gpt-4-reappraisal_eval.py"), "utf8");
  return /new_system_prompt = """([\s\S]*?)"""/.exec(script)![1]!;
}
