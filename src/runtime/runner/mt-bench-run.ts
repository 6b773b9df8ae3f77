/** The file side of `spri eval mt-bench`: the judged records (judge/mt-bench.ts writes them) summarised as FastChat's show_result. */
import { readInputRecords } from "../../io/input-reader.ts";
import { writeJsonFile } from "../../io/json-file.ts";
import { type MtBenchSummary, mtBenchSummary } from "../../algorithms/judge/mt-bench.ts";

/** The means of a file of judged records, rounded to 4 decimals; also written to `<output>.summary.json`. */
export async function writeMtBenchReport(output: string): Promise<MtBenchSummary> {
  const score = (value: unknown) => (typeof value === "number" ? value : null);
  const rows = (await readInputRecords(output)).map((record) => ({
    category: String(record.category),
    turn1: score(record.mt_bench_turn_1_score),
    turn2: score(record.mt_bench_turn_2_score),
  }));
  const summary = rounded(mtBenchSummary(rows));
  writeJsonFile(`${output}.summary.json`, summary);
  return summary;
}

function rounded(summary: MtBenchSummary): MtBenchSummary {
  const round = (value: number | null) => (value === null ? null : Math.round(value * 10000) / 10000);
  return {
    ...summary,
    turn1: round(summary.turn1),
    turn2: round(summary.turn2),
    average: round(summary.average),
    categories: Object.fromEntries(Object.entries(summary.categories).map(([name, value]) => [name, round(value)])),
  };
}
