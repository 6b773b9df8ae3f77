/**
 * Agreement between a judge's scores and human scores: Pearson's r, Spearman's rho (average ranks
 * for ties), mean absolute error, and Krippendorff's alpha. Each follows the SciPy / `krippendorff`
 * package definition the SPRI reference (`calc_pearson_corr.py`) uses, and is checked against values
 * SciPy computed in metrics.test.ts. Undefined values (too few pairs, a constant series) are NaN.
 */
import { correlationTwoSidedP } from "./student-t.ts";

export interface Correlation {
  /** The coefficient in [-1, 1]; NaN when undefined (n < 2, or either series constant). */
  coefficient: number;
  /** Two-sided p-value against no correlation (Student's t, n-2 df); NaN when undefined. */
  p: number;
  n: number;
}

function checkPaired(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw new RangeError(`paired series differ in length (${x.length} and ${y.length})`);
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

/**
 * Pearson's r as SciPy's `pearsonr` computes it: centred, then normalised. For n = 2 the
 * coefficient is ±1 and p = 1, as in SciPy.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): Correlation {
  checkPaired(x, y);
  const n = x.length;
  if (n < 2) return { coefficient: Number.NaN, p: Number.NaN, n };
  const xMean = mean(x);
  const yMean = mean(y);
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - xMean;
    const dy = y[i]! - yMean;
    sxx += dx * dx;
    syy += dy * dy;
    sxy += dx * dy;
  }
  if (sxx === 0 || syy === 0) return { coefficient: Number.NaN, p: Number.NaN, n };
  if (n === 2) return { coefficient: Math.sign(sxy), p: 1, n };
  let norm = Math.sqrt(sxx * syy);
  if (!Number.isFinite(norm) || norm === 0) norm = Math.sqrt(sxx) * Math.sqrt(syy);
  const r = Math.max(-1, Math.min(1, sxy / norm));
  return { coefficient: r, p: correlationTwoSidedP(r, n), n };
}

/** 1-based ranks; tied values share the mean of the ranks they span (SciPy `rankdata(method="average")`). */
export function averageRanks(values: ArrayLike<number>): number[] {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start + 1;
    while (end < order.length && values[order[end]!] === values[order[start]!]) end++;
    const rank = (start + 1 + end) / 2; // mean of ranks start+1 … end
    for (let k = start; k < end; k++) ranks[order[k]!] = rank;
    start = end;
  }
  return ranks;
}

/**
 * Spearman's rho: Pearson's r of the average ranks (SciPy `spearmanr`), with its p-value from
 * Student's t with n-2 df, as SciPy's default.
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): Correlation {
  checkPaired(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/** Mean of |x_i - y_i|; NaN for no pairs. */
