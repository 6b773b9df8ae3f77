/**
 * The automatic number of clusters (`clusters: "auto"`): the dendrogram is cut into every k of
 * [min, max] and the cut with the highest mean silhouette wins; ties go to the smaller k.
 *
 * Silhouette (Rousseeuw 1987) of a point i with cosine distance: a = mean distance to the other
 * members of its cluster, b = the lowest mean distance to the members of another cluster,
 * s = (b − a) / max(a, b); a point alone in its cluster scores 0 (sklearn's convention). The
 * silhouette is measured on cosine distance whatever the linkage, so every linkage is judged alike.
 *
 * For unit vectors the summed cosine distance from i to a set C is |C| − aᵢ·S_C (S_C the sum of
 * C's vectors), so with the dot products of the scored points against all points precomputed once,
 * one cut costs O(m·n). Above `sample` points only an evenly spaced sample of m = `sample` points
 * is scored (against all points), as sklearn's `silhouette_score(sample_size=…)` does.
 */
import { ConfigError } from "../../base/errors/errors.ts";
import { dot } from "./dot-products.ts";
import { type Merge, unionLabels } from "./nn-chain.ts";

export interface ClusterCountOptions {
  /** Smallest k tried (default 2). */
  min?: number;
  /** Largest k tried (default 100; never above n − 1). */
  max?: number;
  /** Points scored per cut (default 2,000; all when there are fewer). */
  sample?: number;
}

export const DEFAULT_CLUSTER_COUNT = Object.freeze({ min: 2, max: 100, sample: 2000 });

export interface ClusterCountChoice {
  criterion: "silhouette";
  metric: "cosine";
  /** The k range actually tried. */
  min: number;
  max: number;
  chosen: number;
  /** Mean silhouette of the chosen cut (0 when no k could be scored). */
  silhouette: number;
  scores: { k: number; silhouette: number }[];
}

/** Evenly spaced indices: all of 0..n−1 when n ≤ m. */
function sampleIndices(n: number, m: number): Int32Array {
  if (n <= m) return Int32Array.from({ length: n }, (_, i) => i);
  return Int32Array.from({ length: m }, (_, i) => Math.floor((i * n) / m));
}

/** Dot products of the sampled points (rows) against every point: m × n, row-major. */
function sampleDots(unit: Float64Array, n: number, d: number, sampled: Int32Array): Float64Array {
  const out = new Float64Array(sampled.length * n);
  sampled.forEach((i, row) => {
    for (let j = 0; j < n; j++) out[row * n + j] = dot(unit, i * d, unit, j * d, d);
  });
  return out;
}

/** Mean silhouette (cosine distance) of `labels` (0..k−1) over the sampled points. */
export function meanSilhouette(dots: Float64Array, n: number, sampled: Int32Array, labels: Int32Array, k: number): number {
  const sizes = new Float64Array(k);
  for (let j = 0; j < n; j++) sizes[labels[j]!]! += 1;
  const sums = new Float64Array(k);
  let total = 0;
  sampled.forEach((i, row) => {
    sums.fill(0);
    for (let j = 0; j < n; j++) sums[labels[j]!]! += dots[row * n + j]!;
    const own = labels[i]!;
    if (sizes[own]! < 2) return; // a singleton scores 0
    // The point's own dot product (1 for a unit vector) is left out of its cluster's mean.
    const a = (sizes[own]! - 1 - (sums[own]! - dots[row * n + i]!)) / (sizes[own]! - 1);
    let b = Number.POSITIVE_INFINITY;
    for (let c = 0; c < k; c++) if (c !== own && sizes[c]! > 0) b = Math.min(b, (sizes[c]! - sums[c]!) / sizes[c]!);
    const denominator = Math.max(a, b);
    if (Number.isFinite(b) && denominator > 0) total += (b - a) / denominator;
  });
  return total / sampled.length;
}

/** The k range tried for n points, clipped to [2, n − 1]; a ConfigError naming the flags when empty or inverted. */
export function clusterCountRange(n: number, options: ClusterCountOptions = {}): { min: number; max: number } {
  const min = options.min ?? DEFAULT_CLUSTER_COUNT.min;
  const max = options.max ?? DEFAULT_CLUSTER_COUNT.max;
  if (!Number.isInteger(min) || !Number.isInteger(max) || min < 2 || max < min) {
    throw new ConfigError(`the automatic cluster count needs integers 2 ≤ min ≤ max (got ${min}..${max})`, {
      field: "minClusters",
      hint: "fix --min-clusters / --max-clusters, or give --clusters <k>",
    });
  }
  return { min: Math.min(min, Math.max(1, n - 1)), max: Math.min(max, Math.max(1, n - 1)) };
}

/**
 * The k in [min, max] whose dendrogram cut has the highest mean silhouette. `merges` are sorted by
 * height (a cut into k keeps the first n − k). With fewer than 3 points nothing can be scored: every
 * point is its own cluster.
 */
export function chooseClusterCount(
  unit: Float64Array,
  n: number,
  d: number,
  merges: readonly Merge[],
  options: ClusterCountOptions = {},
): ClusterCountChoice {
  const range = clusterCountRange(n, options);
  const base = { criterion: "silhouette", metric: "cosine", ...range } as const;
  if (n < 3) return { ...base, chosen: n, silhouette: 0, scores: [] };
  const sampled = sampleIndices(n, Math.max(1, options.sample ?? DEFAULT_CLUSTER_COUNT.sample));
  const dots = sampleDots(unit, n, d, sampled);
  const scores: { k: number; silhouette: number }[] = [];
  let best = { k: range.min, silhouette: Number.NEGATIVE_INFINITY };
  for (let k = range.min; k <= range.max; k++) {
    const { labels, groups } = unionLabels(n, merges, n - k);
    const silhouette = Math.round(meanSilhouette(dots, n, sampled, labels, groups) * 1e6) / 1e6;
    scores.push({ k, silhouette });
    if (silhouette > best.silhouette) best = { k, silhouette };
  }
  return { ...base, chosen: best.k, silhouette: best.silhouette, scores };
}
