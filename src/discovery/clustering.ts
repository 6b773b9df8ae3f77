/**
 * Principle clustering for the constitution (STaPLe spec §2.3): normalise and de-duplicate
 * principles, cluster their embeddings agglomeratively, pick each cluster's medoid, and map every
 * member principle to its medoid (label replacement).
 *
 * Agglomerative clustering — our own NN-chain implementation (Murtagh 1983; Müllner 2011,
 * "Modern hierarchical, agglomerative clustering algorithms", §3.3) over a condensed Float64
 * distance matrix: O(n²) time, n(n−1)/2 doubles of memory (5,000 items: 100 MB). ml-hclust's
 * `agnes` was measured first: it rescans and reallocates the whole matrix at every merge (O(n³);
 * 3.6 s for 1,000 points here, so ~8 minutes for 5,000), so it serves only as a reference in the
 * tests. Linkages (Lance–Williams updates; all reducible, so NN-chain is exact):
 * - `average` (UPGMA, default), `complete`, `single` on cosine distance 1 − cos(a, b);
 * - `ward` on Euclidean distance between the unit vectors, heights as scipy/sklearn report them
 *   (sqrt of the Lance–Williams update on squared distances); thresholds are in those units.
 * The dendrogram is cut at a height (`threshold`: merges with height ≤ threshold are kept) or into a
 * number of clusters (`clusters`).
 *
 * Above `maxExact` unique principles (default 5,000) the data are bucketed first, so no matrix
 * ever exceeds maxExact² / 2 entries:
 * 1. Spherical k-means (k-means++ seeding from a fixed seed) splits the vectors into buckets of
 *    about maxExact / 2 (oversized buckets are split again) — similar principles share a bucket.
 * 2. Each bucket is clustered exactly, and only the globally lowest merges are kept: until
 *    maxExact / 2 sub-clusters remain (or `clusters`, if larger), and never one above the threshold.
 *    The tightest merges are the safe ones; a point cut off from its group by a bucket boundary
 *    would join a foreign cluster only late (with Ward early enough to pass a threshold), so it stays
 *    alone for the second pass, which sees its group.
 * 3. The sub-clusters of all buckets are clustered again as weighted items. For average linkage
 *    with cosine distance on unit vectors, the mean distance between two sets is exactly
 *    1 − mean(A)·mean(B), and Ward's distance is a function of means and sizes too, so this second
 *    pass computes the exact linkage between sub-clusters: the result differs from unbucketed
 *    clustering only where a bucket boundary separated points that the full run would have merged
 *    below the threshold before anything else. `single` and `complete` cannot be reduced to means
 *    and are refused above maxExact.
 * If the second pass still has more than maxExact items it is bucketed the same way.
 *
 * Medoid: the member with the smallest summed cosine distance to the other members. For unit
 * vectors Σⱼ(1 − aᵢ·aⱼ) = m − aᵢ·S (S the sum of the members), so it is argmaxᵢ aᵢ·S, O(m·d).
 * Ties (within 1e-9): the principle seen more often, then the shorter text, then the earlier one.
 */
import { ConfigError, InputError } from "../errors/errors.ts";
import { seededRandom } from "../util/random.ts";

// ---------------------------------------------------------------------------------------------
// Normalisation and de-duplication

/** Trims, collapses whitespace and strips a leading "Principle:" label. */
export function normalizePrinciple(text: string): string {
  return text
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^(?:\*\*)?principle(?:\*\*)?\s*:\s*(?:\*\*)?\s*/i, "")
    .trim();
}

/** The de-duplication key: the normalised text, case-folded. */
export function principleKey(text: string): string {
  return normalizePrinciple(text).toLowerCase();
}

export interface UniquePrinciple {
  key: string;
  /** The most frequent spelling among its case variants (the first seen on ties). */
  text: string;
  /** How often it occurred, duplicates included. */
  count: number;
}

/** Principles de-duplicated case-insensitively after normalisation, with counts, in first-seen order. */
export class PrincipleSet {
  private readonly index = new Map<string, number>();
  private readonly entries: Array<{ key: string; count: number; variants: Map<string, number> }> = [];
  mentions = 0;

