import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeWinRateReport } from "./win-rate-run.ts";

test("writeWinRateReport: the model's (B's) win rate over the pairwise records, also in <output>.summary.json", async () => {
  const output = join(mkdtempSync(join(tmpdir(), "spri-win-rate-run-")), "pairs.jsonl");
  const records = [
    { id: "1", response_a: "ref", response_b: "model", pairwise_preference_b: 1 },
    { id: "2", response_a: "ref", response_b: "model", pairwise_preference_b: 0.5 },
    { id: "3", response_a: "ref", response_b: "model", pairwise_preference_b: null },
  ];
  writeFileSync(output, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const report = await writeWinRateReport(output);
  assert.deepEqual([report.winRate, report.wins, report.ties, report.losses, report.n, report.unscored], [75, 1, 1, 0, 2, 1]);
  assert.deepEqual(JSON.parse(readFileSync(`${output}.summary.json`, "utf8")), JSON.parse(JSON.stringify(report)));
});
