/**
 * Watches a run's critiques (every answer that must carry a score: SPRI's critiques, a judge's
 * judgements, self-refine's feedback) for ones whose score cannot be read. A run whose critic never
 * scores still "works" (unscored critiques stop the loop, never count as 0) yet yields unrefined
 * texts, so the user hears of it early, once most of the first critiques came back unscored, with
 * the likely cause, and again at the end with the counts.
 */
import type { CallRecord } from "../../io/records.ts";

export interface UnscoredWatchOptions {
  /** Receives the early warning (one line, no prefix). */
  warn: (line: string) => void;
  /** How many critiques the early warning waits for; default 10. */
  window?: number;
}

export interface CritiqueCounts {
  critiques: number;
  unscored: number;
}

const DEFAULT_WINDOW = 10;
/** Something that looks like a score marker, read or not. */
const MARKER = /\[RESULT\]|\[SCORE\]|\[Score:|<score>|\bscore\s*:/i;

export class UnscoredWatch {
  private readonly warn: (line: string) => void;
  private readonly window: number;
  private readonly total: CritiqueCounts = { critiques: 0, unscored: 0 };
  /** Unscored answers, the first hundred: what the likely cause is read from. */
  private readonly unscored: CallRecord[] = [];

  constructor(options: UnscoredWatchOptions) {
    this.warn = options.warn;
    this.window = options.window ?? DEFAULT_WINDOW;
  }

  get counts(): CritiqueCounts {
    return { ...this.total };
  }

  observe(call: CallRecord): void {
    if (call.parsed?.score === undefined) return;
    this.total.critiques++;
    if (call.parsed.score === null) {
      this.total.unscored++;
      if (this.unscored.length < 100) this.unscored.push(call);
    }
    if (this.total.critiques !== this.window) return;
    if (mostly(this.total.unscored, this.total.critiques)) {
      this.warn(
        `warning: ${this.total.unscored} of the first ${this.total.critiques} critiques had no readable score; likely cause: ${likelyCause(this.unscored)}; the run goes on`,
      );
    }
  }

  /** The end-of-run line: the counts, and the likely cause when most critiques were unscored; undefined when all were scored. */
  summary(): string | undefined {
    const { critiques, unscored } = this.total;
    if (unscored === 0) return undefined;
    const counts = `${unscored} of ${critiques} critiques had no readable score (unscored, never 0)`;
    return mostly(unscored, critiques) ? `warning: ${counts}; likely cause: ${likelyCause(this.unscored)}` : counts;
  }
}

function mostly(part: number, whole: number): boolean {
  return whole > 0 && 2 * part > whole;
}

/** What most unscored answers have in common, said as what to do. */
function likelyCause(unscored: readonly CallRecord[]): string {
  const share = (test: (call: CallRecord) => boolean) => mostly(unscored.filter(test).length, unscored.length);
  if (share((call) => call.finishReason === "length")) {
    const limit = unscored.find((call) => call.request.sampling.maxTokens !== undefined)?.request.sampling.maxTokens;
    return `the critic's answers were cut off at the token limit${limit === undefined ? "" : ` (${limit} new tokens)`}: raise --max-new-tokens`;
  }
  if (share((call) => (call.response ?? "").trim() === "")) {
    return "the critic answered with empty text: check the critic's endpoint and model (--critic-url, --critic-model)";
  }
  if (share((call) => MARKER.test(call.response ?? ""))) {
    return "the critic's answers hold a score marker, but the number after it is off the scale or unreadable (e.g. `[RESULT] 7` on 1–5): check the scale the critique prompt asks for (--prompts)";
  }
  return "the critic's answers hold no score marker such as `[RESULT] 4`: check that --critic-model names a model that follows the critique prompt (an instruction-tuned or judge model) and that a custom critique prompt (--prompts) asks for the score in that form";
}
