/**
 * The rubric sources the paper compares SPRI's rubrics with (Table 2, spec §6.3), registered in
 * `rubric-sources.ts` beside `spri`. Each lives in src/algorithms/judge/sources/:
 *
 * | `--rubrics` | rubric | calls a row | final score field |
 * | --- | --- | --- | --- |
 * | `oracle` | the row's gold rubric | 1 | `[direct_eval]-score` |
 * | `vanilla` | a generic rubric | 1 | `[vanilla]-score` |
 * | `self-refine` | the generic rubric, then 5 self-refinements | 6 | `[self-refine]-iteration-5-score` |
 * | `mt-bench` | none: MT-Bench's coarse prompt | 1 | `[baseline]-vanilla-MT_Bench-score` |
 * | `flask` | the FLASK skill rubric of the capability | 1 | `[baseline]-flask-score` |
 * | `seed-principles` | a seed principle | 1 | `[baseline]-[seed_principles_as_rubrics]-score` |
 */
import type { RubricSource } from "./rubric-source.ts";
import { flaskRubricSource, oracleRubricSource, seedPrinciplesRubricSource, vanillaRubricSource } from "./sources/grading-sources.ts";
import { mtBenchRubricSource } from "./sources/mt-bench.ts";
import { selfRefineRubricSource } from "./sources/self-refine.ts";

export {
  flaskRubricSource,
  mtBenchRubricSource,
  oracleRubricSource,
  seedPrinciplesRubricSource,
  selfRefineRubricSource,
  vanillaRubricSource,
};

/** In the order of the paper's Table 2. */
export const BASELINE_RUBRIC_SOURCES: readonly RubricSource[] = [
  oracleRubricSource,
  vanillaRubricSource,
  selfRefineRubricSource,
  mtBenchRubricSource,
  flaskRubricSource,
  seedPrinciplesRubricSource,
];
