/**
 * The file side of `spri eval ifeval`: a model's responses and a reference policy's, paired by
 * prompt, each pair's question carrying the prompt's IFEval instructions as principles
 * (judge/ifeval-principles.ts), ready to be judged in both orders like any pairwise file.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { InputError } from "../../base/errors/errors.ts";
import { checkInputFile, readInputRows } from "../../io/input-reader.ts";
import { ifevalPrinciples, principledQuestion } from "../../algorithms/judge/ifeval-principles.ts";
import { joinRuns } from "./pairwise-run.ts";

export interface IfevalFiles {
  /** The model's responses (IFEval's response form: prompt, response): B of each pair. */
  outputs: string;
  /** The reference policy's responses to the same prompts: A of each pair. */
  references: string;
  /** IFEval's input_data.jsonl (prompt, instruction_id_list, kwargs). */
  data: string;
  /** The judgements' file: the pairs go beside it. */
  output: string;
  responseField: string;
}

export interface IfevalPairs {
  /** `<output>.pairs-input.jsonl`: `{id, question, response_a, response_b}`, the question with its principles. */
  pairsFile: string;
  /** The pairs written. */
  pairs: number;
  /** Prompts answered by both that input_data.jsonl does not hold: left out. */
  withoutInstructions: number;
  onlyA: number;
  onlyB: number;
}

export async function ifevalPairs(files: IfevalFiles): Promise<IfevalPairs> {
  for (const file of [files.outputs, files.references, files.data]) checkInputFile(file);
  const principles = await readInstructions(files.data);
  const joinedFile = `${files.output}.pairs-joined.jsonl`;
  const joined = await joinRuns({
    a: files.references,
    b: files.outputs,
    output: joinedFile,
    idField: "prompt",
    questionField: "prompt",
    responseField: files.responseField,
  });
  const pairsFile = `${files.output}.pairs-input.jsonl`;
  const withoutInstructions = await addPrinciples(joinedFile, principles, pairsFile);
  return { pairsFile, pairs: joined.pairs - withoutInstructions, withoutInstructions, onlyA: joined.onlyA, onlyB: joined.onlyB };
}

/** IFEval's prompts → their instructions as principles. */
async function readInstructions(file: string): Promise<Map<string, string[]>> {
  const principles = new Map<string, string[]>();
  for await (const row of readInputRows(file)) {
    const r = row.value as { prompt?: unknown; instruction_id_list?: unknown; kwargs?: unknown };
    if (typeof r.prompt !== "string" || !Array.isArray(r.instruction_id_list)) {
      throw new InputError("an IFEval input needs a prompt and an instruction_id_list", {
        file,
        line: row.line,
        field: "instruction_id_list",
        hint: "give IFEval's input_data.jsonl",
      });
    }
    principles.set(r.prompt, ifevalPrinciples(r.instruction_id_list as string[], Array.isArray(r.kwargs) ? r.kwargs : []));
  }
  return principles;
}

/** Writes the pairs whose prompt has instructions, the principles appended to the question; returns how many had none. */
async function addPrinciples(joinedFile: string, principles: ReadonlyMap<string, string[]>, output: string): Promise<number> {
  const out = createWriteStream(output, "utf8");
  let missing = 0;
  for await (const row of readInputRows(joinedFile)) {
    const pair = row.value as { id: string; question: string };
    const list = principles.get(pair.question);
    if (list === undefined) {
      missing++;
      continue;
    }
    if (!out.write(`${JSON.stringify({ ...pair, question: principledQuestion(pair.question, list) })}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return missing;
}
