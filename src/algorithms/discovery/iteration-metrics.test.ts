import assert from "node:assert/strict";
import { test } from "node:test";
import { constitutionDiversity, formatIterationReport, iterationReportRows, summariseIterationEval } from "./iteration-metrics.ts";
import type { IterationState } from "./iterations.ts";

test("constitution diversity: mean pairwise 1 − Rouge-L F1 of the representatives, by hand", () => {
  // "a b" vs "a c": LCS 1, P = R = 1/2, F = 1/2. "a b" vs "d e": F = 0. "a c" vs "d e": F = 0.
  // Distances 0.5, 1, 1 → mean 2.5 / 3.
  assert.equal(constitutionDiversity(["a b", "a c", "d e"]), Math.round((2.5 / 3) * 10000) / 10000);
  assert.equal(constitutionDiversity(["only one"]), null);
  assert.equal(constitutionDiversity(["same words", "same words"]), 0);
});

const record = (f1: number | null, previous: number | null, base: number | null) => ({
  eval_answer: "answer",
  eval_rougeL: f1 === null ? null : { precision: f1, recall: f1, f1 },
  eval_vs_previous: previous === null ? null : { preference: previous, baseline: "prev" },
  eval_vs_base: base === null ? null : { preference: base, baseline: "base" },
});

test("summariseIterationEval: mean Rouge-L against the gold and win rates (ties half), by hand", () => {
  const summary = summariseIterationEval([record(0.2, 1, 1), record(0.4, 0.5, 1), record(0.6, 0, 0.5), record(null, null, null)]);
  assert.equal(summary.n, 4);
  // Rouge-L over the three records with a gold: (0.2 + 0.4 + 0.6) / 3.
  assert.equal(summary.rougeL, 0.4);
  assert.equal(summary.rougeLItems, 3);
  // Against the previous iteration: (1 + 0.5 + 0) / 3 = 50%; one win, one loss, one tie, one unscored.
  assert.equal(summary.vsPrevious!.winRate, 50);
  assert.deepEqual([summary.vsPrevious!.wins, summary.vsPrevious!.losses, summary.vsPrevious!.ties], [1, 1, 1]);
  // Against the base model: (1 + 1 + 0.5) / 3 = 83.33%.
  assert.equal(summary.vsBase!.winRate, 83.33);
  // No comparison at all (iteration 1): null.
  assert.equal(summariseIterationEval([record(0.5, null, null)]).vsBase, null);
});

test("the report across iterations: one row per iteration, a table and the same rows for --json", () => {
  const state = {
    iterations: [
      {
        iter: 1,
        slice: { file: "iter-1/prompts.jsonl", size: 10 },
        model: { baseModel: "m0", setAt: "" },
        stats: { mined: 10, accepted: 4, constitutionSize: 3, constitutionDiversity: 0.8 },
        eval: { n: 5, rougeL: 0.31, rougeLItems: 5, vsPrevious: null, vsBase: null },
      },
      {
        iter: 2,
        slice: { file: "iter-2/prompts.jsonl", size: 10 },
        model: { baseModel: "m1", setAt: "" },
        stats: { mined: 10, accepted: 6, constitutionSize: 2, constitutionDiversity: 0.7 },
        eval: { n: 5, rougeL: 0.35, rougeLItems: 5, vsPrevious: { winRate: 60, n: 5 }, vsBase: { winRate: 60, n: 5 } },
      },
      { iter: 3, slice: { file: "iter-3/prompts.jsonl", size: 10 } },
    ],
  } as unknown as IterationState;
  const rows = iterationReportRows(state);
  assert.deepEqual(rows[1], {
    iter: 2,
    model: "m1",
    accepted: 6,
    acceptRate: 0.6,
    constitution: 2,
    diversity: 0.7,
    evalItems: 5,
    rougeL: 0.35,
    winRateVsPrevious: 60,
    winRateVsBase: 60,
  });
  assert.equal(rows[2]!.rougeL, null);
  const table = formatIterationReport(state).split("\n");
  assert.match(table[0]!, /^iter\s+model\s+accepted\s+constitution\s+diversity\s+rougeL\s+vs-previous\s+vs-base$/);
  assert.match(table[2]!, /^2\s+m1\s+6 \(60\.0%\)\s+2\s+0\.7000\s+0\.3500\s+60\.00%\s+60\.00%$/);
  assert.match(table[3]!, /^3\s+-\s+-\s+-\s+-\s+-\s+-\s+-$/);
});