  /** Adds one occurrence; returns the principle's index, or undefined for an empty text. */
  add(text: string): number | undefined {
    const normalized = normalizePrinciple(text);
    if (normalized === "") return undefined;
    const key = normalized.toLowerCase();
    let position = this.index.get(key);
    if (position === undefined) {
      position = this.entries.length;
      this.index.set(key, position);
      this.entries.push({ key, count: 0, variants: new Map() });
    }
    const entry = this.entries[position]!;
    entry.count++;
    entry.variants.set(normalized, (entry.variants.get(normalized) ?? 0) + 1);
    this.mentions++;
    return position;
  }

  indexOf(text: string): number | undefined {
    return this.index.get(principleKey(text));
  }

  get size(): number {
    return this.entries.length;
  }

  unique(): UniquePrinciple[] {
    return this.entries.map(({ key, count, variants }) => {
      let text = "";
      let best = 0;
      for (const [variant, n] of variants) {
        if (n > best) {
          best = n;
          text = variant;
        }
      }
      return { key, text, count };
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Options and results

export type Linkage = "average" | "complete" | "single" | "ward";
export const LINKAGES: readonly Linkage[] = ["average", "complete", "single", "ward"];

/** Default cut heights: cosine distance for average/complete/single; for ward, sklearn's usual 1.5. */
export const DEFAULT_THRESHOLD: Readonly<Record<Linkage, number>> = { average: 0.3, complete: 0.3, single: 0.3, ward: 1.5 };
export const DEFAULT_MAX_EXACT = 5000;

export interface ClusterOptions {
  linkage?: Linkage;
  /** Cut height (merges at or below it are kept). Default DEFAULT_THRESHOLD[linkage]. */
  threshold?: number;
  /** Cut into this many clusters instead of at a height. */
  clusters?: number;
  /** Largest set clustered in one exact pass; above it the data are bucketed. Default 5,000. */
  maxExact?: number;
  /** Seed of the k-means bucketing. Default 1. */
  seed?: number;
  /**
   * Medoid tie-break between two member indices: negative when `a` should win. Used only for
   * members whose summed distances tie.
   */
  tieBreak?: (a: number, b: number) => number;
}

export interface VectorCluster {
  /** Member indices, most similar to the medoid first (the medoid itself first). */
  members: number[];
  medoid: number;
}

export interface BucketingReport {
  /** Buckets of the first pass and their sizes. */
  buckets: number[];
  /** Weighted items (sub-clusters) in the second pass. */
  secondPassItems: number;
  passes: number;
}

export interface Clustering {
  /** Cluster index per input vector (an index into `clusters`). */
  labels: Int32Array;
  /** Largest first (then by first member). */
  clusters: VectorCluster[];
  linkage: Linkage;
  threshold?: number;
  clustersRequested?: number;
  /** Set when the data were bucketed. */
  bucketing?: BucketingReport;
}

// ---------------------------------------------------------------------------------------------
// Entry points

/** Clusters vectors (any length > 0, one dimension, not all zero); they are L2-normalised here. */
export function clusterVectors(vectors: readonly ArrayLike<number>[], options: ClusterOptions = {}): Clustering {
  const linkage = options.linkage ?? "average";
  if (!LINKAGES.includes(linkage)) throw new ConfigError(`unknown linkage "${linkage}"`, { hint: `use one of ${LINKAGES.join(", ")}` });
  const n = vectors.length;
  const cut = resolveCut(options, linkage, n);
  const maxExact = Math.max(2, Math.floor(options.maxExact ?? DEFAULT_MAX_EXACT));
  if (n === 0) return { labels: new Int32Array(0), clusters: [], linkage, ...cutReport(cut) };
  const { unit, d } = packUnitVectors(vectors);
  if (n > maxExact && (linkage === "single" || linkage === "complete")) {
    throw new ConfigError(
      `${linkage} linkage needs every pairwise distance, so it is limited to ${maxExact} unique principles (got ${n})`,
      {
        hint: "use --linkage average (default) or ward, which scale by bucketing",
      },
    );
  }
  if (cut.kind === "count" && n > maxExact && cut.value > Math.floor(maxExact / 2)) {
    throw new ConfigError(
      `at most ${Math.floor(maxExact / 2)} clusters can be asked for above ${maxExact} unique principles (got ${cut.value})`,
      {
        hint: "use a distance threshold instead",
      },
    );
  }
  const items: Items = { n, d, means: unit, sizes: new Float64Array(n).fill(1) };
  const report: BucketingReport = { buckets: [], secondPassItems: 0, passes: 0 };
  const labels = clusterItems(items, linkage, cut, maxExact, options.seed ?? 1, report);
  const clusters = buildClusters(labels, unit, n, d, options.tieBreak);
  // Renumber labels to the sorted cluster order.
  const final = new Int32Array(n);
  clusters.forEach((cluster, index) => {
    for (const member of cluster.members) final[member] = index;
  });
  return { labels: final, clusters, linkage, ...cutReport(cut), ...(report.passes > 0 ? { bucketing: report } : {}) };
}

export interface PrincipleCluster {
  /** Index into the unique principles. */
  medoid: number;
  /** Indices into the unique principles, most similar to the medoid first. */
  members: number[];
  /** Occurrences of all members, duplicates included. */
  size: number;
}

export interface PrincipleClustering {
  /** Largest (by occurrences) first. */
  clusters: PrincipleCluster[];
  /** Cluster index (into `clusters`) per unique principle. */
  clusterOf: Int32Array;
  clustering: Clustering;
}

/** Clusters de-duplicated principles; medoid ties go to the more frequent, then the shorter text. */
export function clusterPrinciples(
  unique: readonly UniquePrinciple[],
  vectors: readonly ArrayLike<number>[],
  options: Omit<ClusterOptions, "tieBreak"> = {},
): PrincipleClustering {
  if (unique.length !== vectors.length) throw new RangeError(`${unique.length} principles but ${vectors.length} vectors`);
  const tieBreak = (a: number, b: number) => {
    const pa = unique[a]!;
    const pb = unique[b]!;
    return pb.count - pa.count || pa.text.length - pb.text.length || a - b;
  };
  const clustering = clusterVectors(vectors, { ...options, tieBreak });
  const clusters = clustering.clusters.map((c) => ({
    medoid: c.medoid,
    members: c.members,
    size: c.members.reduce((sum, m) => sum + unique[m]!.count, 0),
  }));
  const order = clusters
    .map((_, i) => i)
    .sort((a, b) => clusters[b]!.size - clusters[a]!.size || clusters[b]!.members.length - clusters[a]!.members.length || a - b);
  const sorted = order.map((i) => clusters[i]!);
  const clusterOf = new Int32Array(unique.length);
  sorted.forEach((cluster, index) => {
    for (const member of cluster.members) clusterOf[member] = index;
  });
  return { clusters: sorted, clusterOf, clustering };
}

/** Label replacement R: each principle's cluster medoid (undefined for unknown or empty texts). */
export function labelReplacer(
  set: PrincipleSet,
  unique: readonly UniquePrinciple[],
  result: PrincipleClustering,
): (text: string) => { cluster: number; medoid: string } | undefined {
  return (text) => {
    const index = set.indexOf(text);
    if (index === undefined) return undefined;
    const cluster = result.clusterOf[index]!;
    return { cluster, medoid: unique[result.clusters[cluster]!.medoid]!.text };
  };
}

// ---------------------------------------------------------------------------------------------
// Internals: items, cuts

/** Weighted items: `means` are the (unnormalised) means of unit vectors, `sizes` their counts. */
interface Items {
  n: number;
  d: number;
  means: Float64Array;
  sizes: Float64Array;
}

type Cut = { kind: "height"; value: number } | { kind: "count"; value: number };

function resolveCut(options: ClusterOptions, linkage: Linkage, n: number): Cut {
  if (options.threshold !== undefined && options.clusters !== undefined) {
    throw new ConfigError("give a distance threshold or a number of clusters, not both");
  }
  if (options.clusters !== undefined) {
    if (!Number.isInteger(options.clusters) || options.clusters < 1)
      throw new ConfigError(`the number of clusters must be a positive integer (got ${options.clusters})`);
    return { kind: "count", value: Math.min(options.clusters, Math.max(1, n)) };
  }
  const threshold = options.threshold ?? DEFAULT_THRESHOLD[linkage];
  if (!Number.isFinite(threshold) || threshold < 0) throw new ConfigError(`the distance threshold must be a number ≥ 0 (got ${threshold})`);
  return { kind: "height", value: threshold };
}

function cutReport(cut: Cut): { threshold?: number; clustersRequested?: number } {
  return cut.kind === "height" ? { threshold: cut.value } : { clustersRequested: cut.value };
}

function packUnitVectors(vectors: readonly ArrayLike<number>[]): { unit: Float64Array; d: number } {
  const d = vectors[0]!.length;
  if (d === 0) throw new InputError("embedding vectors are empty");
  const unit = new Float64Array(vectors.length * d);
  vectors.forEach((vector, i) => {
    if (vector.length !== d) throw new InputError(`vector ${i + 1} has ${vector.length} dimensions, the first has ${d}`);
    let sum = 0;
    for (let k = 0; k < d; k++) {
      const x = vector[k]!;
      if (!Number.isFinite(x)) throw new InputError(`vector ${i + 1} has a value that is not a finite number`);
      sum += x * x;
    }
    if (sum === 0) throw new InputError(`vector ${i + 1} is all zeros`);
    const norm = Math.sqrt(sum);
    for (let k = 0; k < d; k++) unit[i * d + k] = vector[k]! / norm;
  });
  return { unit, d };
}

/** Labels (0..k−1, arbitrary order) for every item, bucketing when there are too many. */
function clusterItems(items: Items, linkage: Linkage, cut: Cut, maxExact: number, seed: number, report: BucketingReport): Int32Array {
  if (items.n <= maxExact) {
    const merges = nnChain(items, linkage).sort(byHeight);
    const keep = cut.kind === "height" ? merges.filter((m) => m.height <= cut.value).length : items.n - cut.value;
    return unionLabels(items.n, merges, keep).labels;
  }
  report.passes++;
  const buckets = partition(items, Math.max(2, Math.floor(maxExact / 2)), maxExact, seed + report.passes);
  if (report.passes === 1) report.buckets = buckets.map((b) => b.length);

  // First pass: exact merges inside each bucket, in global item indices.
  const all: Array<Merge & { order: number }> = [];
  let order = 0;
  for (const bucket of buckets) {
    const sub = subset(items, bucket);
    for (const merge of nnChain(sub, linkage).sort(byHeight)) {
      all.push({ a: bucket[merge.a]!, b: bucket[merge.b]!, height: merge.height, order: order++ });
    }
  }
  all.sort((x, y) => x.height - y.height || x.order - y.order);
  // Keep only the lowest merges, down to `target` sub-clusters: the tightest ones are the safest
  // (a straggler cut off from its group by a bucket boundary joins a foreign cluster only late),
  // and the exact second pass has room for `target` items.
  const target = Math.max(cut.kind === "count" ? cut.value : 1, Math.floor(maxExact / 2));
  let keep = 0;
  while (keep < all.length && items.n - keep > target && (cut.kind === "count" || all[keep]!.height <= cut.value)) keep++;
  const { labels: firstLabels, groups } = unionLabels(items.n, all, keep);
  if (groups === items.n) {
    // Nothing merged inside any bucket below the threshold: every item stays alone (merges across
    // buckets would need distances never computed; k-means makes them rare).
    return firstLabels;
  }

  // Second pass: sub-clusters as weighted items (exact linkage from means and sizes).
  const second = weightedGroups(items, firstLabels, groups);
  if (report.passes === 1) report.secondPassItems = groups;
  const secondLabels = clusterItems(second, linkage, cut, maxExact, seed, report);
  const labels = new Int32Array(items.n);
  for (let i = 0; i < items.n; i++) labels[i] = secondLabels[firstLabels[i]!]!;
  return labels;
}

function subset(items: Items, indices: Int32Array): Items {
  const { d } = items;
  const means = new Float64Array(indices.length * d);
  const sizes = new Float64Array(indices.length);
  indices.forEach((index, i) => {
    means.set(items.means.subarray(index * d, index * d + d), i * d);
    sizes[i] = items.sizes[index]!;
  });
  return { n: indices.length, d, means, sizes };
}

function weightedGroups(items: Items, labels: Int32Array, groups: number): Items {
  const { d } = items;
  const means = new Float64Array(groups * d);
  const sizes = new Float64Array(groups);
  for (let i = 0; i < items.n; i++) {
    const g = labels[i]!;
    const w = items.sizes[i]!;
    sizes[g] = sizes[g]! + w;
    for (let k = 0; k < d; k++) means[g * d + k] = means[g * d + k]! + w * items.means[i * d + k]!;
  }
  for (let g = 0; g < groups; g++) for (let k = 0; k < d; k++) means[g * d + k] = means[g * d + k]! / sizes[g]!;
  return { n: groups, d, means, sizes };
}

// ---------------------------------------------------------------------------------------------
// NN-chain

interface Merge {
  /** Representative item index of each side (a slot: the lower index carries the union on). */
  a: number;
  b: number;
  height: number;
}

const byHeight = (x: Merge, y: Merge): number => x.height - y.height;

/** Condensed index of pair (i, j), i ≠ j. */
function pairIndex(i: number, j: number, n: number): number {
  if (i > j) [i, j] = [j, i];
  return i * n - (i * (i + 1)) / 2 + j - i - 1;
}

/** Initial dissimilarities: cosine distance of means, or Ward's squared distance. */
function distanceMatrix(items: Items, linkage: Linkage): Float64Array {
  const { n, d, means, sizes } = items;
  const out = pairwiseDots(means, n, d);
  let p = 0;
  if (linkage === "ward") {
    const squares = new Float64Array(n);
    for (let i = 0; i < n; i++) squares[i] = dot(means, i * d, means, i * d, d);
    for (let i = 0; i < n; i++) {
      const si = sizes[i]!;
      for (let j = i + 1; j < n; j++, p++) {
        const sj = sizes[j]!;
        out[p] = Math.max(0, ((2 * si * sj) / (si + sj)) * (squares[i]! + squares[j]! - 2 * out[p]!));
      }
    }
  } else {
    for (; p < out.length; p++) out[p] = Math.max(0, 1 - out[p]!);
  }
  return out;
}

/**
 * All dot products i < j in condensed order. Rows are taken in column blocks that stay in cache,
 * and four at a time against one row, so each value of row i is loaded once per four products
 * (about 2× faster than one dot product at a time).
 */
function pairwiseDots(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array((n * (n - 1)) / 2);
  const block = 64;
  for (let start = 0; start < n; start += block) {
    const stop = Math.min(n, start + block);
    for (let i = 0; i < stop - 1; i++) {
      const oi = i * d;
      const base = i * n - (i * (i + 1)) / 2 - i - 1;
      let j = Math.max(i + 1, start);
      for (; j + 3 < stop; j += 4) {
        const o0 = j * d;
        const o1 = o0 + d;
        const o2 = o1 + d;
        const o3 = o2 + d;
        let s0 = 0;
        let s1 = 0;
        let s2 = 0;
        let s3 = 0;
        for (let k = 0; k < d; k++) {
          const v = x[oi + k]!;
          s0 += v * x[o0 + k]!;
          s1 += v * x[o1 + k]!;
          s2 += v * x[o2 + k]!;
          s3 += v * x[o3 + k]!;
        }
        out[base + j] = s0;
        out[base + j + 1] = s1;
        out[base + j + 2] = s2;
        out[base + j + 3] = s3;
      }
      for (; j < stop; j++) out[base + j] = dot(x, oi, x, j * d, d);
    }
  }
  return out;
}

function dot(x: Float64Array, ox: number, y: Float64Array, oy: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < d; k += 4) {
    s0 += x[ox + k]! * y[oy + k]!;
    s1 += x[ox + k + 1]! * y[oy + k + 1]!;
    s2 += x[ox + k + 2]! * y[oy + k + 2]!;
    s3 += x[ox + k + 3]! * y[oy + k + 3]!;
  }
  for (; k < d; k++) s0 += x[ox + k]! * y[oy + k]!;
  return s0 + s1 + s2 + s3;
}

/**
 * The n − 1 merges of the full dendrogram (in creation order; heights are non-decreasing along
 * every root path). Nearest-neighbour ties go to the previous chain element, then to the lowest
 * index, so results are deterministic.
 */
function nnChain(items: Items, linkage: Linkage): Merge[] {
  const { n } = items;
  const merges: Merge[] = [];
  if (n < 2) return merges;
  const dist = distanceMatrix(items, linkage);
  const size = Float64Array.from(items.sizes);
  const active = new Int32Array(n);
  const where = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    active[i] = i;
    where[i] = i;
  }
  let count = n;
  const chain = new Int32Array(n);
  let length = 0;

  while (count > 1) {
    if (length === 0) chain[length++] = active[0]!;
    let a = 0;
    let b = 0;
    let height = 0;
    for (;;) {
      a = chain[length - 1]!;
      const previous = length >= 2 ? chain[length - 2]! : -1;
      let best = -1;
      let bestDistance = Number.POSITIVE_INFINITY;
      for (let p = 0; p < count; p++) {
        const k = active[p]!;
        if (k === a) continue;
        const value = dist[pairIndex(a, k, n)]!;
        if (value < bestDistance || (value === bestDistance && k < best)) {
          bestDistance = value;
          best = k;
        }
      }
      if (previous >= 0 && dist[pairIndex(a, previous, n)] === bestDistance) best = previous;
      if (best === previous) {
        b = previous;
        height = bestDistance;
        break;
      }
      chain[length++] = best;
    }
    length -= 2;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const sa = size[a]!;
    const sb = size[b]!;
    for (let p = 0; p < count; p++) {
      const k = active[p]!;
      if (k === a || k === b) continue;
      const ka = pairIndex(k, a, n);
      const kb = pairIndex(k, b, n);
      dist[pairIndex(k, lo, n)] = lanceWilliams(linkage, dist[ka]!, dist[kb]!, height, sa, sb, size[k]!);
    }
    size[lo] = sa + sb;
    // Remove `hi` from the active list (swap with the last).
    const position = where[hi]!;
    const last = active[count - 1]!;
    active[position] = last;
    where[last] = position;
    count--;
    merges.push({ a: lo, b: hi, height: linkage === "ward" ? Math.sqrt(height) : height });
  }
  return merges;
}

function lanceWilliams(linkage: Linkage, dka: number, dkb: number, dab: number, sa: number, sb: number, sk: number): number {
  switch (linkage) {
    case "single":
      return Math.min(dka, dkb);
    case "complete":
      return Math.max(dka, dkb);
    case "average":
      return (sa * dka + sb * dkb) / (sa + sb);
    case "ward":
      return Math.max(0, ((sa + sk) * dka + (sb + sk) * dkb - sk * dab) / (sa + sb + sk));
  }
}

/**
 * Union-find over the first `keep` merges (sorted by height, so this is a dendrogram cut: a merge's
 * children are never higher); labels numbered by first member.
 */
function unionLabels(n: number, merges: readonly Merge[], keep: number): { labels: Int32Array; groups: number } {
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (let m = 0; m < keep; m++) {
    const ra = find(merges[m]!.a);
    const rb = find(merges[m]!.b);
    if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
  const labels = new Int32Array(n);
  const numbers = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let label = numbers.get(root);
    if (label === undefined) {
      label = numbers.size;
      numbers.set(root, label);
    }
    labels[i] = label;
  }
  return { labels, groups: numbers.size };
}

// ---------------------------------------------------------------------------------------------
// Bucketing: spherical k-means

/** Splits items into buckets of at most `max` (aiming at `target`), similar items together. */
function partition(items: Items, target: number, max: number, seed: number): Int32Array[] {
  const all = Int32Array.from({ length: items.n }, (_, i) => i);
  const out: Int32Array[] = [];
  const pending: Int32Array[] = [all];
  const random = seededRandom(seed);
  while (pending.length > 0) {
    const indices = pending.pop()!;
    if (indices.length <= max) {
      out.push(indices);
      continue;
    }
    const k = Math.max(2, Math.ceil(indices.length / target));
    const parts = kmeans(items, indices, k, random).filter((p) => p.length > 0);
    if (parts.length < 2) {
      // All items point the same way: any split is as good as another.
      for (let start = 0; start < indices.length; start += target) out.push(indices.slice(start, start + target));
      continue;
    }
    pending.push(...parts);
  }
  return out.sort((x, y) => x[0]! - y[0]!);
}

function kmeans(items: Items, indices: Int32Array, k: number, random: () => number): Int32Array[] {
  const { d, means } = items;
  const m = indices.length;
  // Directions of the items (means of unit vectors are shorter than 1).
  const unit = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const o = indices[i]! * d;
    const norm = Math.sqrt(dot(means, o, means, o, d)) || 1;
    for (let t = 0; t < d; t++) unit[i * d + t] = means[o + t]! / norm;
  }
  // k-means++ seeding on cosine distance.
  const centers = new Float64Array(k * d);
  const nearest = new Float64Array(m).fill(Number.POSITIVE_INFINITY);
  let chosen = Math.floor(random() * m);
  for (let c = 0; c < k; c++) {
    centers.set(unit.subarray(chosen * d, chosen * d + d), c * d);
    let total = 0;
    for (let i = 0; i < m; i++) {
      const distance = Math.max(0, 1 - dot(unit, i * d, centers, c * d, d));
      if (distance < nearest[i]!) nearest[i] = distance;
      total += nearest[i]! * nearest[i]!;
    }
    if (c + 1 === k) break;
    if (total === 0) break;
    let r = random() * total;
    chosen = m - 1;
    for (let i = 0; i < m; i++) {
      r -= nearest[i]! * nearest[i]!;
      if (r <= 0) {
        chosen = i;
        break;
      }
    }
  }
  // Lloyd iterations: assign to the most similar centre, re-centre, stop when nothing moves.
  const assignment = new Int32Array(m).fill(-1);
  for (let iteration = 0; iteration < 25; iteration++) {
    let moved = 0;
    for (let i = 0; i < m; i++) {
      let best = 0;
      let bestSimilarity = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < k; c++) {
        const similarity = dot(unit, i * d, centers, c * d, d);
        if (similarity > bestSimilarity) {
          bestSimilarity = similarity;
          best = c;
        }
      }
      if (assignment[i] !== best) {
        assignment[i] = best;
        moved++;
      }
    }
    if (moved === 0) break;
    centers.fill(0);
    const counts = new Int32Array(k);
    for (let i = 0; i < m; i++) {
      const c = assignment[i]!;
      counts[c]!++;
      for (let t = 0; t < d; t++) centers[c * d + t] = centers[c * d + t]! + unit[i * d + t]!;
    }
    for (let c = 0; c < k; c++) {
      const norm = Math.sqrt(dot(centers, c * d, centers, c * d, d));
      if (counts[c] === 0 || norm === 0) {
        // An empty centre restarts at a random item.
        const i = Math.floor(random() * m);
        centers.set(unit.subarray(i * d, i * d + d), c * d);
      } else {
        for (let t = 0; t < d; t++) centers[c * d + t] = centers[c * d + t]! / norm;
      }
    }
  }
  const parts: number[][] = Array.from({ length: k }, () => []);
  for (let i = 0; i < m; i++) parts[assignment[i]!]!.push(indices[i]!);
  return parts.map((p) => Int32Array.from(p));
}

