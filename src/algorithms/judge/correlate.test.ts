/**
 * correlateFile over small files in every input format. Expected metric values come from SciPy
 * 1.17.1 (`pearsonr`, `spearmanr`) and NumPy, rounded as the report rounds; alpha from the pairwise
 * definition of Krippendorff's ratio alpha.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { BIGGEN_CAPABILITIES, correlateFile, correlationMetrics, parseGroupList, parseScore } from "./correlate.ts";

const SCORED = [
  // group a: human 1..5, judge 1,3,2,5,4
  ...[
    [1, 1],
    [2, 3],
    [3, 2],
    [4, 5],
    [5, 4],
  ].map(([human, judge]) => ({ capability: "a", human_score: human, "evaluator_LM-score": judge })),
  // group b, with a human score of -1 that is kept
  ...[
    [5, 4],
    [4, 4],
    [3, 3],
    [2, 1],
    [1, 2],
    [-1, 2],
  ].map(([human, judge]) => ({ capability: "b", human_score: human, "evaluator_LM-score": judge })),
];

const DROPPED = [
  { capability: "a", human_score: 3, "evaluator_LM-score": null }, // unscored
  { capability: "b", human_score: 3 }, // unscored (absent)
  { capability: "b", "evaluator_LM-score": 2 }, // no human score
  { human_score: 2, "evaluator_LM-score": 2 }, // no group
];

let dir: string;
let jsonl: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "spri-correlate-"));
  jsonl = join(dir, "judge.jsonl");
  // Group b first: default group order is first appearance.
  const rows = [...SCORED.slice(5), DROPPED[0], ...SCORED.slice(0, 5), ...DROPPED.slice(1)];
  writeFileSync(jsonl, `${rows.map((row) => JSON.stringify(row)).join("\n")}\n`);
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("correlateFile", () => {
  test("per-group metrics, the paper's mean, pooled values and drop counts", async () => {
    const { report, groups } = await correlateFile({ file: jsonl, groupBy: "capability" });
    assert.deepEqual(report.groups, [
      { name: "b", n: 6 },
      { name: "a", n: 5 },
    ]);
    assert.equal(groups[0]!.human.length, 6);
    assert.equal(report.read, 15);
    assert.equal(report.n, 11);
    assert.equal(report.dropped, 4);
    assert.deepEqual(report.droppedByReason, {
      malformed: 0,
      unscored: 2,
      "no-human-score": 1,
      unparseable: 0,
      "no-group": 1,
      "other-group": 0,
    });
    const { pearson, spearman, mae, krippendorff_alpha } = report.metrics;
    assert.deepEqual({ ...pearson.groups }, { b: 0.739, a: 0.8 });
    assert.deepEqual({ ...pearson.p }, { b: 0.0933, a: 0.104 });
    assert.equal(pearson.mean, 0.77); // (0.739 + 0.8) / 2 = 0.7695, rounded half up
    assert.equal(pearson.pooled, 0.74);
    assert.equal(pearson.pooledP, 0.00918);
    assert.deepEqual({ ...spearman.groups }, { b: 0.794, a: 0.8 });
    assert.deepEqual({ ...spearman.p }, { b: 0.059, a: 0.104 });
    assert.equal(spearman.mean, 0.797);
    assert.equal(spearman.pooled, 0.8);
    assert.equal(spearman.pooledP, 0.00311);
    assert.deepEqual({ ...mae.groups }, { b: 1, a: 0.8 });
    assert.equal(mae.mean, 0.9);
    assert.equal(mae.pooled, 0.909);
    assert.deepEqual({ ...krippendorff_alpha.groups }, { b: -0.94, a: 0.852 });
    assert.equal(krippendorff_alpha.mean, -0.044);
    assert.equal(krippendorff_alpha.pooled, -0.815);
    assert.equal(report.metric, "pearson");
    assert.equal(report.mean, 0.77);
  });

  test("--groups: order and filter; other groups are counted; a group never seen is an error", async () => {
    const { report } = await correlateFile({ file: jsonl, groupBy: "capability", groups: ["a"], metric: "spearman" });
    assert.deepEqual(report.groups, [{ name: "a", n: 5 }]);
    assert.equal(report.droppedByReason["other-group"], 6);
    assert.equal(report.mean, 0.8);
    await assert.rejects(correlateFile({ file: jsonl, groupBy: "capability", groups: ["a", "zz"] }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.describe(), /no row has "zz".*groups in the file: b, a/);
      return true;
    });
  });

  test("without a group field all rows form one group", async () => {
    const { report } = await correlateFile({ file: jsonl });
    assert.deepEqual(report.groups, [{ name: "all", n: 12 }]);
    assert.equal(report.groupBy, null);
    assert.equal(report.droppedByReason["no-group"], 0);
    assert.equal(report.metrics.pearson.mean, report.metrics.pearson.pooled);
  });

  test("a text score is an error naming file, line and field", async () => {
    const file = write(
      "text.jsonl",
      [SCORED[0], { ...SCORED[1], "evaluator_LM-score": "Feedback: fine. [RESULT] 4" }].map((r) => JSON.stringify(r)).join("\n"),
    );
    await assert.rejects(correlateFile({ file, groupBy: "capability" }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.line, 2);
      assert.equal(error.field, "evaluator_LM-score");
      assert.match(
        error.describe(),
        /text\.jsonl:2: field "evaluator_LM-score": not a number: "Feedback: fine\. \[RESULT\] 4" — .*--drop-unparseable/,
      );
      return true;
    });
    const rows = [...SCORED, { ...SCORED[0], human_score: "high" }, { ...SCORED[1], "evaluator_LM-score": "four" }];
    const both = write("text2.jsonl", rows.map((r) => JSON.stringify(r)).join("\n"));
    const { report } = await correlateFile({ file: both, groupBy: "capability", dropUnparseable: true });
    assert.equal(report.droppedByReason.unparseable, 2);
    assert.equal(report.n, 11);
  });

  test("CSV: numeric strings parse, empty/NaN/None cells are unscored", async () => {
    const lines = [
      "capability,human_score,evaluator_LM-score",
      ...SCORED.map((r) => `${r.capability},${r.human_score},${r["evaluator_LM-score"]}.0`),
      "a,3,",
      "a,3,NaN",
      "b,2,None",
    ];
    const file = write("judge.csv", `${lines.join("\n")}\n`);
    const { report } = await correlateFile({ file, groupBy: "capability" });
    assert.equal(report.n, 11);
    assert.equal(report.droppedByReason.unscored, 3);
    assert.deepEqual({ ...report.metrics.pearson.groups }, { a: 0.8, b: 0.739 });
  });

  test("malformed JSONL lines: an error, or counted with skipMalformed", async () => {
    const file = write("broken.jsonl", `${SCORED.map((r) => JSON.stringify(r)).join("\n")}\n{"capability": "a", \n`);
    await assert.rejects(correlateFile({ file }), /malformed JSON/);
    const { report } = await correlateFile({ file, skipMalformed: true });
    assert.equal(report.droppedByReason.malformed, 1);
    assert.equal(report.read, 12);
  });

  test("no usable row: an error that names the fields to check", async () => {
    await assert.rejects(correlateFile({ file: jsonl, scoreField: "score" }), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(
        error.describe(),
        /no usable row among 15 \(dropped: 15 unscored\).*--score-field "score".*fields of the first row: capability, human_score, evaluator_LM-score/,
      );
      return true;
    });
    await assert.rejects(correlateFile({ file: jsonl, groupBy: "skill" }), (error: unknown) => {
      assert.match((error as InputError).describe(), /check --group-by "skill" \(or pass --no-group-by\)/);
      return true;
    });
  });

  test("groups named without a group field is an error", async () => {
    await assert.rejects(correlateFile({ file: jsonl, groups: ["a"] }), (error: unknown) => {
      assert.match((error as InputError).describe(), /groups were named but no group field — pass --group-by/);
      return true;
    });
  });
});

describe("correlationMetrics", () => {
  test("a group whose value is undefined makes the mean null, not a mean over fewer groups", () => {
    const metrics = correlationMetrics([
      { name: "x", human: [1, 2, 3], judge: [1, 2, 4] },
      { name: "flat", human: [1, 2, 3], judge: [3, 3, 3] },
    ]);
    assert.equal(metrics.pearson.groups.flat, null);
    assert.equal(metrics.pearson.p.flat, null);
    assert.equal(metrics.pearson.mean, null);
    assert.equal(metrics.mae.mean, 0.667); // (0.333 + 1) / 2 = 0.6665 → 0.667
  });
});

describe("parseScore", () => {
  test("numbers, missing values and text", () => {
    assert.deepEqual(parseScore(4), { kind: "number", value: 4 });
    assert.deepEqual(parseScore(" 3.5 "), { kind: "number", value: 3.5 });
    assert.deepEqual(parseScore("-1"), { kind: "number", value: -1 });
    for (const missing of [undefined, null, Number.NaN, "", "  ", "null", "None", "NaN", "NA", "n/a"]) {
      assert.deepEqual(parseScore(missing), { kind: "missing" }, String(missing));
    }
    assert.deepEqual(parseScore("4 out of 5"), { kind: "text", text: "4 out of 5" });
    assert.deepEqual(parseScore(true), { kind: "text", text: "true" });
    assert.equal(parseScore(Number.POSITIVE_INFINITY).kind, "text");
    assert.equal(parseScore("0x10").kind, "text");
  });
});

describe("parseGroupList", () => {
  test("names, the biggen preset, and mistakes", () => {
    assert.deepEqual(parseGroupList("a, b,c"), ["a", "b", "c"]);
    assert.deepEqual(parseGroupList("biggen"), [...BIGGEN_CAPABILITIES]);
    assert.throws(() => parseGroupList(" , "), InputError);
    assert.throws(() => parseGroupList("a,a"), /named twice/);
  });
});
