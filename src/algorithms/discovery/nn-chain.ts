/**
 * The full dendrogram by nearest-neighbour chains (Murtagh 1983; Müllner 2011, §3.3) over a condensed
 * distance matrix: O(n²) time and n(n−1)/2 doubles of memory. Cutting it is a union-find over the
 * lowest merges.
 */
import { dot, pairwiseDots } from "./dot-products.ts";
import { type Linkage, lanceWilliams } from "./linkage.ts";
import type { Items } from "./weighted-items.ts";

export interface Merge {
  /** Representative item index of each side (a slot: the lower index carries the union on). */
  a: number;
  b: number;
  height: number;
}

export const byHeight = (x: Merge, y: Merge): number => x.height - y.height;

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
 * The n − 1 merges of the full dendrogram (in creation order; heights are non-decreasing along
 * every root path). Nearest-neighbour ties go to the previous chain element, then to the lowest
 * index, so results are deterministic.
 */
export function nnChain(items: Items, linkage: Linkage): Merge[] {
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

/**
 * Union-find over the first `keep` merges (sorted by height, so this is a dendrogram cut: a merge's
 * children are never higher); labels numbered by first member.
 */
export function unionLabels(n: number, merges: readonly Merge[], keep: number): { labels: Int32Array; groups: number } {
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
