/**
 * A 2-D map of embedding vectors for the viewer: PCA to two components, by power iteration on the
 * covariance (applied as Xᵀ(Xv)/n, never formed, so 1,536-dimensional vectors stay cheap). Above
 * `maxPoints` vectors an evenly spaced, deterministic sample is projected. Pure and deterministic:
 * the same vectors give the same map (each axis's sign is fixed so its largest loading is positive).
 */

export const DEFAULT_MAX_MAP_POINTS = 2000;

export interface ProjectedPoint {
  /** Index of the vector in the input. */
  index: number;
  x: number;
  y: number;
}

export interface Projection {
  points: ProjectedPoint[];
  /** Variance along the first and second axis (first ≥ second). */
  variance: [number, number];
}

export interface ProjectionOptions {
  /** Project at most this many vectors (default 2,000). */
  maxPoints?: number;
  /** Power iterations per component at most (default 200). */
  maxIterations?: number;
}

/** Indices of an evenly spaced sample of `size` out of `n` (all of them when n ≤ size). */
export function sampleIndices(n: number, size: number): number[] {
  const count = Math.max(0, Math.min(n, Math.floor(size)));
  if (count === n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * n) / count));
}

/** PCA of `vectors` (all of one dimension) to two components. */
export function projectPca(vectors: readonly ArrayLike<number>[], options: ProjectionOptions = {}): Projection {
  const indices = sampleIndices(vectors.length, options.maxPoints ?? DEFAULT_MAX_MAP_POINTS);
  const n = indices.length;
  if (n === 0) return { points: [], variance: [0, 0] };
  const d = vectors[indices[0]!]!.length;
  // Centred rows.
  const mean = new Float64Array(d);
  for (const i of indices) {
    const v = vectors[i]!;
    if (v.length !== d) throw new RangeError(`vector ${i} has ${v.length} dimensions, expected ${d}`);
    for (let j = 0; j < d; j++) mean[j]! += finite(v[j]!) / n;
  }
  const rows = indices.map((i) => {
    const v = vectors[i]!;
    const row = new Float64Array(d);
    for (let j = 0; j < d; j++) row[j] = finite(v[j]!) - mean[j]!;
    return row;
  });
  const maxIterations = options.maxIterations ?? 200;
  const first = component(rows, d, [], maxIterations);
  const second = component(rows, d, [first.vector], maxIterations);
  const points = rows.map((row, k) => ({ index: indices[k]!, x: dot(row, first.vector), y: dot(row, second.vector) }));
  return { points, variance: [first.variance, second.variance] };
}

/** The leading eigenvector of the covariance orthogonal to `previous`, with its eigenvalue. */
function component(
  rows: readonly Float64Array[],
  d: number,
  previous: readonly Float64Array[],
  maxIterations: number,
): { vector: Float64Array; variance: number } {
  const n = rows.length;
  let v = new Float64Array(d);
  // A fixed, non-degenerate start (a small LCG), so results do not depend on Math.random.
  let seed = 12345 + 7919 * previous.length;
  for (let j = 0; j < d; j++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    v[j] = seed / 2147483648 - 0.5;
  }
  orthogonalise(v, previous);
  if (!normalise(v)) return { vector: new Float64Array(d), variance: 0 };
  let variance = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const next = new Float64Array(d);
    for (const row of rows) {
      const p = dot(row, v) / n;
      if (p !== 0) for (let j = 0; j < d; j++) next[j]! += p * row[j]!;
    }
    orthogonalise(next, previous);
    variance = Math.sqrt(dot(next, next));
    if (!normalise(next)) return { vector: new Float64Array(d), variance: 0 };
    const change = 1 - Math.abs(dot(next, v));
    v = next;
    if (change < 1e-12) break;
  }
  // Fix the sign: the largest loading is positive.
  let largest = 0;
  for (let j = 0; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[largest]!)) largest = j;
  if (v[largest]! < 0) for (let j = 0; j < d; j++) v[j] = -v[j]!;
  return { vector: v, variance };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let j = 0; j < a.length; j++) sum += a[j]! * b[j]!;
  return sum;
}

function orthogonalise(v: Float64Array, basis: readonly Float64Array[]): void {
  for (const b of basis) {
    const p = dot(v, b);
    for (let j = 0; j < v.length; j++) v[j]! -= p * b[j]!;
  }
}

function normalise(v: Float64Array): boolean {
  const norm = Math.sqrt(dot(v, v));
  if (!(norm > 1e-12)) return false;
  for (let j = 0; j < v.length; j++) v[j]! /= norm;
  return true;
}

function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}
