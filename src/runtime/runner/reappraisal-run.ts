/**
 * Running the reappraisal evaluation over several methods' outputs, the file side: the records of
 * each method are gathered into one file of cases (`method/id`), judged by the runner (resume, cache,
 * concurrency; the algorithm is `reappraisalEvalAlgorithm` in judge/reappraisal-eval.ts), then
 * reported per method (judge/reappraisal-report.ts). Each case carries the key it pairs on across
 * methods (`pair`: post id and appraisal dimension); a method's second record of the same case is
 * not judged, as the paper's notebook keeps the first.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { InputError } from "../../base/errors/errors.ts";
import { readInputRows } from "../../io/input-reader.ts";
import { pairKey } from "../../algorithms/judge/reappraisal-report.ts";

export interface ReappraisalFields {
  response: string;
  post: string;
  standards: string;
  aim: string;
  /** The fields a case pairs on; without the post id, a case pairs on its record id. */
  postId: string;
  dimension: string;
  id?: string;
}

export const DEFAULT_REAPPRAISAL_FIELDS: ReappraisalFields = {
  response: "response_final",
  post: "Reddit Post",
  standards: "standards",
  aim: "appraisal_dimension_aim",
  postId: "Reddit ID",
  dimension: "appraisal_dimension_id",
};

/** Writes one case per record of every method; returns the number of cases per method and the repeats left out. */
export async function gatherCases(
  methods: readonly { name: string; file: string }[],
  fields: ReappraisalFields,
  output: string,
): Promise<{ counts: Map<string, number>; repeats: number }> {
  const out = createWriteStream(output, "utf8");
  const counts = new Map<string, number>();
  let repeats = 0;
  for (const { name, file } of methods) {
    let n = 0;
    const seen = new Set<string>();
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
      const recordId = id === undefined || id === null ? String(row.line) : String(id);
      const pair = r[fields.postId] === undefined ? recordId : pairKey(r[fields.postId], r[fields.dimension]);
      if (seen.has(pair)) {
        repeats++;
        continue;
      }
      seen.add(pair);
      const kase = {
        id: `${name}/${recordId}`,
        method: name,
        pair,
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
  return { counts, repeats };
}
