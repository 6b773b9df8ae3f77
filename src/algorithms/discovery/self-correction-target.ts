/**
 * The text a model trained on `spri discover export` data writes after its first answer, with stable
 * delimiters: `[Principle] z`, `[Critique] c` (optional) and `[Revised response]` then y2.
 * `parseSelfCorrection` reads it back at inference.
 */
import { TARGET_MARKERS } from "../../io/prompts/builtin-discovery.ts";

export interface SelfCorrection {
  principle: string;
  critique?: string;
  revised: string;
}

export function formatTarget(correction: SelfCorrection, includeCritique = true): string {
  const lines = [`${TARGET_MARKERS.principle} ${correction.principle.trim()}`];
  if (includeCritique && correction.critique !== undefined && correction.critique.trim() !== "") {
    lines.push(`${TARGET_MARKERS.critique} ${correction.critique.trim()}`);
  }
  lines.push(TARGET_MARKERS.revised, correction.revised.trim());
  return lines.join("\n");
}

/** A trained model's self-correction, or null when it has no `[Revised response]` block. */
export function parseSelfCorrection(text: string): SelfCorrection | null {
  const revisedAt = text.indexOf(TARGET_MARKERS.revised);
  if (revisedAt < 0) return null;
  const revised = text.slice(revisedAt + TARGET_MARKERS.revised.length).trim();
  if (revised === "") return null;
  const head = text.slice(0, revisedAt);
  const principleAt = head.indexOf(TARGET_MARKERS.principle);
  const critiqueAt = head.indexOf(TARGET_MARKERS.critique);
  const principleEnd = critiqueAt > principleAt ? critiqueAt : head.length;
  const principle = principleAt < 0 ? "" : head.slice(principleAt + TARGET_MARKERS.principle.length, principleEnd).trim();
  const critique = critiqueAt < 0 ? undefined : head.slice(critiqueAt + TARGET_MARKERS.critique.length).trim();
  return { principle, ...(critique === undefined ? {} : { critique }), revised };
}
