/**
 * The paired (dependent samples) t-test of the paper's significance marks: SciPy's
 * `ttest_rel(a, b)` with its defaults, two-sided, NaN propagated. The statistic is the mean of the
 * differences a − b over its standard error, with n − 1 degrees of freedom.
 *
 * Undefined cases are NaN, as in SciPy, so callers can tell "not testable" from "not significant":
 * a NaN among the scores, fewer than two pairs, or no difference at all (0/0). A difference that is
 * the same non-zero number in every pair gives t = ±∞ and p = 0.
 */
import { studentTTwoSidedP } from "./student-t.ts";

export interface PairedTTest {
  t: number;
  df: number;
  p: number;
}

export function pairedTTest(pairs: readonly (readonly [number, number])[]): PairedTTest {
  const differences = pairs.map(([a, b]) => a - b);
  const n = differences.length;
  if (n < 2 || differences.some(Number.isNaN)) return { t: Number.NaN, df: n < 2 ? Number.NaN : n - 1, p: Number.NaN };
  const mean = differences.reduce((sum, d) => sum + d, 0) / n;
  const variance = differences.reduce((sum, d) => sum + (d - mean) ** 2, 0) / (n - 1);
  const t = mean / Math.sqrt(variance / n);
  return { t, df: n - 1, p: studentTTwoSidedP(t, n - 1) };
}
