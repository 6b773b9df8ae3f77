/**
 * Reading a critic's score out of untrusted text. A critique whose score cannot be read is
 * *unscored* (`score: null`), never 0.
 */
import { parseJsonObject } from "../../base/util/json-object.ts";

export interface ScoreScale {
  min: number;
  max: number;
}

export const CRITIC_SCALE: ScoreScale = { min: 1, max: 5 };

export interface ParsedCritique {
  score: number | null;
  /** The critique text the refinement step is given as feedback. */
  feedback: string;
  /** Which marker produced the score, for traces; null when unscored. */
  marker: string | null;
}

export type ScoreParserMode =
  /** The last marker, scale-checked; `[RESULT] 10` on a 1–5 scale is unscored, `[RESULT] 3.5` is 3.5. */
  | "strict"
  /** The reference's `extract_evaluation_score`: the first marker, one digit 1–5, so `[RESULT] 10` reads 1 and `3.5` reads 3. */
  | "reference";

export type FeedbackSplit =
  /** Feedback is the text before the marker that was actually read. */
  | "marker-read"
  /** The reference: text before the first `[RESULT]`, or the whole critique when there is none. */
  | "result-only";

interface Marker {
  name: string;
  /** Reference form: capture one digit 1–5. */
  reference: RegExp;
  /** Strict form: capture a whole number, checked against the scale afterwards (global). */
  strict: RegExp;
}

const NUM = String.raw`(\d+(?:\.\d+)?)`;

// Reference mode: the first marker in this order that matches wins, as in the reference. Strict mode:
// the marker whose number comes last in the text wins; on a tie (one number read by two forms) the
// earlier form in this order names it.
const MARKERS: readonly Marker[] = [
  { name: "[RESULT]", reference: /\[RESULT\]\s*([1-5])/, strict: new RegExp(String.raw`\[RESULT\]:?\s*\[?${NUM}\]?`, "g") },
  { name: "[SCORE]", reference: /\[SCORE\]\s*([1-5])/, strict: new RegExp(String.raw`\[SCORE\]:?\s*${NUM}`, "g") },
  { name: "[Score: N]", reference: /\[Score:\s*([1-5])\]/, strict: new RegExp(String.raw`\[Score:\s*${NUM}\]`, "g") },
  // Python's `$` also matches before one final newline.
  { name: "\\n\\n[N]", reference: /\n\n\[([1-5])\](?=\n?$)/, strict: new RegExp(String.raw`\n\n\[${NUM}\](?=\s*$)`, "g") },
  { name: "Overall Score:", reference: /\n\nOverall Score:\s*([1-5])/, strict: new RegExp(String.raw`\n\nOverall Score:\s*${NUM}`, "g") },
  { name: "[N]", reference: /\[([1-5])\]$/, strict: new RegExp(String.raw`\[${NUM}\]\s*$`, "g") },
];

/** A strict match's number starts at its first digit: no marker name holds one. */
const DIGIT = /\d/;

interface MarkerMatch {
  marker: Marker;
  /** Where the marker starts: the feedback is the text before it. */
  index: number;
  value: number;
}

/**
 * Reads the score and feedback from a critique.
 *
 * Strict mode (the default) reads the critic's verdict from the *last* marker, because a critique
 * may quote the text under review, and that text (a response, a rubric, a user's post) may itself
 * hold `[RESULT] 5`; the critic's own verdict comes at the end, as the prompts ask. A last marker
 * outside the scale is unscored, never replaced by an earlier one. Reference mode keeps the
 * reference's `extract_evaluation_score`: the first marker in `MARKERS` order, its first match.
 */
export function parseCritique(
  text: string,
  options: { mode?: ScoreParserMode; feedbackSplit?: FeedbackSplit; scale?: ScoreScale } = {},
): ParsedCritique {
  const { mode = "strict", feedbackSplit = "marker-read", scale = CRITIC_SCALE } = options;
  const json = mode === "strict" ? parseJsonCritique(text, scale) : undefined;
  if (json) return json;

  const found = mode === "reference" ? firstMarker(text) : lastMarker(text);
  const score = found && (mode === "reference" || (found.value >= scale.min && found.value <= scale.max)) ? found.value : null;
  const feedback = feedbackSplit === "result-only" ? text.split("[RESULT]")[0]! : found ? text.slice(0, found.index) : text;
  return { score, feedback: feedback.trim(), marker: score === null ? null : found!.marker.name };
}

function firstMarker(text: string): MarkerMatch | undefined {
  for (const marker of MARKERS) {
    const match = marker.reference.exec(text);
    if (match) return { marker, index: match.index, value: Number.parseInt(match[1]!, 10) };
  }
  return undefined;
}

function lastMarker(text: string): MarkerMatch | undefined {
  let last: (MarkerMatch & { numberAt: number }) | undefined;
  for (const marker of MARKERS) {
    // exec on the shared global regex, not matchAll (which copies the regex for every critique) or
    // the `d` flag (see DIGIT).
    const pattern = marker.strict;
    pattern.lastIndex = 0;
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      const numberAt = match.index + match[0].search(DIGIT);
      if (last && numberAt <= last.numberAt) continue;
      last = { marker, index: match.index, value: Number.parseFloat(match[1]!), numberAt };
    }
  }
  return last;
}

/** Constrained critics answer `{"feedback": "...", "score": N}`. */
function parseJsonCritique(text: string, scale: ScoreScale): ParsedCritique | undefined {
  const record = parseJsonObject(text);
  if (record === undefined) return undefined;
  const feedback = typeof record.feedback === "string" ? record.feedback.trim() : "";
  const raw = typeof record.score === "string" ? Number.parseFloat(record.score) : record.score;
  const score = typeof raw === "number" && Number.isFinite(raw) && raw >= scale.min && raw <= scale.max ? raw : null;
  return { score, feedback, marker: score === null ? null : "json" };
}

/** The JSON schema a constrained critic (or judge) is asked to follow: feedback, then a whole score on the scale. */
export function critiqueSchema(scale: ScoreScale = CRITIC_SCALE, maxFeedbackLength = 2000): Record<string, unknown> {
  const scores: number[] = [];
  for (let s = Math.ceil(scale.min); s <= scale.max; s++) scores.push(s);
  return {
    type: "object",
    properties: {
      feedback: { type: "string", maxLength: maxFeedbackLength },
      score: { type: "integer", enum: scores },
    },
    required: ["feedback", "score"],
    additionalProperties: false,
  };
}
