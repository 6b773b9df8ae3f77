/**
 * The registry of `spri judge --rubrics` sources. `spri` (SPRI stage 1 writes an instance-specific
 * rubric, the judge grades with it, SPRI stage 2 critiques and refines the judgement) is built in.
 * Another source (a gold rubric, a generic one, a fixed principle, MT-Bench, FLASK, self-refine, …)
 * is a `RubricSource` added to BUILTIN_SOURCES below, or registered at run time with
 * `registerRubricSource`; an unknown name is a ConfigError listing the known ones.
 */
import { ConfigError } from "../errors/errors.ts";
import type { RubricSource } from "./rubric-source.ts";
import { spriRubricSource } from "./spri-judge.ts";

const BUILTIN_SOURCES: readonly RubricSource[] = [spriRubricSource];

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
