/** Expected values from SciPy 1.17.1: `scipy.stats.ttest_rel(a, b)` (statistic, pvalue, df). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { pairedTTest } from "./paired-t-test.ts";

const zip = (a: number[], b: number[]) => a.map((x, i) => [x, b[i]!] as const);

function assertClose(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= Math.abs(expected) * 1e-10, `${actual} differs from ${expected}`);
}

test("t, df and the two-sided p of the paired differences, as scipy's ttest_rel", () => {
  const cases: [number[], number[], number, number, number][] = [
    [[7, 8, 9, 6, 8], [6, 8, 7, 6, 7], 2.138089935299395, 0.09930068321372679, 4],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [2, 2, 3, 5, 5, 7, 7, 9, 9, 11], -2.9999999999999996, 0.014956363910414222, 9],
    [[8.5, 7.25, 9.0, 6.5], [8.0, 7.5, 8.0, 6.0], 1.697749375254331, 0.1881204043741873, 3],
    [[1, 2], [2, 1], 0, 1, 1],
  ];
  for (const [a, b, t, p, df] of cases) {
    const result = pairedTTest(zip(a, b));
    assertClose(result.t, t);
    assertClose(result.p, p);
    assert.equal(result.df, df);
  }
});

test("the same difference in every pair: t is infinite and p is 0", () => {
  assert.deepEqual(pairedTTest(zip([5, 5, 5], [4, 4, 4])), { t: Infinity, df: 2, p: 0 });
});

test("undefined (NaN) as in scipy: no difference at all, a missing score, fewer than two pairs", () => {
  for (const pairs of [zip([3, 3, 3], [3, 3, 3]), zip([4, Number.NaN, 5], [3, 4, 4]), zip([1], [2]), []]) {
    const { t, p } = pairedTTest(pairs);
    assert.ok(Number.isNaN(t) && Number.isNaN(p), JSON.stringify(pairs));
  }
});
