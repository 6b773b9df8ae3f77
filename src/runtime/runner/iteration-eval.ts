/**
 * The file side of `spri discover iterate eval`: the held-out prompts joined with the answers of
 * the previous iteration's and the base model's evaluations (by row id), and the summary of an
 * iteration's evaluation records stored in `<dir>/state.json`. The per-item work
 * (discovery/iteration-eval.ts) runs through the runner in between.
 */
import { existsSync, mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { BASELINE_FIELDS } from "../../algorithms/discovery/iteration-eval.ts";
import { summariseIterationEval } from "../../algorithms/discovery/iteration-metrics.ts";
import { entry, type IterationState, iterDir, iterFile } from "../../algorithms/discovery/iterations.ts";
import { InputError } from "../../base/errors/errors.ts";
import { readInputRows } from "../../io/input-reader.ts";
import { JsonlOutput } from "../../io/jsonl-output.ts";
import { readState, writeState } from "./discovery-iterations.ts";

function rowKey(value: Record<string, unknown>, idField: string): string | undefined {
  const raw = value[idField];
  if (raw === undefined || raw === null || raw === "") return undefined;
  return typeof raw === "string" ? raw : JSON.stringify(raw);
}

/** The `eval_answer` of every record of iteration `iter`'s evaluation, by row id; an InputError saying what to run when it is missing. */
async function answersOf(dir: string, iter: number, idField: string): Promise<Map<string, string>> {
  const file = iterFile(dir, iter, "eval");
  if (!existsSync(file)) {
    throw new InputError(`iteration ${iter} has not been evaluated`, {
      file,
      hint: `run spri discover iterate eval --dir ${dir} --iter ${iter} --input <held-out prompts> first (the same held-out file for every iteration)`,
    });
  }
  const answers = new Map<string, string>();
  for await (const { value } of readInputRows(file)) {
    const row = value as Record<string, unknown>;
    const key = rowKey(row, idField);
    if (key !== undefined && typeof row.eval_answer === "string") answers.set(key, row.eval_answer);
  }
  return answers;
}

export interface EvalInput {
  file: string;
  items: number;
  withPrevious: number;
  withBase: number;
}

/**
 * Writes `<dir>/iter-<t>/eval.input.jsonl`: the held-out rows (a row without an id gets its line
 * number as one, so its answer can be found again by the next iteration) with the answers of
 * iteration t − 1 and of iteration 1 (the base model) for t > 1.
 */
export async function prepareEvalInput(dir: string, iter: number, heldout: string): Promise<EvalInput> {
  const state = readState(dir);
  entry(state, iter);
  const { idField } = state.dataset;
  const previous = iter > 1 ? await answersOf(dir, iter - 1, idField) : undefined;
  const base = iter > 2 ? await answersOf(dir, 1, idField) : previous;
  const file = iterFile(dir, iter, "evalInput");
  mkdirSync(iterDir(dir, iter), { recursive: true });
  const out = new JsonlOutput(file);
  const counts = { items: 0, withPrevious: 0, withBase: 0 };
  try {
    for await (const { line, value } of readInputRows(heldout)) {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw new InputError("a held-out row must be a JSON object", { file: heldout, line });
      const row: Record<string, unknown> = { ...(value as Record<string, unknown>) };
      const key = rowKey(row, idField) ?? String(line);
      row[idField] ??= key;
      const before = previous?.get(key);
      const first = base?.get(key);
      if (before !== undefined) row[BASELINE_FIELDS.previous] = before;
      if (first !== undefined) row[BASELINE_FIELDS.base] = first;
      counts.items++;
      if (before !== undefined) counts.withPrevious++;
      if (first !== undefined) counts.withBase++;
      await out.write(row);
    }
    await out.commit();
  } catch (error) {
    await out.close();
    throw error;
  }
  return { file, ...counts };
}

/** Summarises `<dir>/iter-<t>/eval.jsonl` into the iteration's `eval` entry of the state. */
export async function recordIterationEval(dir: string, iter: number, options: { heldout?: string } = {}): Promise<IterationState> {
  const file = iterFile(dir, iter, "eval");
  if (!existsSync(file)) throw new InputError("no evaluation records for this iteration", { file, hint: "run spri discover iterate eval" });
  const records: Record<string, unknown>[] = [];
  for await (const { value } of readInputRows(file)) records.push(value as Record<string, unknown>);
  const state = readState(dir);
  entry(state, iter).eval = {
    ...summariseIterationEval(records),
    ...(options.heldout === undefined ? {} : { heldout: resolve(options.heldout) }),
  };
  writeState(dir, state);
  return state;
}
