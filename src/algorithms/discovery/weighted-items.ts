/**
 * What the clustering passes work on: items with a mean direction and a weight. The first pass sees
 * unit vectors of weight 1; a bucketed second pass sees sub-clusters as their members' mean and count,
 * which is all average and Ward linkage need to stay exact.
 */
import { InputError } from "../../base/errors/errors.ts";

/** Weighted items: `means` are the (unnormalised) means of unit vectors, `sizes` their counts. */
export interface Items {
  n: number;
  d: number;
  means: Float64Array;
  sizes: Float64Array;
}

export function packUnitVectors(vectors: readonly ArrayLike<number>[]): { unit: Float64Array; d: number } {
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

export function subset(items: Items, indices: Int32Array): Items {
  const { d } = items;
  const means = new Float64Array(indices.length * d);
  const sizes = new Float64Array(indices.length);
  indices.forEach((index, i) => {
    means.set(items.means.subarray(index * d, index * d + d), i * d);
    sizes[i] = items.sizes[index]!;
  });
  return { n: indices.length, d, means, sizes };
}

export function weightedGroups(items: Items, labels: Int32Array, groups: number): Items {
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
