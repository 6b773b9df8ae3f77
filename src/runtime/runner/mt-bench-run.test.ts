import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeMtBenchReport } from "./mt-bench-run.ts";

test("writeMtBenchReport: the judged records' means rounded to 4 decimals, also in <output>.summary.json", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-mt-bench-run-"));
  const output = join(dir, "judged.jsonl");
  const records = [
    { id: "81", category: "writing", mt_bench_turn_1_score: 8, mt_bench_turn_2_score: 7 },
    { id: "82", category: "writing", mt_bench_turn_1_score: 9, mt_bench_turn_2_score: null },
    { id: "111", category: "math", mt_bench_turn_1_score: 2, mt_bench_turn_2_score: 4 },
  ];
  writeFileSync(output, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const report = await writeMtBenchReport(output);
  assert.deepEqual(report, {
    turn1: 6.3333,
    turn2: 5.5,
    average: 6,
    n: 5,
    unscored: 1,
    categories: { writing: 8, math: 3 },
  });
  assert.deepEqual(JSON.parse(readFileSync(`${output}.summary.json`, "utf8")), report);
});
