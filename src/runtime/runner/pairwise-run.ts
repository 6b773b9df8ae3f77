/**
 * Comparing two runs, the file side: their records are joined by id into a file of pairs, which the
 * runner then judges like any other items (resume, cache, concurrency; the algorithm is
 * `pairwiseAlgorithm` in judge/pairwise.ts), and the pair records are summarised as a win rate.
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { InputError } from "../../base/errors/errors.ts";
import { recordQuestion } from "../../io/exports.ts";
import { ANY_QUESTION_FIELDS } from "../../io/question-fields.ts";
import { readInputRows } from "../../io/input-reader.ts";
import { writeJsonFile } from "../../io/json-file.ts";
import { type WinRate, winRate } from "../../algorithms/judge/pairwise.ts";

export interface JoinOptions {
  a: string;
  b: string;
  /** Where the joined pairs go (JSONL): `{id, question, response_a, response_b}`. */
  output: string;
  idField: string;
  /** Default: the first present of the names `spri run` reads a question from (ANY_QUESTION_FIELDS). */
  questionField?: string;
  responseField: string;
  /** B's response field, when it differs from A's. */
  responseFieldB?: string;
}

/**
 * Joins the two files on the id field; items missing from either side are counted, not paired. Two
 * files with no id in common are refused: a win rate over no pairs would say nothing.
 */
export async function joinRuns(options: JoinOptions): Promise<{ pairs: number; onlyA: number; onlyB: number }> {
  const fromA = new Map<string, { question: string; response: string }>();
  for await (const row of readInputRows(options.a)) {
    const record = row.value as Record<string, unknown>;
    const entry = pick(record, options, options.responseField, options.a, row.line);
    if (entry) fromA.set(entry.id, { question: entry.question, response: entry.response });
  }
  const out = createWriteStream(options.output, "utf8");
  let pairs = 0;
  let onlyB = 0;
  for await (const row of readInputRows(options.b)) {
    const entry = pick(row.value as Record<string, unknown>, options, options.responseFieldB ?? options.responseField, options.b, row.line);
    if (!entry) continue;
    const a = fromA.get(entry.id);
    if (!a) {
      onlyB++;
      continue;
    }
    fromA.delete(entry.id);
    if (!out.write(`${JSON.stringify({ id: entry.id, question: a.question, response_a: a.response, response_b: entry.response })}\n`))
      await once(out, "drain");
    pairs++;
  }
  out.end();
  await once(out, "finish");
  if (pairs === 0) throw noPairs(options, fromA, onlyB);
  return { pairs, onlyA: fromA.size, onlyB };
}

function noPairs(options: JoinOptions, fromA: ReadonlyMap<string, unknown>, onlyB: number): InputError {
  const firstA = fromA.keys().next().value;
  return new InputError(
    `no ids pair up: ${fromA.size} answered record(s) in A, ${onlyB} in B, none with an id found in both${firstA === undefined ? "" : ` (A's first id: "${firstA}")`}`,
    {
      file: options.b,
      field: options.idField,
      hint: "compare two outputs of the same input, or name the field that joins them with --id-field",
    },
  );
}

function pick(record: Record<string, unknown>, options: JoinOptions, responseField: string, file: string, line: number) {
  const id = record[options.idField];
  if (id === undefined || id === null)
    throw new InputError(`record has no id`, { file, line, field: options.idField, hint: "name the id field with --id-field" });
  const question = recordQuestion(record, options.questionField);
  const response = record[responseField];
  if (question === undefined) {
    const looked =
      options.questionField === undefined
        ? `looked for ${ANY_QUESTION_FIELDS.map((name) => `"${name}"`).join(", ")}`
        : `"${options.questionField}" is missing or empty`;
    throw new InputError(`record has no question (${looked})`, {
      file,
      line,
      field: options.questionField,
      hint: "name the field holding the question with --question-field",
    });
  }
  // A record without the response (e.g. an unfinished item) cannot be compared: it is left out.
  if (typeof response !== "string") return undefined;
  return { id: String(id), question, response };
}

/** The win rate of B over A from a pairwise output file. */
export async function summarisePairs(file: string): Promise<WinRate> {
  const records: { preference: number | null; consistent: boolean | null }[] = [];
  for await (const row of readInputRows(file)) {
    const r = row.value as Record<string, unknown>;
    records.push({
      preference: (r.pairwise_preference_b as number | null) ?? null,
      consistent: (r.pairwise_consistent as boolean | null) ?? null,
    });
  }
  return winRate(records);
}

/** `spri compare`'s summary: B's win rate over the pairwise records and what did not pair; also written to `<output>.summary.json`. */
export async function writeComparison(
  output: string,
  unpaired: { onlyA: number; onlyB: number },
): Promise<WinRate & { onlyA: number; onlyB: number }> {
  const summary = { ...(await summarisePairs(output)), onlyA: unpaired.onlyA, onlyB: unpaired.onlyB };
  writeJsonFile(`${output}.summary.json`, summary);
  return summary;
}
