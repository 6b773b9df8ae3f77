/**
 * What the Task 3 baselines share: their settings and the built-in prompt pack. Their calls go
 * through `ModelCaller` with the run's compat, so outputs are cleaned and GPT sampling is chosen
 * the way SPRI's are.
 */
import type { ChatMessage, SamplingOptions } from "../../../models/language-model.ts";
import { BUILTIN_BASELINE_PROMPTS } from "../../../io/prompts/builtin-baselines.ts";
import { type PromptPack, templatePack } from "../../../io/prompts/prompt-pack.ts";
import type { CompatOptions } from "../../../algorithms/spri/compat.ts";

export interface BaselineSettings {
  pack: PromptPack;
  compat: CompatOptions;
  /** The base model's sampling (the paper's: T 0.7, top-k 50, top-p 0.95, 2,048 new tokens). */
  sampling: SamplingOptions;
  /** Self-refine: a feedback score at or above it stops the item (reference: 4). */
  threshold: number;
  /** Self-refine: most feedback rounds, each followed by a refinement unless it stops (reference: 4). */
  maxIterations: number;
}

export function system(content: string): ChatMessage {
  return { role: "system", content };
}

export function user(content: string): ChatMessage {
  return { role: "user", content };
}

/** spri's own baseline prompts as a pack (a `--prompts` directory replaces it). */
export function builtinBaselinePack(): PromptPack {
  return templatePack("built-in (baselines)", BUILTIN_BASELINE_PROMPTS, "built-in baseline prompts");
}