export function meanAbsoluteError(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  if (x.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += Math.abs(x[i]! - y[i]!);
  return sum / x.length;
}

export type AlphaLevel = "nominal" | "interval" | "ratio";

/** Squared difference δ² for each level of measurement (Krippendorff 2011, §E). */
function squaredDistance(level: AlphaLevel, c: number, k: number): number {
  if (c === k) return 0;
  switch (level) {
    case "nominal":
      return 1;
    case "interval":
      return (c - k) * (c - k);
    case "ratio": {
      // As the `krippendorff` package: 0 when c + k = 0 (the metric assumes non-negative values).
      const sum = c + k;
      return sum === 0 ? 0 : ((c - k) / sum) ** 2;
    }
  }
}

/**
 * Krippendorff's alpha, α = 1 - D_o / D_e, from the coincidence matrix (Krippendorff 2011,
 * "Computing Krippendorff's Alpha-Reliability"). `units` holds one array per unit with each
 * coder's value, `null`/`undefined`/NaN where a coder gave none; units with fewer than two values
 * are not pairable and are left out. For two coders with no gaps, D_o is the mean of δ²(h_i, j_i)
 * and D_e the mean δ² over all pairs of the 2n values. NaN when no pairable value varies.
 */
export function krippendorffAlpha(units: Iterable<ReadonlyArray<number | null | undefined>>, level: AlphaLevel = "ratio"): number {
  let observed = 0; // Σ_u Σ_{i≠j} δ²(v_i, v_j) / (m_u - 1)
  let total = 0; // n: pairable values
  const counts = new Map<number, number>();
  for (const unit of units) {
    const values = unit.filter((v): v is number => typeof v === "number" && !Number.isNaN(v));
    const m = values.length;
    if (m < 2) continue;
    let pairs = 0;
    for (let i = 0; i < m; i++) {
      for (let j = i + 1; j < m; j++) pairs += squaredDistance(level, values[i]!, values[j]!);
    }
    observed += (2 * pairs) / (m - 1);
    total += m;
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  if (total < 2) return Number.NaN;
  const distinct = [...counts.entries()];
  let expected = 0; // Σ_c Σ_k n_c n_k δ²(c, k)
  for (let a = 0; a < distinct.length; a++) {
    for (let b = a + 1; b < distinct.length; b++) {
      const [c, nc] = distinct[a]!;
      const [k, nk] = distinct[b]!;
      expected += 2 * nc * nk * squaredDistance(level, c, k);
    }
  }
  if (expected === 0) return Number.NaN;
  return 1 - ((total - 1) * observed) / expected;
}

/** Krippendorff's alpha for two coders rating the same items (no gaps). */
export function pairedKrippendorffAlpha(x: ArrayLike<number>, y: ArrayLike<number>, level: AlphaLevel = "ratio"): number {
  checkPaired(x, y);
  return krippendorffAlpha(
    Array.from({ length: x.length }, (_, i) => [x[i]!, y[i]!]),
    level,
  );
}

/**
 * `value` rounded to `digits` decimals as Python's `round(value, digits)`: correctly rounded from the
 * exact binary value, and an exact tie (only values m / 2^(digits+1) with m odd, such as an MAE of
 * 399/304 = 1.3125) goes to the even last digit. Null for NaN or ±Infinity; never -0.
 */
export function roundDecimals(value: number, digits = 3): number | null {
  if (!Number.isFinite(value)) return null;
  let rounded: number;
  const halves = value * 2 ** (digits + 1); // exact: a power of two
  if (Number.isInteger(halves) && halves % 2 !== 0 && Math.abs(halves) < 2 ** 52) {
    const scale = 10 ** digits;
    const low = Math.floor(value * scale); // value·10^digits is an exact half-integer here
    rounded = (low % 2 === 0 ? low : low + 1) / scale;
  } else {
    // toFixed rounds the exact binary value; away from ties the direction is unambiguous.
    rounded = Number(value.toFixed(digits));
  }
  return rounded === 0 ? 0 : rounded; // no -0 in reports
}

/** `value` to `digits` significant digits (for p-values); null for NaN or ±Infinity. */
export function roundSignificant(value: number, digits = 3): number | null {
  if (!Number.isFinite(value)) return null;
  return value === 0 ? 0 : Number(value.toPrecision(digits));
}

/**
 * The paper's average over groups: each value rounded to `digits` decimals (`roundDecimals`), then
 * the arithmetic mean of the rounded values, itself rounded half up. The mean is taken in exact decimal arithmetic
 * (integer thousandths), so a mean of exactly x.xxx5 rounds up: the mean of the gpt-4o-mini vanilla
 * capabilities is 3.012 / 8 = 0.3765, reported as 0.377 (binary floating point gives 0.37649… and
 * 0.376). Null when there are no values or any value is undefined (NaN/null), as the mean would be
 * NaN in the reference.
 */
export function meanOfRounded(values: ReadonlyArray<number | null>, digits = 3): number | null {
  if (values.length === 0) return null;
  const scale = 10 ** digits;
  let units = 0;
  for (const value of values) {
    if (value === null || !Number.isFinite(value)) return null;
    units += Math.round(roundDecimals(value, digits)! * scale);
  }
  const count = values.length;
  const magnitude = Math.abs(units);
  let quotient = Math.floor(magnitude / count);
  if (2 * (magnitude - quotient * count) >= count) quotient++;
  const result = (Math.sign(units) * quotient) / scale;
  return result === 0 ? 0 : result;
}
