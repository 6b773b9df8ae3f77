/**
 * Behaviours of the paper's reference code that differ from spri's defaults. Each is a switch of
 * its own; `--compat reference` turns all of them on. docs/compat.md gives the reason for each.
 * The switches of calling itself (`outputStrip`, `gptSampling`) are declared with the one model
 * caller that applies them (algorithm/model-caller.ts).
 */
import type { CallCompat } from "../contract/model-caller.ts";
import type { CompatPreset } from "../../base/util/compat-preset.ts";
import type { FeedbackSplit, ScoreParserMode } from "./critic-score.ts";

export interface CompatOptions extends CallCompat {
  /**
   * Which base models keep a refinement's raw, unstripped text as the running principles/response
   * (embedded in the next critique, stored as the final). The reference does this for every model it
   * served as raw text, i.e. every model id without "gpt".
   */
  rawRefinementText: "never" | "non-gpt-models";
  scoreParser: ScoreParserMode;
  feedbackSplit: FeedbackSplit;
  /**
   * Our refinement prompts show the full context (the response goal when refining principles, the
   * principles when refining a response). The reference omits both.
   */
  refinementContext: "full" | "reference";
  /** Ask constrained critics for JSON. The reference reads free text only. */
  criticOutput: "auto" | "text";
  /**
   * Task 3 self-refine baseline: the reference's feedback step always shows the turn-0 response
   * (it reads `self-refine_response-[turn_t]` before turn t exists), while each refinement starts
   * from turn t-1. Off: every feedback judges the latest response, the one then refined.
   */
  selfRefineFeedbackOnTurn0: boolean;
  /**
   * `spri judge`: how a judgement's score is read. `lenient`: constrained JSON, `<score>N</score>`
   * (also `[N]`, `N/max`, `N out of max`), `[RESULT] N` or a `Score: N` line, the last one in the
   * text, checked against the scale. `biggen-regex`: the reference's
   * `<score>\[?([1-4](\.\d+)?|5(\.0)?)\]?</score>`, first match, else unscored.
   */
  judgeScoreParser: "lenient" | "biggen-regex";
  /**
   * `spri judge`: how the critic's view of a judgement (critique input A) is cut from the grading
   * prompt. `sections`: from the template, so the instruction and response are never rewritten: the
   * task description and both `@@@` delimiter lines go, and the closing `###Feedback:` header becomes
   * the evaluation-result header. `reference`: the reference's regex and `replace` on the formatted
   * prompt, which keeps the closing `@@@` of `llm_judge` prompts (and would rewrite a
   * `###Feedback:` inside an instruction or response).
   */
  judgeCritiqueInput: "sections" | "reference";
  /**
   * `spri judge`: sampling of the judging calls (the grading and its refinements). `deterministic`:
   * temperature 0 (`--judge-temperature`) with a seed (`--seed`, default 0), for reproducible
   * judging. `as-base`: the base model's sampling, as the reference (paper sampling, or the API
   * defaults for GPT under `gptSampling`).
   */
  judgeSampling: "deterministic" | "as-base";
  /**
   * `spri judge --rubrics self-refine`: what a refinement of a judgement is shown. `full`: the
   * grading prompt (instruction, response, rubric), the previous judgement and the request to refine
   * it, for every model. `reference`: as the reference, whose BAM path (model ids without "gpt") sent
   * only the previous judgement under the refinement system prompt, with no instruction, response or
   * rubric; GPT models get the full form.
   */
  judgeSelfRefineContext: "full" | "reference";
  /**
   * `spri judge --rubrics seed-principles`: which seed principle grades an item. `per-instance`: a
   * choice seeded by `--seed` (0 when not given) and the input's id, so the responses to one instance
   * share a principle and instances differ. `reference`: Python's `random.seed(0)` before every
   * `random.choice`, as the reference, so every row gets the same principle (index 3 of the paper's
   * six).
   */
  seedPrincipleChoice: "per-instance" | "reference";
}

export const DEFAULT_COMPAT: Readonly<CompatOptions> = Object.freeze({
  rawRefinementText: "never",
  outputStrip: "sane",
  scoreParser: "strict",
  feedbackSplit: "marker-read",
  refinementContext: "full",
  gptSampling: "configured",
  criticOutput: "auto",
  selfRefineFeedbackOnTurn0: false,
  judgeScoreParser: "lenient",
  judgeCritiqueInput: "sections",
  judgeSampling: "deterministic",
  judgeSelfRefineContext: "full",
  seedPrincipleChoice: "per-instance",
});

export const REFERENCE_COMPAT: Readonly<CompatOptions> = Object.freeze({
  rawRefinementText: "non-gpt-models",
  outputStrip: "python",
  scoreParser: "reference",
  feedbackSplit: "result-only",
  refinementContext: "reference",
  gptSampling: "api-defaults",
  criticOutput: "text",
  selfRefineFeedbackOnTurn0: true,
  judgeScoreParser: "biggen-regex",
  judgeCritiqueInput: "reference",
  judgeSampling: "as-base",
  judgeSelfRefineContext: "reference",
  seedPrincipleChoice: "reference",
});

export type { CompatPreset };

export function resolveCompat(preset: CompatPreset = "default", overrides: Partial<CompatOptions> = {}): CompatOptions {
  const base = preset === "reference" ? REFERENCE_COMPAT : DEFAULT_COMPAT;
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  return { ...base, ...defined };
}
