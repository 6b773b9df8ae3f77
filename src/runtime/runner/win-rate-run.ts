/** The file side of `spri eval win-rate`: judged pairs read from AlpacaEval's annotations or from spri's pairwise records. */
import { InputError } from "../../base/errors/errors.ts";
import { checkInputFile, readInputRows } from "../../io/input-reader.ts";
import { writeJsonFile } from "../../io/json-file.ts";
import { type JudgedPair, modelPreference, type WinRateReport, winRateReport } from "../../algorithms/judge/win-rate-report.ts";
import type { EvalCase } from "./eval-report.ts";

/**
 * AlpacaEval's annotations, read as released: one record per judged pair. Answers their report and
 * each annotation as a case (its instruction and the model's preference) for the run store.
 */
export async function judgedPairs(file: string): Promise<{ report: WinRateReport; cases: EvalCase[] }> {
  checkInputFile(file);
  const pairs: JudgedPair[] = [];
  const cases: EvalCase[] = [];
  const models = new Set<string>();
  for await (const row of readInputRows(file)) {
    const record = row.value as Record<string, unknown>;
    if (!("preference" in record)) {
      throw new InputError("record has no preference", {
        file,
        line: row.line,
        field: "preference",
        hint: "give AlpacaEval's annotations (1 the baseline wins, 2 the model wins, 1.5 or 0 a tie)",
      });
    }
    if (typeof record.generator_2 === "string") models.add(record.generator_2);
    const difficulty = record.instruction_difficulty;
    const id = `line ${row.line ?? cases.length + 1}`;
    cases.push({ id, record: { id, question: record.instruction, pairwise_preference_b: modelPreference(record.preference) } });
    pairs.push({
      preference: modelPreference(record.preference),
      modelOutput: typeof record.output_2 === "string" ? record.output_2 : undefined,
      baselineOutput: typeof record.output_1 === "string" ? record.output_1 : undefined,
      ...(typeof difficulty === "number" ? { difficulty } : {}),
    });
  }
  if (models.size > 1) {
    throw new InputError(`the annotations judge ${models.size} models (${[...models].slice(0, 3).join(", ")}…) against the baseline`, {
      file,
      field: "generator_2",
      hint: "give one model's annotations per file: a win rate mixing models says nothing about either",
    });
  }
  return { report: winRateReport(pairs), cases };
}

/** The pairs of a file of pairwise records (`pairwise_preference_b`: the model's, B). */
export async function pairsOf(file: string): Promise<JudgedPair[]> {
  const pairs: JudgedPair[] = [];
  for await (const row of readInputRows(file)) {
    const r = row.value as Record<string, unknown>;
    pairs.push({
      preference: typeof r.pairwise_preference_b === "number" ? r.pairwise_preference_b : null,
      modelOutput: String(r.response_b),
      baselineOutput: String(r.response_a),
    });
  }
  return pairs;
}

/** The model's win rate over a file of pairwise records; also written to `<output>.summary.json`. */
export async function writeWinRateReport(output: string): Promise<WinRateReport> {
  const report = winRateReport(await pairsOf(output));
  writeJsonFile(`${output}.summary.json`, report);
  return report;
}
