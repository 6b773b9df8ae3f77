import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeComparison } from "./pairwise-run.ts";

test("writeComparison: B's win rate over the judged pairs with the records only one side had, also in <output>.summary.json", async () => {
  const output = join(mkdtempSync(join(tmpdir(), "spri-pairwise-run-")), "pairs.jsonl");
  const records = [
    { id: "1", pairwise_preference_b: 1, pairwise_consistent: true },
    { id: "2", pairwise_preference_b: 0, pairwise_consistent: false },
  ];
  writeFileSync(output, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const summary = await writeComparison(output, { onlyA: 3, onlyB: 1 });
  assert.deepEqual([summary.winRateB, summary.winsB, summary.winsA, summary.inconsistent], [50, 1, 1, 1]);
  assert.deepEqual([summary.onlyA, summary.onlyB], [3, 1]);
  assert.deepEqual(JSON.parse(readFileSync(`${output}.summary.json`, "utf8")), summary);
});
