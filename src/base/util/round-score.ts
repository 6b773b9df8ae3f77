/** A score rounded to four decimals, as the discovery records and summaries show them. */
export function roundScore(x: number): number {
  return Math.round(x * 10000) / 10000;
}
