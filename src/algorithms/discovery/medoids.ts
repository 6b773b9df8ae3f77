/**
 * Clusters from labels, each with its medoid: the member with the smallest summed cosine distance to
 * the others. For unit vectors Σⱼ(1 − aᵢ·aⱼ) = m − aᵢ·S (S the members' sum), so it is argmaxᵢ aᵢ·S.
 */
import type { VectorCluster } from "./clustering.ts";
import { dot } from "./dot-products.ts";

export function buildClusters(
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
