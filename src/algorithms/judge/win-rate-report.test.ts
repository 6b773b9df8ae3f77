import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { modelPreference, winRateReport } from "./win-rate-report.ts";

describe("AlpacaEval preferences", () => {
  test("1 the baseline, 2 the model, 0 and 1.5 a tie, anything else not a preference", () => {
    assert.equal(modelPreference(2), 1);
    assert.equal(modelPreference("2"), 1);
    assert.equal(modelPreference(1), 0);
    assert.equal(modelPreference(1.5), 0.5);
    assert.equal(modelPreference(0), 0.5);
    assert.equal(modelPreference("0"), 0.5);
    assert.equal(modelPreference(1.25), 0.25);
    assert.equal(modelPreference(null), null);
    assert.equal(modelPreference(Number.NaN), null);
    assert.equal(modelPreference(-1), null);
    assert.equal(modelPreference(3), null);
    assert.equal(modelPreference("n/a"), null);
    assert.equal(modelPreference(""), null);
  });
});

describe("win-rate report", () => {
  test("by hand: ties count half, unscored pairs are left out, standard error of the mean", () => {
    const report = winRateReport([2, 1, 0, 1.5, null, "2"].map((p) => ({ preference: modelPreference(p) })));
    // Model preferences 1, 0, 0.5, 0.5, 1: mean 0.6; sample variance 0.7 / 4; SEM √(0.175 / 5).
    assert.equal(report.winRate, 60);
    assert.equal(report.n, 5);
    assert.equal(report.unscored, 1);
    assert.deepEqual([report.wins, report.losses, report.ties], [2, 1, 2]);
    assert.equal(report.standardError, 18.71);
    assert.equal(report.lcWinRate, undefined, "no lengths, no length control");
  });

  test("with both outputs' texts: the LC win rate from the length GLM, rounded to 2 decimals", () => {
    const pair = (preference: number, model: string, baseline: string) => ({ preference, modelOutput: model, baselineOutput: baseline });
    const report = winRateReport([
      pair(1, "x".repeat(30), "y".repeat(20)),
      pair(0.6, "x".repeat(30), "y".repeat(20)),
      pair(0.4, "x".repeat(20), "y".repeat(30)),
      pair(0.4, "x".repeat(20), "y".repeat(30)),
    ]);
    assert.equal(report.winRate, 60);
    assert.equal(report.lcWinRate, 62.02);
    assert.deepEqual(report.lengthControl?.terms, ["tanh(std_delta_len)", "model"]);
    assert.equal(report.avgLength, 25);
  });
});
