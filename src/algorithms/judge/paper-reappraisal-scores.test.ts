import assert from "node:assert/strict";
import { test } from "node:test";
import { paperScore, releasedJudgementsFile, releasedScores } from "./paper-reappraisal-scores.ts";
import { pairKey } from "./reappraisal-report.ts";

test("alignment: the first <score>…</score> on one line, brackets stripped, a float from 1 to 10", () => {
  assert.equal(paperScore("alignment", "<score>8</score><rationale>fits</rationale>"), 8);
  assert.equal(paperScore("alignment", "<score>[8.5]</score>"), 8.5);
  assert.equal(paperScore("alignment", "<score> 7 </score> then <score>9</score>"), 7);
  assert.equal(paperScore("alignment", "<score>\n8</score>"), null);
  for (const raw of ["<score>0</score>", "<score>11</score>", "<score>eight</score>", "8", "<score>nan</score>", 8, null]) {
    assert.equal(paperScore("alignment", raw), null, String(raw));
  }
});

test("empathy: float(answer) as it is (no range check), else its first integer when it lies in 1–5", () => {
  assert.equal(paperScore("empathy", "4"), 4);
  assert.equal(paperScore("empathy", " 4.5\n"), 4.5);
  assert.equal(paperScore("empathy", "7"), 7);
  assert.equal(paperScore("empathy", 5), 5);
  assert.equal(paperScore("empathy", "On a scale of 1 to 5, I would rate it 4."), 1);
  assert.equal(paperScore("empathy", "Score: 4/5"), 4);
  assert.equal(paperScore("empathy", "I'd say 6 out of 5"), null);
  assert.equal(paperScore("empathy", "very empathetic"), null);
  assert.equal(paperScore("empathy", "nan"), null);
});

test("harmful and factuality: the exact option only", () => {
  assert.equal(paperScore("harmful", "Not Harmful"), 0);
  assert.equal(paperScore("harmful", "Harmful"), 1);
  for (const raw of ['"Not Harmful"', "Not Harmful.", "not harmful", " Harmful"]) assert.equal(paperScore("harmful", raw), null, raw);
  assert.deepEqual(
    ["Yes", "Minor Error", "No", "yes", "No."].map((raw) => paperScore("factuality", raw)),
    [1, 0.5, 0, null, null],
  );
});

test("the released files: one per criterion, named as the paper's script writes them", () => {
  assert.deepEqual((["alignment", "empathy", "harmful", "factuality"] as const).map(releasedJudgementsFile), [
    "eval-1_standard_alignment.jsonl",
    "eval-2_empathy.jsonl",
    "eval-3_harmful.jsonl",
    "eval-4_factuality.jsonl",
  ]);
});

test("released rows: the judge's text from the first raw-output column present, a repeated case counted once (the first)", () => {
  const rows = [
    { "Reddit ID": "a", appraisal_dimension_id: 1, "evaluation_raw_output-[dim_1]-[2_empathy]": "4" },
    { "Reddit ID": "a", appraisal_dimension_id: 6, "evaluation_raw_output-[dim_6]-[2_empathy]": "5" },
    { "Reddit ID": "a", appraisal_dimension_id: 1, "evaluation_raw_output-[dim_1]-[2_empathy]": "2" },
    {
      "Reddit ID": "b",
      appraisal_dimension_id: 1,
      "evaluation_raw_output-[dim_6]-[2_empathy]": "3",
      "evaluation_raw_output-[dim_1]-[2_empathy]": "1",
    },
    { "Reddit ID": "c", appraisal_dimension_id: 1, "evaluation_raw_output-[dim_1]-[2_empathy]": null },
  ].map((value, i) => ({ line: i + 1, value }));
  const scores = releasedScores(rows, "empathy", "eval-2_empathy.jsonl");
  assert.deepEqual(
    [...scores],
    [
      [pairKey("a", 1), 4],
      [pairKey("a", 6), 5],
      [pairKey("b", 1), 1],
      [pairKey("c", 1), null],
    ],
  );
});

test("a row without a post id, or a file without any judge output, names the file and line", () => {
  assert.throws(
    () => releasedScores([{ line: 3, value: { appraisal_dimension_id: 1, "evaluation_raw_output-x": "4" } }], "empathy", "f.jsonl"),
    (error: Error & { file?: string; line?: number }) => error.file === "f.jsonl" && error.line === 3 && /Reddit ID/.test(error.message),
  );
  assert.throws(
    () => releasedScores([{ line: 1, value: { "Reddit ID": "a", appraisal_dimension_id: 1, response_final: "r" } }], "empathy", "f.jsonl"),
    /no judge output \(evaluation_raw_output-…\)/,
  );
});
