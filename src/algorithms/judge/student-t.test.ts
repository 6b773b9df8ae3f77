/**
 * Expected values from SciPy 1.17.1: `scipy.special.gammaln(x)`, `scipy.special.betainc(a, b, x)`,
 * `2 * scipy.stats.t.sf(abs(t), df)`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { correlationTwoSidedP, logGamma, regularizedIncompleteBeta, studentTTwoSidedP } from "./student-t.ts";

function assertClose(actual: number, expected: number, relative = 1e-12, absolute = 1e-300): void {
  const tolerance = Math.max(absolute, Math.abs(expected) * relative);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} differs from ${expected} by more than ${tolerance}`);
}

describe("logGamma", () => {
  const cases: [number, number][] = [
    [0.5, 0.5723649429247],
    [1, 0],
    [1.5, -0.12078223763524526],
    [3, 0.6931471805599453],
    [10, 12.801827480081469],
    [100.5, 361.43554046777757],
    [0.001, 6.907178885383853],
    [0.25, 1.2880225246980774],
  ];
  for (const [x, expected] of cases) {
    test(`ln Γ(${x})`, () => assertClose(logGamma(x), expected, 1e-13, 1e-14));
  }
  test("NaN outside the domain", () => {
    assert.ok(Number.isNaN(logGamma(0)));
    assert.ok(Number.isNaN(logGamma(-1)));
  });
});

describe("regularizedIncompleteBeta", () => {
  const cases: [number, number, number, number][] = [
    [0.3, 2, 3, 0.34829999999999994],
    [0.9, 0.5, 0.5, 0.7951672353008665],
    [0.999, 10, 0.5, 0.8888967091248604],
    [0.5, 1, 1, 0.5],
    [0.2, 50, 0.5, 9.994267861337003e-37],
  ];
  for (const [x, a, b, expected] of cases) {
    test(`I_${x}(${a}, ${b})`, () => assertClose(regularizedIncompleteBeta(x, a, b), expected, 1e-11));
  }
  test("ends and domain", () => {
    assert.equal(regularizedIncompleteBeta(0, 2, 3), 0);
    assert.equal(regularizedIncompleteBeta(1, 2, 3), 1);
    assert.ok(Number.isNaN(regularizedIncompleteBeta(1.5, 2, 3)));
    assert.ok(Number.isNaN(regularizedIncompleteBeta(0.5, 0, 3)));
    assert.ok(regularizedIncompleteBeta(0.01, 199, 0.5) < 1e-300);
  });
});

describe("studentTTwoSidedP", () => {
  const cases: [number, number, number][] = [
    [2.0, 10, 0.07338803477074037],
    [1.0, 1, 0.5000000000000001],
    [5.0, 398, 8.611646046231518e-7],
    [-3.3, 25, 0.0029052202137769094],
    [0.0, 7, 1.0],
    [12.0, 398, 1.5756743406356627e-28],
  ];
  for (const [t, df, expected] of cases) {
    test(`t=${t}, df=${df}`, () => assertClose(studentTTwoSidedP(t, df), expected, 1e-10));
  }
  test("infinite t gives 0", () => assert.equal(studentTTwoSidedP(Number.POSITIVE_INFINITY, 5), 0));
});

describe("correlationTwoSidedP", () => {
  test("agrees with the t statistic", () => {
    const r = 0.3;
    const n = 40;
    const t = r * Math.sqrt((n - 2) / (1 - r * r));
    assertClose(correlationTwoSidedP(r, n), studentTTwoSidedP(t, n - 2), 1e-12);
  });
  test("|r| = 1 gives 0; n < 3 gives NaN", () => {
    assert.equal(correlationTwoSidedP(1, 10), 0);
    assert.equal(correlationTwoSidedP(-1, 10), 0);
    assert.ok(Number.isNaN(correlationTwoSidedP(0.5, 2)));
  });
});
