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
 * The dendrogram is cut at a height (`threshold`: merges with height ≤ threshold are kept), into a
 * number of clusters (`clusters`), or into the number the silhouette criterion picks
 * (`clusters: "auto"`, cluster-count.ts; up to maxExact unique principles).
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
import { ConfigError } from "../../base/errors/errors.ts";
import { type ClusterCountChoice, type ClusterCountOptions, chooseClusterCount } from "./cluster-count.ts";
import { partition } from "./kmeans-buckets.ts";
import { DEFAULT_THRESHOLD, type Linkage, LINKAGES } from "./linkage.ts";
import { buildClusters } from "./medoids.ts";
import { byHeight, type Merge, nnChain, unionLabels } from "./nn-chain.ts";
import type { PrincipleSet, UniquePrinciple } from "./principle-set.ts";
import { type Items, packUnitVectors, subset, weightedGroups } from "./weighted-items.ts";

// ---------------------------------------------------------------------------------------------
// Options and results

export const DEFAULT_MAX_EXACT = 5000;

export interface ClusterOptions {
  linkage?: Linkage;
  /** Cut height (merges at or below it are kept). Default DEFAULT_THRESHOLD[linkage]. */
  threshold?: number;
  /** Cut into this many clusters instead of at a height; "auto": the count with the best silhouette. */
  clusters?: number | "auto";
  /** The range and sample of `clusters: "auto"`. */
  clusterCount?: ClusterCountOptions;
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
  /** Set for `clusters: "auto"`: the silhouette of every k tried and the k chosen. */
  clusterCount?: ClusterCountChoice;
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
  let choice: ClusterCountChoice | undefined;
  let labels: Int32Array;
  if (cut.kind === "auto") {
    if (n > maxExact) {
      throw new ConfigError(`the automatic cluster count is limited to ${maxExact} unique principles (got ${n})`, {
        field: "clusters",
        hint: "give --clusters <k> or --threshold <distance>, or raise --max-exact",
      });
    }
    const merges = nnChain(items, linkage).sort(byHeight);
    choice = chooseClusterCount(unit, n, d, merges, options.clusterCount);
    labels = unionLabels(n, merges, n - choice.chosen).labels;
  } else {
    labels = clusterItems(items, linkage, cut, maxExact, options.seed ?? 1, report);
  }
  const clusters = buildClusters(labels, unit, n, d, options.tieBreak);
  // Renumber labels to the sorted cluster order.
  const final = new Int32Array(n);
  clusters.forEach((cluster, index) => {
    for (const member of cluster.members) final[member] = index;
  });
  return {
    labels: final,
    clusters,
    linkage,
    ...cutReport(cut),
    ...(choice ? { clusterCount: choice } : {}),
    ...(report.passes > 0 ? { bucketing: report } : {}),
  };
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

type Cut = { kind: "height"; value: number } | { kind: "count"; value: number } | { kind: "auto" };

function resolveCut(options: ClusterOptions, linkage: Linkage, n: number): Cut {
  if (options.threshold !== undefined && options.clusters !== undefined) {
    throw new ConfigError("give a distance threshold or a number of clusters, not both");
  }
  if (options.clusters === "auto") return { kind: "auto" };
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
  return cut.kind === "height" ? { threshold: cut.value } : cut.kind === "count" ? { clustersRequested: cut.value } : {};
}
/** Labels (0..k−1, arbitrary order) for every item, bucketing when there are too many. */
function clusterItems(
  items: Items,
  linkage: Linkage,
  cut: Exclude<Cut, { kind: "auto" }>,
  maxExact: number,
  seed: number,
  report: BucketingReport,
): Int32Array {
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
