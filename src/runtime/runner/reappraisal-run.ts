/**
 * Running the reappraisal evaluation over several methods' outputs, the file side: the records of
 * each method are gathered into one file of cases (`method/id`), judged by the runner (resume, cache,
 * concurrency; the algorithm is `reappraisalEvalAlgorithm` in judge/reappraisal-eval.ts), then
 * reported per method (judge/reappraisal-report.ts). Each case carries the key it pairs on across
 * methods (`pair`: post id and appraisal dimension); a method's second record of the same case is
 * not judged, as the paper's notebook keeps the first.
 */
import { once } from "node:events";
import { createWriteStream, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { loadPaperJudgePack, type PaperJudgePack, paperJudgePackDir } from "../../io/prompts/paper-judge-pack.ts";
import { paperPromptFunctions } from "../../algorithms/judge/paper-reappraisal-judge.ts";
import { readInputRecords, readInputRows } from "../../io/input-reader.ts";
import { writeJsonFile } from "../../io/json-file.ts";
import { releasedJudgementsFile, releasedScores } from "../../algorithms/judge/paper-reappraisal-scores.ts";
import {
  type CaseScores,
  type MethodScores,
  pairKey,
  REPORT_CRITERIA,
  type ReappraisalReport,
  type ReportCriterion,
  reappraisalReport,
  recordScores,
} from "../../algorithms/judge/reappraisal-report.ts";
import type { EvalCase } from "./eval-report.ts";

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

/** A method of the evaluation: its name and its records (fresh), or its directory of judge files (released). */
export interface MethodFiles {
  name: string;
  path: string;
}

export interface ScoredMethod {
  name: string;
  scores: MethodScores;
}

/** Each method's released judge files (the paper's script writes one per criterion), read by the paper's rules. */
export async function rescoreJudged(methods: readonly MethodFiles[]): Promise<ScoredMethod[]> {
  const scored = [];
  for (const { name, path } of methods) {
    if (!existsSync(path) || !statSync(path).isDirectory()) {
      throw new InputError(`--method ${name}: ${path} is not a directory`, {
        file: path,
        hint: "with --judged, each --method names a directory of judge outputs",
      });
    }
    const scores = {} as Record<ReportCriterion, CaseScores>;
    for (const criterion of REPORT_CRITERIA) scores[criterion] = await releasedFileScores(name, path, criterion);
    scored.push({ name, scores });
  }
  return scored;
}

async function releasedFileScores(name: string, dir: string, criterion: ReportCriterion): Promise<CaseScores> {
  const file = join(dir, releasedJudgementsFile(criterion));
  if (!existsSync(file)) {
    throw new InputError(`--method ${name}: ${dir} has no ${releasedJudgementsFile(criterion)}`, {
      file,
      hint: "--judged reads the directories the paper's gpt-4-reappraisal_eval.py writes, one file per criterion",
    });
  }
  const rows = [];
  for await (const row of readInputRows(file)) rows.push(row);
  return releasedScores(rows, criterion, file);
}

/** The re-scored cases as records of the fields a fresh evaluation writes (`method`, `pair`, `eval_<criterion>`). */
export function judgedCases(scored: readonly ScoredMethod[]): EvalCase[] {
  return scored.flatMap(({ name, scores }) =>
    [...new Set(REPORT_CRITERIA.flatMap((criterion) => [...scores[criterion].keys()]))].map((pair) => {
      const record: Record<string, unknown> = { method: name, pair };
      for (const criterion of REPORT_CRITERIA) record[`eval_${criterion}`] = scores[criterion].get(pair) ?? null;
      return { id: `${name}/${pair}`, record };
    }),
  );
}

/** The report of a file of judged records (the runner's output), per method in the order given; also written to `<output>.summary.json`. */
export async function writeRecordsReport(
  output: string,
  methods: readonly string[],
  baselines: readonly string[],
): Promise<ReappraisalReport> {
  const report = reappraisalReport(recordScores(await readInputRecords(output), methods), baselines);
  writeJsonFile(`${output}.summary.json`, report);
  return report;
}

/** The paper's judge pack, when the prompt directories (--prompts, SPRI_PROMPTS or the config file) name one. */
export function paperJudgePack(prompts: readonly string[] | undefined): PaperJudgePack | undefined {
  if (!prompts || prompts.length === 0) return undefined;
  const dir = paperJudgePackDir(prompts);
  if (dir === undefined) {
    throw new ConfigError(`no eval_prompts.py in ${prompts.join(", ")}`, {
      field: "prompts",
      hint: "eval reappraisal's --prompts is the paper's GPT-4-eval directory; leave it out for spri's own judge prompts",
    });
  }
  return loadPaperJudgePack(dir, paperPromptFunctions());
}
