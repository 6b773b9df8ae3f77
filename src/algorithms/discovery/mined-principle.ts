/**
 * Reading a mined principle out of a model's answer, and the guard against leaking the gold into y2
 * through it: a principle is rejected when it is too long, shares a run of `leakNgram` consecutive
 * words with the gold, or when its Rouge-L precision against the gold is above `leakPrecision`.
 */
import { roundScore } from "../../base/util/round-score.ts";
import { rougeL, rougeTokenize } from "./rouge-l.ts";

export interface PrincipleGuard {
  /** Longest accepted principle, in words (default 60). */
  maxWords: number;
  /** Reject a principle sharing this many consecutive words with the gold (default 8; 0 disables). */
  leakNgram: number;
  /** Reject a principle whose Rouge-L precision against the gold is above this (default 0.5; 1 disables). */
  leakPrecision: number;
}

/** Rouge-L tokens without stemming (rouge_score's tokenizer): lowercase, runs of [a-z0-9]. */
export function rougeTokens(text: string): string[] {
  return rougeTokenize(text);
}

/** Trims, collapses whitespace and strips a `Principle:` label and wrapping quotes or bold marks. */
export function normalisePrinciple(text: string): string {
  let out = text.replace(/\s+/g, " ").trim();
  for (let i = 0; i < 3; i++) {
    const before = out;
    out = out
      .replace(/^[-*#>\d.)\s]*\**\s*principle\s*\d*\s*\**\s*:\s*\**\s*/i, "")
      .replace(/^["'`*“”]+|["'`*“”]+$/g, "")
      .trim();
    if (out === before) break;
  }
  return out;
}

/**
 * The principle in a model's answer: the first line labelled `Principle:`, else the first
 * non-empty line; normalised. Null when nothing is left.
 */
export function parsePrinciple(text: string): string | null {
  const lines = text
    .replace(/```[a-z]*\n?/gi, "")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const labelled = lines.find((l) => /^[-*#>\s]*\**\s*principle\s*\d*\s*\**\s*:/i.test(l));
  const line = labelled ?? lines[0];
  if (line === undefined) return null;
  const z = normalisePrinciple(line);
  return z === "" ? null : z;
}

/** Length of the longest run of consecutive tokens shared by a and b. */
export function longestCommonRun(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let best = 0;
  let prev = new Uint32Array(b.length + 1);
  let cur = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : 0;
      if (cur[j]! > best) best = cur[j]!;
    }
    [prev, cur] = [cur, prev];
    cur.fill(0);
  }
  return best;
}

/** Why a principle is rejected, or undefined when it passes the guard. */
export function principleRejection(z: string, gold: string, guard: PrincipleGuard, stem = false): string | undefined {
  const words = z.split(/\s+/).filter(Boolean).length;
  if (words > guard.maxWords) return `too long (${words} words > ${guard.maxWords})`;
  if (guard.leakNgram > 0) {
    const run = longestCommonRun(rougeTokens(z), rougeTokens(gold));
    if (run >= guard.leakNgram) return `copies the gold (shares a run of ${run} words, limit ${guard.leakNgram - 1})`;
  }
  if (guard.leakPrecision < 1) {
    // rouge_score order: rougeL(target, prediction); precision = LCS / |principle|.
    const { precision } = rougeL(gold, z, { useStemmer: stem });
    if (precision > guard.leakPrecision) return `copies the gold (Rouge-L precision ${roundScore(precision)} > ${guard.leakPrecision})`;
  }
  return undefined;
}
