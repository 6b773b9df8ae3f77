/**
 * Posterior regularisation on a refinement (stape-spec §2.3): y2 may only stand for its principle z
 * if it follows z, asked of the judge (the critic model; default the policy) without the gold, and
 * if it stays within a length budget, so a refinement cannot win Rouge-L recall or a judge's favour
 * by padding.
 */
import type { ModelCaller } from "../contract/model-caller.ts";
import type { ChatMessage, LanguageModel, SamplingOptions } from "../../models/language-model.ts";
import { DISCOVERY_PROMPTS, fillDiscovery } from "../../io/prompts/builtin-discovery.ts";

/** The last `Follows: yes|no` line of the judge's answer; null when there is none. */
export function parseFollows(text: string): boolean | null {
  const matches = [...text.matchAll(/follows\s*[:?]?\s*\**\s*(yes|no)\b/gi)];
  const last = matches.at(-1)?.[1];
  return last === undefined ? null : last.toLowerCase() === "yes";
}

function words(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

/**
 * Why y2 breaks the length constraint, or undefined: y2 may have at most `ratio` × the words of the
 * longer of y1 and the gold (ratio 0 turns the constraint off).
 */
export function lengthRejection(y2: string, y1: string, gold: string, ratio: number): string | undefined {
  if (!(ratio > 0)) return undefined;
  const limit = Math.floor(ratio * Math.max(words(y1), words(gold)));
  const length = words(y2);
  return length > limit ? `too long (${length} words > ${ratio} × the longer of y1 and the gold, ${limit})` : undefined;
}

export interface FollowsCheck {
  follows: boolean | null;
  raw: string;
}

/** Asks the judge whether `revised` follows `principle`; one call, recorded under `step`. */
export async function checkFollows(
  caller: ModelCaller,
  judge: LanguageModel,
  input: { prompt: string; principle: string; response: string; revised: string },
  options: { step: string; iteration: number; sampling: SamplingOptions; template?: string },
): Promise<FollowsCheck> {
  const messages: ChatMessage[] = [{ role: "user", content: fillDiscovery(options.template ?? DISCOVERY_PROMPTS.follows, input) }];
  const { raw } = await caller.call({
    model: judge,
    role: "judge",
    step: options.step,
    iteration: options.iteration,
    messages,
    sampling: options.sampling,
  });
  return { follows: parseFollows(raw), raw: raw.trim() };
}
