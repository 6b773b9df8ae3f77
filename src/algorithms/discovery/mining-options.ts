/** The knobs of principle mining and their defaults (stape-spec §3, §5). */
import type { SamplingOptions } from "../../models/language-model.ts";
import type { PrincipleGuard } from "./mined-principle.ts";

export type SimilarityKind = "rougeL" | "judge";
export const SIMILARITY_KINDS: readonly SimilarityKind[] = ["rougeL", "judge"];
export interface MiningSampling {
  answer: SamplingOptions;
  principle: SamplingOptions;
  critique: SamplingOptions;
  refine: SamplingOptions;
  judge: SamplingOptions;
  /** The principle-following check (`followCheck`). */
  follows: SamplingOptions;
}

export interface MiningOptions {
  /** N: candidate principles per example (default 8, spec §5). */
  candidates: number;
  sampling: MiningSampling;
  similarity: SimilarityKind;
  /** Porter-stem tokens longer than 3 characters in Rouge-L (default false, as `rouge_score`'s default). */
  stem: boolean;
  guard: PrincipleGuard;
  /** A candidate is accepted when f(y2) − f(y1) > minGain (default 0: strictly better). */
  minGain: number;
  /**
   * Length constraint: a refinement longer than this × the words of the longer of y1 and the gold
   * is rejected before scoring (default 1.5; 0 turns it off).
   */
  maxLengthRatio: number;
  /** Ask the judge whether the best refinement follows its principle; if not, the next best stands in (default false). */
  followCheck: boolean;
  /** Examples whose gold has fewer Rouge-L tokens are skipped without a call (default 1). */
  minGoldTokens: number;
  /** The input field holding the gold response (default `gold`). */
  goldField: string;
  /** The iteration number written into every record, when mining is part of `spri discover iterate`. */
  iter?: number;
  prompts?: Partial<Record<"principle" | "critique" | "refine" | "follows", string>>;
}

/** Spec defaults (stape-spec §3, §5); the paper's values are unknown, every one is a knob. */
export const DEFAULT_MINING_SAMPLING: Readonly<MiningSampling> = Object.freeze({
  answer: { temperature: 0.7, topP: 0.95, maxTokens: 1024 },
  principle: { temperature: 1.0, topP: 0.95, maxTokens: 128 },
  critique: { temperature: 0.7, topP: 0.95, maxTokens: 384 },
  refine: { temperature: 0.7, topP: 0.95, maxTokens: 1536 },
  judge: { temperature: 0 },
  follows: { temperature: 0, maxTokens: 256 },
});

export const DEFAULT_MINING_OPTIONS: Readonly<MiningOptions> = Object.freeze({
  candidates: 8,
  sampling: DEFAULT_MINING_SAMPLING,
  similarity: "rougeL",
  stem: false,
  guard: { maxWords: 60, leakNgram: 8, leakPrecision: 0.5 },
  minGain: 0,
  maxLengthRatio: 1.5,
  followCheck: false,
  minGoldTokens: 1,
  goldField: "gold",
});

/** Mining options over the defaults; sampling merged per step. */
export function miningOptions(
  overrides: Partial<Omit<MiningOptions, "sampling" | "guard">> & {
    sampling?: Partial<{ [K in keyof MiningSampling]: Partial<SamplingOptions> }>;
    guard?: Partial<PrincipleGuard>;
  } = {},
): MiningOptions {
  const sampling = { ...DEFAULT_MINING_SAMPLING } as MiningSampling;
  for (const step of Object.keys(DEFAULT_MINING_SAMPLING) as (keyof MiningSampling)[]) {
    const given = overrides.sampling?.[step];
    const merged = { ...DEFAULT_MINING_SAMPLING[step], ...given };
    for (const key of Object.keys(merged) as (keyof SamplingOptions)[]) if (merged[key] === undefined) delete merged[key];
    sampling[step] = merged;
  }
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return {
    ...DEFAULT_MINING_OPTIONS,
    ...defined,
    sampling,
    guard: { ...DEFAULT_MINING_OPTIONS.guard, ...overrides.guard },
  } as MiningOptions;
}
