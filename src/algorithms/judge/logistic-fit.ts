/**
 * Logistic regression by maximum likelihood on soft labels: each row's target is a probability in
 * [0, 1] (a judge's preference, ties 0.5), as AlpacaEval fits its length-controlled GLM. No intercept
 * is added: give a column of ones for one. Newton–Raphson with step halving; a few columns only (the
 * normal equations are solved directly), so this is for the handful of terms a GLM here has.
 *
 * Unpenalised: where the data separate perfectly the coefficients run off towards infinity and the
 * iteration stops at its cap, with predictions at the limit (0 or 1), which is what the fit means.
 */

export interface LogisticFit {
  coefficients: number[];
  iterations: number;
}

const MAX_ITERATIONS = 100;
const TOLERANCE = 1e-12;

export function fitLogistic(rows: readonly (readonly number[])[], targets: readonly number[]): LogisticFit {
  const width = rows[0]?.length ?? 0;
  let beta = new Array<number>(width).fill(0);
  let current = logLikelihood(rows, targets, beta);
  for (let iteration = 1; iteration <= MAX_ITERATIONS; iteration++) {
    const step = newtonStep(rows, targets, beta);
    if (step === null) return { coefficients: beta, iterations: iteration };
    let scale = 1;
    let next = beta.map((b, j) => b + step[j]!);
    let nextLikelihood = logLikelihood(rows, targets, next);
    while (nextLikelihood < current && scale > 1e-6) {
      scale /= 2;
      next = beta.map((b, j) => b + scale * step[j]!);
      nextLikelihood = logLikelihood(rows, targets, next);
    }
    const gain = nextLikelihood - current;
    beta = next;
    current = nextLikelihood;
    if (gain < TOLERANCE) return { coefficients: beta, iterations: iteration };
  }
  return { coefficients: beta, iterations: MAX_ITERATIONS };
}

export function logistic(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

function dot(row: readonly number[], beta: readonly number[]): number {
  return row.reduce((sum, x, j) => sum + x * beta[j]!, 0);
}

/** Σ y log p + (1 - y) log(1 - p), written through log-sum-exp so that large margins stay finite. */
function logLikelihood(rows: readonly (readonly number[])[], targets: readonly number[], beta: readonly number[]): number {
  let total = 0;
  rows.forEach((row, i) => {
    const z = dot(row, beta);
    const y = targets[i]!;
    total += y * -softplus(-z) + (1 - y) * -softplus(z);
  });
  return total;
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** The Newton direction H⁻¹ g; null when the gradient vanishes or the Hessian is singular. */
function newtonStep(rows: readonly (readonly number[])[], targets: readonly number[], beta: readonly number[]): number[] | null {
  const width = beta.length;
  const gradient = new Array<number>(width).fill(0);
  const hessian = Array.from({ length: width }, () => new Array<number>(width).fill(0));
  rows.forEach((row, i) => {
    const p = logistic(dot(row, beta));
    const weight = p * (1 - p);
    for (let j = 0; j < width; j++) {
      gradient[j]! += (targets[i]! - p) * row[j]!;
      for (let k = 0; k < width; k++) hessian[j]![k]! += weight * row[j]! * row[k]!;
    }
  });
  if (gradient.every((g) => Math.abs(g) < 1e-14)) return null;
  return solve(hessian, gradient);
}

/** Gaussian elimination with partial pivoting; null for a singular system. */
function solve(matrix: number[][], vector: number[]): number[] | null {
  const n = vector.length;
  const a = matrix.map((row, i) => [...row, vector[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    if (Math.abs(a[pivot]![col]!) < 1e-300) return null;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    for (let r = col + 1; r < n; r++) {
      const factor = a[r]![col]! / a[col]![col]!;
      for (let c = col; c <= n; c++) a[r]![c]! -= factor * a[col]![c]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = a[r]![n]!;
    for (let c = r + 1; c < n; c++) sum -= a[r]![c]! * x[c]!;
    x[r] = sum / a[r]![r]!;
  }
  return x;
}
