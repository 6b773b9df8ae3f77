/**
 * Reading a critic's score out of untrusted text. A critique whose score cannot be read is
 * *unscored* (`score: null`), never 0.
 */
import { parseJsonObject } from "../util/json-object.ts";

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
  /** Scale-checked numbers; `[RESULT] 10` on a 1–5 scale is unscored, `[RESULT] 3.5` is 3.5. */
  | "strict"
  /** The reference's `extract_evaluation_score`: one digit 1–5, so `[RESULT] 10` reads 1 and `3.5` reads 3. */
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
  /** Strict form: capture a whole number, checked against the scale afterwards. */
  strict: RegExp;
}

const NUM = String.raw`(\d+(?:\.\d+)?)`;

// Order matters: the first marker that matches wins, as in the reference.
const MARKERS: readonly Marker[] = [
  { name: "[RESULT]", reference: /\[RESULT\]\s*([1-5])/, strict: new RegExp(String.raw`\[RESULT\]:?\s*\[?${NUM}\]?`) },
  { name: "[SCORE]", reference: /\[SCORE\]\s*([1-5])/, strict: new RegExp(String.raw`\[SCORE\]:?\s*${NUM}`) },
  { name: "[Score: N]", reference: /\[Score:\s*([1-5])\]/, strict: new RegExp(String.raw`\[Score:\s*${NUM}\]`) },
  // Python's `$` also matches before one final newline.
  { name: "\\n\\n[N]", reference: /\n\n\[([1-5])\](?=\n?$)/, strict: new RegExp(String.raw`\n\n\[${NUM}\](?=\s*$)`) },
  { name: "Overall Score:", reference: /\n\nOverall Score:\s*([1-5])/, strict: new RegExp(String.raw`\n\nOverall Score:\s*${NUM}`) },
  { name: "[N]", reference: /\[([1-5])\]$/, strict: new RegExp(String.raw`\[${NUM}\]\s*$`) },
];

/** Reads the score and feedback from a critique. */
export function parseCritique(
  text: string,
  options: { mode?: ScoreParserMode; feedbackSplit?: FeedbackSplit; scale?: ScoreScale } = {},
): ParsedCritique {
  const { mode = "strict", feedbackSplit = "marker-read", scale = CRITIC_SCALE } = options;
  const json = mode === "strict" ? parseJsonCritique(text, scale) : undefined;
  if (json) return json;

  let score: number | null = null;
  let marker: Marker | null = null;
  let markerIndex = -1;
  for (const candidate of MARKERS) {
    const match = (mode === "reference" ? candidate.reference : candidate.strict).exec(text);
    if (!match) continue;
    const value = mode === "reference" ? Number.parseInt(match[1]!, 10) : Number.parseFloat(match[1]!);
    marker = candidate;
    markerIndex = match.index;
    score = mode === "reference" || (value >= scale.min && value <= scale.max) ? value : null;
    break;
  }

  let feedback: string;
  if (feedbackSplit === "result-only") {
    feedback = text.split("[RESULT]")[0]!.trim();
  } else {
    feedback = (markerIndex >= 0 ? text.slice(0, markerIndex) : text).trim();
  }
  return { score, feedback, marker: score === null ? null : marker!.name };
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

/** The JSON schema a constrained critic is asked to follow. */
export function critiqueSchema(scale: ScoreScale = CRITIC_SCALE): Record<string, unknown> {
  const scores: number[] = [];
  for (let s = scale.min; s <= scale.max; s++) scores.push(s);
  return {
    type: "object",
    properties: {
      feedback: { type: "string", maxLength: 2000 },
      score: { type: "integer", enum: scores },
    },
    required: ["feedback", "score"],
    additionalProperties: false,
  };
}
