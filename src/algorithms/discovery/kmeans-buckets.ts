/**
 * Bucketing above `maxExact`: spherical k-means (k-means++ seeding from a fixed seed) splits the items
 * into buckets of about `target`, similar items together; oversized buckets are split again.
 */
import { seededRandom } from "../../base/util/random.ts";
import { dot } from "./dot-products.ts";
import type { Items } from "./weighted-items.ts";

/** Splits items into buckets of at most `max` (aiming at `target`), similar items together. */
export function partition(items: Items, target: number, max: number, seed: number): Int32Array[] {
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
