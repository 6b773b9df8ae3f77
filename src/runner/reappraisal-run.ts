/**
 * Running the reappraisal evaluation over several methods' outputs, the file side: the records of
 * each method are gathered into one file of cases (`method/id`), judged by the runner (resume, cache,
 * concurrency; the algorithm is `reappraisalEvalAlgorithm` in judge/reappraisal-eval.ts), then
 * averaged per method.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { InputError } from "../errors/errors.ts";
import { readInputRows } from "../io/input-reader.ts";
import { type CriterionMeans, meansByMethod } from "../judge/reappraisal-eval.ts";

export interface ReappraisalFields {
  response: string;
  post: string;
  standards: string;
  aim: string;
  id?: string;
}

export const DEFAULT_REAPPRAISAL_FIELDS: ReappraisalFields = {
  response: "response_final",
  post: "Reddit Post",
  standards: "standards",
  aim: "appraisal_dimension_aim",
};

/** Writes one case per record of every method; returns the number of cases per method. */
export async function gatherCases(
  methods: readonly { name: string; file: string }[],
  fields: ReappraisalFields,
  output: string,
): Promise<Map<string, number>> {
  const out = createWriteStream(output, "utf8");
  const counts = new Map<string, number>();
  for (const { name, file } of methods) {
    let n = 0;
    for await (const row of readInputRows(file)) {
      const r = row.value as Record<string, unknown>;
      for (const field of [fields.response, fields.post]) {
        if (typeof r[field] !== "string") {
          throw new InputError(`record has no text in "${field}"`, {
            file,
            line: row.line,
            field,
            hint: "name the field with --response-field / --post-field",
          });
        }
      }
      const id = fields.id !== undefined ? r[fields.id] : undefined;
      const itemId = `${name}/${id === undefined || id === null ? row.line : String(id)}`;
      const kase = {
        id: itemId,
        method: name,
        question: r[fields.post],
        response: r[fields.response],
        standards: r[fields.standards],
        aim: r[fields.aim],
      };
      if (!out.write(`${JSON.stringify(kase)}\n`)) await once(out, "drain");
      n++;
    }
    counts.set(name, n);
  }
  out.end();
  await once(out, "finish");
  return counts;
}

export async function summariseReappraisal(file: string): Promise<Map<string, CriterionMeans>> {
  const rows: Record<string, unknown>[] = [];
  for await (const row of readInputRows(file)) rows.push(row.value as Record<string, unknown>);
  return meansByMethod(rows);
}
