/** The summary of a mined records file, written beside it as `<output>.summary.json`. */
import { type MiningSummary, summariseMining } from "../../algorithms/discovery/mining-summary.ts";
import { readInputRecords } from "../../io/input-reader.ts";
import { writeJsonFile } from "../../io/json-file.ts";

/** What the run mined with, recorded with the counts. */
export interface MiningSummaryContext {
  candidatesPerExample: number;
  similarity: string;
}

export async function writeMiningSummary(output: string, context: MiningSummaryContext): Promise<MiningSummary & MiningSummaryContext> {
  const records = await readInputRecords(output);
  const summary = { ...summariseMining(records), ...context };
  writeJsonFile(`${output}.summary.json`, summary);
  return summary;
}
