/**
 * The critique–refine loop of Algorithm 1, shared by both stages: critique the current text; stop
 * when the score reaches τ, after n_max critiques, or when the score cannot be read; otherwise refine
 * and go again. The final text is the last version, not the best-scored one (as in the paper), and
 * the last refinement is never critiqued.
 */
import type { ChatMessage } from "../../models/language-model.ts";

export interface Critique {
  /** The critic's answer after output cleaning. */
  text: string;
  score: number | null;
  feedback: string;
  messages: ChatMessage[];
}

export interface Refinement {
  /** Cleaned text, as stored in `*_refined_iter_k`. */
  text: string;
  /** What the next critique sees and the final becomes (raw under one reference quirk). */
  running: string;
  messages: ChatMessage[];
}

export interface LoopIteration {
  k: number;
  critique: Critique;
  refinement?: Refinement;
}

export type LoopStop = "accepted" | "max-critiques" | "unscored";

export interface LoopOutcome {
  final: string;
  iterations: LoopIteration[];
  stop: LoopStop;
}

export interface LoopSteps {
  critique(text: string, k: number): Promise<Critique>;
  refine(text: string, feedback: string, k: number): Promise<Refinement>;
}

export interface LoopLimits {
  /** τ: a score at or above it accepts the text. Paper default 4. */
  threshold: number;
  /** n_max: the most critiques per stage. Paper default 4. */
  maxCritiques: number;
}

export async function refineUntilAccepted(draft: string, steps: LoopSteps, limits: LoopLimits): Promise<LoopOutcome> {
  const iterations: LoopIteration[] = [];
  let current = draft;
  for (let k = 1; ; k++) {
    const critique = await steps.critique(current, k);
    const iteration: LoopIteration = { k, critique };
    iterations.push(iteration);
    if (critique.score === null) return { final: current, iterations, stop: "unscored" };
    if (critique.score >= limits.threshold) return { final: current, iterations, stop: "accepted" };
    if (k >= limits.maxCritiques) return { final: current, iterations, stop: "max-critiques" };
    iteration.refinement = await steps.refine(current, critique.feedback, k);
    current = iteration.refinement.running;
  }
}