// ---------------------------------------------------------------------------------------------
// Clusters and medoids

function buildClusters(
  labels: Int32Array,
  unit: Float64Array,
  n: number,
  d: number,
  tieBreak: ((a: number, b: number) => number) | undefined,
): VectorCluster[] {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    let group = groups.get(label);
    if (group === undefined) groups.set(label, (group = []));
    group.push(i);
  }
  const clusters: Array<VectorCluster & { first: number }> = [];
  const sum = new Float64Array(d);
  for (const members of groups.values()) {
    sum.fill(0);
    for (const i of members) for (let t = 0; t < d; t++) sum[t] = sum[t]! + unit[i * d + t]!;
    // Σⱼ (1 − aᵢ·aⱼ) over the other members = m − aᵢ·S: the medoid maximises aᵢ·S.
    let medoid = members[0]!;
    let bestScore = dot(unit, medoid * d, sum, 0, d);
    for (const i of members.slice(1)) {
      const s = dot(unit, i * d, sum, 0, d);
      const tie = Math.abs(s - bestScore) <= 1e-9 * Math.max(1, Math.abs(s));
      if (tie ? (tieBreak ? tieBreak(i, medoid) : i - medoid) < 0 : s > bestScore) {
        medoid = i;
        bestScore = Math.max(s, bestScore);
      }
    }
    const similarity = (i: number) => dot(unit, i * d, unit, medoid * d, d);
    const ordered = [...members].sort((x, y) => (x === medoid ? -1 : y === medoid ? 1 : similarity(y) - similarity(x) || x - y));
    clusters.push({ members: ordered, medoid, first: members[0]! });
  }
  return clusters
    .sort((x, y) => y.members.length - x.members.length || x.first - y.first)
    .map(({ members, medoid }) => ({ members, medoid }));
}
