import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fitLogistic } from "./logistic-fit.ts";
import { lengthControlledWinRate } from "./length-controlled.ts";

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe("logistic regression on soft labels", () => {
  test("an intercept alone fits the mean preference", () => {
    const fit = fitLogistic([[1], [1], [1], [1]], [1, 0.5, 0, 1]);
    assert.ok(Math.abs(sigmoid(fit.coefficients[0]!) - 0.625) < 1e-9);
  });

  test("two groups and two parameters: each group's mean is met exactly (saturated model)", () => {
    const fit = fitLogistic(
      [
        [1, 0.5],
        [1, 0.5],
        [1, -0.5],
        [1, -0.5],
      ],
      [1, 0.6, 0.4, 0.4],
    );
    const [b, w] = fit.coefficients as [number, number];
    assert.ok(Math.abs(sigmoid(b + 0.5 * w) - 0.8) < 1e-9);
    assert.ok(Math.abs(sigmoid(b - 0.5 * w) - 0.4) < 1e-9);
  });
});

describe("length-controlled win rate (AlpacaEval 2.0's GLM)", () => {
  test("by hand: the preference predicted at equal lengths, from the model term and the tanh length term", () => {
    // Longer than the baseline: preferences 1 and 0.6 (mean 0.8); shorter: 0.4 and 0.4. The fit meets both
    // group means, so the model term b is the mean of their logits, and at equal lengths the preference is σ(b).
    const lc = lengthControlledWinRate([
      { preference: 1, modelLength: 30, baselineLength: 20 },
      { preference: 0.6, modelLength: 30, baselineLength: 20 },
      { preference: 0.4, modelLength: 20, baselineLength: 30 },
      { preference: 0.4, modelLength: 20, baselineLength: 30 },
    ]);
    assert.ok(lc !== null);
    assert.deepEqual(lc.terms, ["tanh(std_delta_len)", "model"]);
    const b = (logit(0.8) + logit(0.4)) / 2; // 0.49041…
    assert.ok(Math.abs(lc.lcWinRate - sigmoid(b) * 100) < 1e-6, String(lc.lcWinRate)); // 62.0204…
    assert.ok(Math.abs(lc.lcWinRate - 62.02041028867288) < 1e-6);
    // A baseline longer than the model (delta = baseline - model > 0) lowers the model's preference.
    assert.ok(lc.weights["tanh(std_delta_len)"]! < 0);
  });

  test("by hand: with the instruction-difficulty term, the prediction keeps each instruction's difficulty", () => {
    const lc = lengthControlledWinRate([
      { preference: 0.8, modelLength: 30, baselineLength: 20, difficulty: 0 },
      { preference: 0.4, modelLength: 20, baselineLength: 30, difficulty: 0 },
      { preference: 0.9, modelLength: 30, baselineLength: 20, difficulty: 1 },
    ]);
    assert.ok(lc !== null);
    assert.deepEqual(lc.terms, ["tanh(std_delta_len)", "instruction_difficulty", "model"]);
    const b = (logit(0.8) + logit(0.4)) / 2;
    const wDifficulty = logit(0.9) - logit(0.8);
    const expected = ((2 * sigmoid(b) + sigmoid(b + wDifficulty)) / 3) * 100; // 67.5489…
    assert.ok(Math.abs(lc.lcWinRate - expected) < 1e-6, String(lc.lcWinRate));
    assert.ok(Math.abs(lc.lcWinRate - 67.54898122131587) < 1e-6);
  });

  test("equal lengths everywhere: no length term, and the LC win rate is the raw one", () => {
    const lc = lengthControlledWinRate([
      { preference: 1, modelLength: 5, baselineLength: 5 },
      { preference: 0, modelLength: 5, baselineLength: 5 },
      { preference: 1, modelLength: 5, baselineLength: 5 },
      { preference: 0.5, modelLength: 5, baselineLength: 5 },
    ]);
    assert.ok(lc !== null);
    assert.deepEqual(lc.terms, ["model"]);
    assert.ok(Math.abs(lc.lcWinRate - 62.5) < 1e-6);
  });

  test("fewer than two judged pairs: undefined (null)", () => {
    assert.equal(lengthControlledWinRate([{ preference: 1, modelLength: 3, baselineLength: 5 }]), null);
  });
});
