/**
 * The registry of `spri judge --rubrics` sources. `spri` (SPRI stage 1 writes an instance-specific
 * rubric, the judge grades with it, SPRI stage 2 critiques and refines the judgement) is built in,
 * and so are the paper's Table 2 comparisons (`baseline-sources.ts`: oracle, vanilla, self-refine,
 * mt-bench, flask, seed-principles). Another source is a `RubricSource` added to BUILTIN_SOURCES
 * below, or registered at run time with `registerRubricSource`; an unknown name is a ConfigError
 * listing the known ones.
 */
import { ConfigError } from "../../base/errors/errors.ts";
import { BASELINE_RUBRIC_SOURCES } from "./baseline-sources.ts";
import type { RubricSource } from "./rubric-source.ts";
import { FINAL_SCORE_FIELD, spriRubricSource } from "./spri-judge.ts";

const BUILTIN_SOURCES: readonly RubricSource[] = [
  { ...spriRubricSource, scoreField: spriRubricSource.scoreField ?? FINAL_SCORE_FIELD },
  ...BASELINE_RUBRIC_SOURCES,
];

const SOURCES = new Map<string, RubricSource>(BUILTIN_SOURCES.map((source) => [source.name, source]));

/** Adds (or replaces) a rubric source under its name. */
export function registerRubricSource(source: RubricSource): void {
  SOURCES.set(source.name, source);
}

export function rubricSourceNames(): string[] {
  return [...SOURCES.keys()];
}

export function rubricSource(name: string): RubricSource {
  const source = SOURCES.get(name);
  if (!source) {
    throw new ConfigError(`unknown rubric source "${name}"`, { field: "rubrics", hint: `use one of: ${rubricSourceNames().join(", ")}` });
  }
  return source;
}
