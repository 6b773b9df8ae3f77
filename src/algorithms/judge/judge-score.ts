/**
 * Reading the score out of a judgement (an LLM judge's feedback and score). A judgement whose score
 * cannot be read is *unscored* (`score: null`), never 0, and a number outside the scale is not a
 * score either.
 *
 * - `biggen-regex` (the reference, under `--compat reference`): BiGGen Bench's
 *   `<score>\[?([1-4](\.\d+)?|5(\.0)?)\]?</score>`, first match, as a float. So `<score>[4]</score>`,
 *   `<score>3.5</score>` and `<score>5.0</score>` are read; `<score>5/5</score>`, `<score> 4 </score>`,
 *   `<score>4 out of 5</score>` and an untagged `Score: 4` are not.
 * - `lenient` (the default): a constrained JSON answer `{"feedback": …, "score": N}`; otherwise the
 *   last of `<score>N</score>` (spaces, `[N]`, `N/max` and `N out of max` allowed), `[RESULT] N`, or
 *   a line holding only `Score: N`. The number must lie on the scale (and a stated maximum must be
 *   the scale's); the last marker is the judge's final word, so an out-of-scale last score is
 *   unscored rather than replaced by an earlier one.
 */
import { ConfigError } from "../../base/errors/errors.ts";
import type { OutputSchema } from "../../models/language-model.ts";
import { parseJsonObject } from "../../base/util/json-object.ts";
import { critiqueSchema } from "../spri/critic-score.ts";

export interface JudgeScale {
  min: number;
  max: number;
}

export const DEFAULT_JUDGE_SCALE: Readonly<JudgeScale> = Object.freeze({ min: 1, max: 5 });

export type JudgeScoreParser = "lenient" | "biggen-regex";

export interface ParsedJudgement {
  score: number | null;
  /** Which form gave the score (`json`, `<score>`, `[RESULT]`, `Score:`, `biggen`); null when unscored. */
  marker: string | null;
}

/** `--scale`: `MIN-MAX` integers, e.g. `1-5` (the default) or `1-10`. */
export function parseScale(text: string): JudgeScale {
  const match = /^\s*(-?\d+)\s*(?:-|–|\.\.|to)\s*(-?\d+)\s*$/.exec(text);
  const min = match ? Number(match[1]) : Number.NaN;
  const max = match ? Number(match[2]) : Number.NaN;
  if (!match || !(min < max)) {
    throw new ConfigError(`--scale "${text}" is not a score range`, {
      field: "scale",
      hint: "write MIN-MAX with MIN below MAX, e.g. 1-5 or 1-10",
    });
  }
  return { min, max };
}

/** The reference's `extract_biggenbench_eval_result`. */
const BIGGEN = /<score>\[?([1-4](\.\d+)?|5(\.0)?)\]?<\/score>/;

const NUM = String.raw`(\d+(?:\.\d+)?)`;
const OUT_OF = String.raw`(?:\s*(?:\/|out\s+of)\s*${NUM})?`;

interface Form {
  marker: string;
  pattern: RegExp;
}

const LENIENT_FORMS: readonly Form[] = [
  { marker: "<score>", pattern: new RegExp(String.raw`<score>\s*\[?\s*${NUM}\s*\]?${OUT_OF}\s*<\/score>`, "gi") },
  { marker: "[RESULT]", pattern: new RegExp(String.raw`\[RESULT\]:?\s*\[?${NUM}\]?${OUT_OF}`, "g") },
  {
    marker: "Score:",
    pattern: new RegExp(String.raw`^[ \t*_]*(?:final\s+|overall\s+)?score[*_]*\s*:[ \t*_]*\[?${NUM}\]?${OUT_OF}[ \t*_.]*$`, "gim"),
  },
];

export function parseJudgeScore(text: string, options: { parser?: JudgeScoreParser; scale?: JudgeScale } = {}): ParsedJudgement {
  const { parser = "lenient", scale = DEFAULT_JUDGE_SCALE } = options;
  if (parser === "biggen-regex") {
    const match = BIGGEN.exec(text);
    return match ? { score: Number.parseFloat(match[1]!), marker: "biggen" } : { score: null, marker: null };
  }
  const json = parseJsonJudgement(text, scale);
  if (json) return json;

  let last: { index: number; marker: string; value: number; outOf?: number } | undefined;
  for (const form of LENIENT_FORMS) {
    for (const match of text.matchAll(form.pattern)) {
      if (last && match.index < last.index) continue;
      last = {
        index: match.index,
        marker: form.marker,
        value: Number.parseFloat(match[1]!),
        outOf: match[2] === undefined ? undefined : Number.parseFloat(match[2]),
      };
    }
  }
  if (!last) return { score: null, marker: null };
  const onScale = last.value >= scale.min && last.value <= scale.max && (last.outOf === undefined || last.outOf === scale.max);
  return onScale ? { score: last.value, marker: last.marker } : { score: null, marker: null };
}

/** A constrained judge answers `{"feedback": "...", "score": N}`. */
function parseJsonJudgement(text: string, scale: JudgeScale): ParsedJudgement | undefined {
  const value = parseJsonObject(text);
  if (value === undefined || !("score" in value)) return undefined;
  const raw = value.score;
  const score = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : Number.NaN;
  return Number.isFinite(score) && score >= scale.min && score <= scale.max ? { score, marker: "json" } : { score: null, marker: null };
}

/** The JSON schema a constrained judge is asked to follow. */
export function judgementSchema(scale: JudgeScale = DEFAULT_JUDGE_SCALE): OutputSchema {
  return { name: "judgement", schema: critiqueSchema(scale, 4000) };
}
