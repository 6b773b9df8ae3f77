import assert from "node:assert/strict";
import { test } from "node:test";
import { type CaseScores, type MethodScores, pairKey, REPORT_CRITERIA, reappraisalReport, recordScores } from "./reappraisal-report.ts";

/** One method whose every criterion has these scores, keyed post p1, p2, … (dimension 1). */
function method(name: string, scores: (number | null)[], overrides: Partial<MethodScores> = {}) {
  const byCase: CaseScores = new Map(scores.map((score, i) => [pairKey(`p${i + 1}`, 1), score]));
  const all = Object.fromEntries(REPORT_CRITERIA.map((criterion) => [criterion, byCase])) as MethodScores;
  return { name, scores: { ...all, ...overrides } };
}

test("means skip unscored cases, rounded to 2 decimals as the paper's round(mean, 2)", () => {
  const report = reappraisalReport([method("a", [8, 7, 9, null, 7])], []);
  assert.deepEqual(report.methods.a!.alignment, { mean: 7.75, n: 4, unscored: 1, markers: "" });
  assert.deepEqual(reappraisalReport([method("b", [8, 7, 8])], []).methods.b!.empathy.mean, 7.67);
  assert.deepEqual(reappraisalReport([method("c", [null])], []).methods.c!.factuality, { mean: null, n: 0, unscored: 1, markers: "" });
  assert.deepEqual(report.tests, []);
});

test("every method against every other baseline; * marks p < 0.05 against the first, † against the second", () => {
  const vanilla = method("vanilla", [6, 7, 6, 7, 6, 7]);
  const refine = method("refine", [6, 7, 7, 7, 6, 7]);
  const spri = method("spri", [9, 9, 8, 9, 9, 8]);
  const report = reappraisalReport([vanilla, refine, spri], ["vanilla", "refine"]);
  assert.equal(report.methods.spri!.alignment.markers, "*†");
  assert.equal(report.methods.refine!.alignment.markers, "");
  assert.equal(report.methods.vanilla!.alignment.markers, "");
  const pairs = report.tests.filter((t) => t.criterion === "alignment").map((t) => `${t.method}-${t.baseline}`);
  assert.deepEqual(pairs, ["vanilla-refine", "refine-vanilla", "spri-vanilla", "spri-refine"]);
  const spriVanilla = report.tests.find((t) => t.method === "spri" && t.baseline === "vanilla" && t.criterion === "empathy")!;
  assert.equal(spriVanilla.n, 6);
  assert.equal(spriVanilla.df, 5);
  assert.ok(spriVanilla.p! < 0.001 && spriVanilla.t! > 0);
  assert.equal(spriVanilla.reason, undefined);
});

test("a marker is two-sided, as in the paper: a method significantly worse is marked too", () => {
  const report = reappraisalReport([method("base", [9, 9, 8, 9, 9, 8]), method("worse", [6, 7, 6, 7, 6, 7])], ["base"]);
  assert.equal(report.methods.worse!.alignment.markers, "*");
});

test("undefined tests (p null) never mark: a case unscored in either method, cases that do not pair up, no difference at all", () => {
  const base = method("base", [6, 7, 6, 7, 6, 7]);
  const unscored = method("unscored", [9, 9, 8, 9, 9, null]);
  const unpaired = method("unpaired", [9, 9, 8, 9, 9, 8, 9]);
  const same = method("same", [6, 7, 6, 7, 6, 7]);
  const report = reappraisalReport([base, unscored, unpaired, same], ["base"]);
  const test = (name: string) => report.tests.find((t) => t.method === name && t.criterion === "alignment")!;
  assert.deepEqual(
    [test("unscored"), test("unpaired"), test("same")].map((t) => [t.p, t.t, t.reason]),
    [
      [null, null, "unscored"],
      [null, null, "unpaired"],
      [null, null, "no-difference"],
    ],
  );
  for (const name of ["unscored", "unpaired", "same"]) assert.equal(report.methods[name]!.alignment.markers, "");
});

test("a baseline that is not among the methods, or a third baseline, is refused", () => {
  assert.throws(() => reappraisalReport([method("a", [1, 2])], ["b"]), /--baseline b is not one of the methods \(a\)/);
  const three = [method("a", [1, 2]), method("b", [1, 2]), method("c", [1, 2])];
  assert.throws(() => reappraisalReport(three, ["a", "b", "c"]), /at most two --baseline/);
});

test("cases pair on post id and appraisal dimension", () => {
  assert.notEqual(pairKey("Anger_20", 1), pairKey("Anger_20", 2));
  assert.equal(pairKey("Anger_20", 1), pairKey("Anger_20", 1));
});

test("judged records give each method's scores by the case they pair on", () => {
  const rows = [
    { id: "spri/1", method: "spri", pair: pairKey("a", 1), eval_alignment: 8, eval_empathy: null, eval_harmful: 0, eval_factuality: 1 },
    { id: "base/1", method: "base", pair: pairKey("a", 1), eval_alignment: 6, eval_empathy: 4, eval_harmful: 0, eval_factuality: 1 },
    { id: "spri/2", method: "spri", eval_alignment: 9, eval_empathy: 5, eval_harmful: 1, eval_factuality: 0.5 },
  ];
  const [spri, base] = recordScores(rows, ["spri", "base"]);
  assert.deepEqual([spri!.name, base!.name], ["spri", "base"]);
  assert.deepEqual(
    [...spri!.scores.alignment],
    [
      [pairKey("a", 1), 8],
      ["spri/2", 9],
    ],
  );
  assert.deepEqual([...spri!.scores.empathy.values()], [null, 5]);
  assert.deepEqual([...base!.scores.harmful], [[pairKey("a", 1), 0]]);
});

test("the report does not depend on the order the cases were judged in (a fresh run's records come in finish order)", () => {
  // Integer scores, as judges give them; in this order the t statistic's sums differed in the last bit.
  const a = [7, 8, 6, 10, 5, 8, 8, 6, 9, 9, 7, 4];
  const b = [6, 8, 7, 9, 6, 7, 8, 6, 9, 8, 5, 4];
  const keyed = (scores: number[], order: number[]) => new Map(order.map((i) => [pairKey(`p${i}`, 1), scores[i]!] as [string, number]));
  const report = (order: number[]) =>
    reappraisalReport([method("a", [], { alignment: keyed(a, order) }), method("b", [], { alignment: keyed(b, order) })], ["b"]);
  const [one, two] = [report([...a.keys()]), report([1, 10, 11, 7, 8, 9, 3, 0, 5, 2, 4, 6])];
  assert.deepEqual(two.methods, one.methods);
  assert.deepEqual(two.tests, one.tests);
});
