import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeMiningSummary } from "./mining-summary-file.ts";

test("writeMiningSummary: the mined records' summary in <output>.summary.json, with the run's mining settings", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-mining-summary-"));
  const output = join(dir, "mined.jsonl");
  const records = [
    { accepted: true, decision: "accepted", best: { gain: 0.5 }, candidates: [{}] },
    { accepted: false, decision: "no-gain", candidates: [{ rejectedReason: "too long" }] },
  ];
  writeFileSync(output, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const summary = await writeMiningSummary(output, { candidatesPerExample: 1, similarity: "rougeL" });
  assert.equal(summary.accepted, 1);
  assert.equal(summary.rejectedCandidates, 1);
  assert.deepEqual(JSON.parse(readFileSync(`${output}.summary.json`, "utf8")), summary);
  assert.equal(summary.similarity, "rougeL");
  assert.equal(summary.candidatesPerExample, 1);
});
