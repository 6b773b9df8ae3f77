/**
 * The agglomerative linkages and their Lance–Williams updates (all reducible, so NN-chain is exact):
 * `average`, `complete` and `single` on cosine distance, `ward` on squared Euclidean distance between
 * unit vectors (its heights are reported as the square root, as scipy and sklearn do).
 */
export type Linkage = "average" | "complete" | "single" | "ward";
export const LINKAGES: readonly Linkage[] = ["average", "complete", "single", "ward"];

/** Default cut heights: cosine distance for average/complete/single; for ward, sklearn's usual 1.5. */
export const DEFAULT_THRESHOLD: Readonly<Record<Linkage, number>> = { average: 0.3, complete: 0.3, single: 0.3, ward: 1.5 };

export function lanceWilliams(linkage: Linkage, dka: number, dkb: number, dab: number, sa: number, sb: number, sk: number): number {
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
