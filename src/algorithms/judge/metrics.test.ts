/**
 * Expected values computed independently in Python: SciPy 1.17.1 `pearsonr`, `spearmanr`, `rankdata`,
 * NumPy for MAE, and Krippendorff's alpha from its pairwise definition (D_o and D_e summed over every
 * ordered pair of values, not via the coincidence matrix used here). The four-coder example is from
 * Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", whose published values are
 * nominal 0.743, interval 0.849, ratio 0.797.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  averageRanks,
  krippendorffAlpha,
  meanAbsoluteError,
  meanOfRounded,
  pairedKrippendorffAlpha,
  pearson,
  roundDecimals,
  roundSignificant,
  spearman,
} from "./metrics.ts";

function assertClose(actual: number, expected: number, relative = 1e-10): void {
  const tolerance = Math.max(1e-14, Math.abs(expected) * relative);
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} differs from ${expected} by more than ${tolerance}`);
}

interface Case {
  x: number[];
  y: number[];
  pearson: [number, number];
  spearman: [number, number];
  mae: number;
  alpha: { ratio: number; interval: number; nominal: number };
}

const CASES: Record<string, Case> = {
  "no ties": {
    x: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    y: [2, 1, 4, 3, 7, 8, 6, 10, 9, 5],
    pearson: [0.7454545454545451, 0.013330146315440099],
    spearman: [0.7454545454545454, 0.013330146315440054],
    mae: 1.6,
    alpha: { ratio: 0.751033261738473, interval: 0.7581818181818182, nominal: 0.04999999999999993 },
  },
  "ties, a -1 human score and a half score": {
    x: [1, 2, 2, 3, 4, 4, 4, 5, 5, 5, -1, 3],
    y: [1, 1, 2, 3, 3, 4, 5, 4, 5, 5, 2, 2.5],
    pearson: [0.8010539508713628, 0.0017386820788064202],
    spearman: [0.8935076275628435, 8.9982974250449e-5],
    mae: 0.625,
    alpha: { ratio: -0.8541453690995995, interval: 0.791801878736123, nominal: 0.4152542372881356 },
  },
  "100 pairs on a 1-5 scale": {
    x: Array.from({ length: 100 }, (_, i) => ((i * 7) % 5) + 1),
    y: Array.from({ length: 100 }, (_, i) => ((i * i * 3 + i) % 5) + 1),
    pearson: [0.790569415042095, 1.3559466998582255e-22],
    spearman: [0.7905694150420948, 1.3559466998582972e-22],
    mae: 0.8,
    alpha: { ratio: 0.7619121834421686, interval: 0.7703846153846154, nominal: 0.21447368421052637 },
  },
};

for (const [name, c] of Object.entries(CASES)) {
  describe(`metrics: ${name}`, () => {
    test("pearson r and p", () => {
      const result = pearson(c.x, c.y);
      assert.equal(result.n, c.x.length);
      assertClose(result.coefficient, c.pearson[0], 1e-13);
      assertClose(result.p, c.pearson[1], 1e-9);
    });
    test("spearman rho and p", () => {
      const result = spearman(c.x, c.y);
      assertClose(result.coefficient, c.spearman[0], 1e-13);
      assertClose(result.p, c.spearman[1], 1e-9);
    });
    test("mean absolute error", () => assertClose(meanAbsoluteError(c.x, c.y), c.mae, 1e-14));
    test("krippendorff alpha (ratio, interval, nominal)", () => {
      assertClose(pairedKrippendorffAlpha(c.x, c.y), c.alpha.ratio, 1e-12);
      assertClose(pairedKrippendorffAlpha(c.x, c.y, "interval"), c.alpha.interval, 1e-12);
      assertClose(pairedKrippendorffAlpha(c.x, c.y, "nominal"), c.alpha.nominal, 1e-12);
    });
  });
}

describe("averageRanks", () => {
  test("ties share the mean rank (SciPy rankdata, method=average)", () => {
    assert.deepEqual(averageRanks([1, 2, 2, 3, 4, 4, 4, 5, 5, 5, -1, 3]), [2, 3.5, 3.5, 5.5, 8, 8, 8, 11, 11, 11, 1, 5.5]);
    assert.deepEqual(averageRanks([]), []);
    assert.deepEqual(averageRanks([7, 7, 7]), [2, 2, 2]);
  });
});

describe("undefined correlations", () => {
  test("fewer than two pairs, or a constant series, give NaN", () => {
    assert.ok(Number.isNaN(pearson([1], [2]).coefficient));
    assert.ok(Number.isNaN(pearson([1, 2, 3], [4, 4, 4]).coefficient));
    assert.ok(Number.isNaN(spearman([5, 5], [1, 2]).p));
    assert.ok(Number.isNaN(meanAbsoluteError([], [])));
  });
  test("two pairs: r = ±1 and p = 1, as SciPy", () => {
    assert.deepEqual(pearson([1, 2], [3, 1]), { coefficient: -1, p: 1, n: 2 });
  });
  test("unequal lengths throw", () => {
    assert.throws(() => pearson([1, 2], [1]), RangeError);
  });
});

describe("krippendorffAlpha", () => {
  const MISSING = null;
  // Krippendorff (2011), §C: 4 coders (rows) × 12 units (columns), gaps as null.
  const coders = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, MISSING, MISSING, MISSING],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, MISSING, 3],
    [MISSING, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, MISSING],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, MISSING],
  ];
  const units = coders[0]!.map((_, u) => coders.map((row) => row[u]));
  test("Krippendorff 2011 worked example", () => {
    assertClose(krippendorffAlpha(units, "nominal"), 0.743421052631579, 1e-12);
    assertClose(krippendorffAlpha(units, "interval"), 0.8491071428571428, 1e-12);
    assertClose(krippendorffAlpha(units, "ratio"), 0.7974027747116127, 1e-12);
    assert.equal(roundDecimals(krippendorffAlpha(units, "ratio")), 0.797);
  });
  test("perfect agreement is 1; no variation is NaN", () => {
    assert.equal(pairedKrippendorffAlpha([1, 2, 3], [1, 2, 3]), 1);
    assert.ok(Number.isNaN(pairedKrippendorffAlpha([2, 2], [2, 2])));
    assert.ok(Number.isNaN(krippendorffAlpha([[1], [2]])));
  });
});

describe("rounding", () => {
  test("roundDecimals: Python's round (exact binary ties to even), no -0, null for NaN", () => {
    assert.equal(roundDecimals(0.59749999), 0.597);
    assert.equal(roundDecimals(0.5975000001), 0.598);
    // Python: round(1.3125, 3) == 1.312, round(1.6875, 3) == 1.688, round(0.0625, 3) == 0.062,
    // round(-1.3125, 3) == -1.312, round(2.675, 2) == 2.67 (2.675 is 2.67499… in binary).
    assert.equal(roundDecimals(399 / 304), 1.312);
    assert.equal(roundDecimals(1.6875), 1.688);
    assert.equal(roundDecimals(0.0625), 0.062);
    assert.equal(roundDecimals(-1.3125), -1.312);
    assert.equal(roundDecimals(2.675, 2), 2.67);
    assert.equal(roundDecimals(0.5, 0), 0);
    assert.equal(roundDecimals(1.5, 0), 2);
    assert.equal(roundDecimals(-0.0004), 0);
    assert.ok(!Object.is(roundDecimals(-0.0004), -0));
    assert.equal(roundDecimals(Number.NaN), null);
  });
  test("roundSignificant", () => {
    assert.equal(roundSignificant(1.3559466998582255e-22), 1.36e-22);
    assert.equal(roundSignificant(0.013330146315440099), 0.0133);
    assert.equal(roundSignificant(0), 0);
    assert.equal(roundSignificant(Number.NaN), null);
  });
  test("meanOfRounded: the paper's average, exact decimal mean rounded half up", () => {
    // gpt-4o-mini [oracle]-[gold_rubrics] per-capability Pearson (spec §6.5) → 0.550.
    assert.equal(meanOfRounded([0.597, 0.612, 0.631, 0.641, 0.432, 0.664, 0.378, 0.448]), 0.55);
    // gpt-4o-mini vanilla: 3.012 / 8 = 0.3765 → 0.377 (binary floats would give 0.376).
    assert.equal(meanOfRounded([0.358, 0.361, 0.478, 0.62, 0.222, 0.112, 0.38, 0.481]), 0.377);
    // Values are rounded first: 0.0004 + 0.0004 → 0 + 0.
    assert.equal(meanOfRounded([0.0004, 0.0004]), 0);
    assert.equal(meanOfRounded([-0.376, -0.377]), -0.377);
    assert.equal(meanOfRounded([0.1, null]), null);
    assert.equal(meanOfRounded([]), null);
  });
});
