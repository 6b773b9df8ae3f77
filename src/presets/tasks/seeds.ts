/**
 * Seed examples shown as few-shot in the principle-generation prompt. The kind of a seed file is
 * read from its fields (the reference picked it from the file name): principle seeds
 * (`question`, `principle`), reappraisal constitutions (`reddit_post`, `appraisal_dimension_aim`,
 * `constitution`) and rubric seeds (`input`, `rubric`). A constitution file of `spri discover
 * cluster` (`{"format": "spri-constitution", ...}`) is read as seeds of kind `constitution`: each
 * principle becomes one few-shot block `### Principles: <text>`, in file order (largest cluster
 * first); there are no questions to pair them with.
 *
 * Presets read no files: `parseSeeds` takes the text, and `loadSeeds` has io/ read it.
 */
import { CONSTITUTION_FORMAT, parseConstitution } from "../../algorithms/discovery/constitution.ts";
import { InputError } from "../../base/errors/errors.ts";
import { readTextFile } from "../../io/json-file.ts";
import { pyRepr } from "../../base/util/python.ts";
import { parseJsonObject } from "../../base/util/json-object.ts";

export type SeedKind = "principle" | "reappraisal" | "rubric" | "constitution";

export interface SeedSet {
  kind: SeedKind;
  file: string;
  seeds: Record<string, unknown>[];
}

/** The field a seed's domain is read from, by kind, for --seeds-per-domain. */
const SEED_DOMAIN_FIELD: Record<SeedKind, string> = {
  principle: "question_type",
  reappraisal: "appraisal_dimension_id",
  rubric: "capability",
  constitution: "domain",
};

const REQUIRED: Record<SeedKind, string[]> = {
  principle: ["question", "principle"],
  reappraisal: ["reddit_post", "appraisal_dimension_aim", "constitution"],
  rubric: ["input", "rubric"],
  constitution: ["principle"],
};

/** The seed file `file` (`--seeds`), read and parsed. */
export function loadSeeds(file: string): SeedSet {
  return parseSeeds(readTextFile(file, { what: "seed file", field: "seeds", hint: "check the --seeds path" }), file);
}

/** Seeds from the text of a seed file; `file` names it in errors and in the set. */
export function parseSeeds(text: string, file: string): SeedSet {
  const constitution = constitutionSeeds(text, file);
  if (constitution) return constitution;
  const seeds = parseRows(text, file);
  if (seeds.length === 0)
    throw new InputError("the seed file holds no seeds", { file, hint: "give at least one seed, or leave out --seeds" });
  const kind = detectKind(seeds[0]!, file);
  seeds.forEach((seed, index) => {
    for (const field of REQUIRED[kind]) {
      if (seed[field] === undefined || seed[field] === null) {
        throw new InputError(`seed lacks a value that ${kind} seeds need`, {
          file,
          line: index + 1,
          field,
          hint: `every ${kind} seed needs ${REQUIRED[kind].join(", ")}`,
        });
      }
    }
  });
  return { kind, file, seeds };
}

/** A `spri-constitution` file as seeds (one per principle), or undefined for any other text. */
function constitutionSeeds(text: string, file: string): SeedSet | undefined {
  const value = parseJsonObject(text);
  if (value === undefined) return undefined;
  if (value.format !== CONSTITUTION_FORMAT) return undefined;
  const { principles } = parseConstitution(value, file);
  if (principles.length === 0)
    throw new InputError("the constitution holds no principles", {
      file,
      hint: "cluster a non-empty set of principles, or leave out --seeds",
    });
  const seeds = principles.map((p) => ({ principle: p.text, id: p.id, size: p.size, ...(p.name === undefined ? {} : { name: p.name }) }));
  return { kind: "constitution", file, seeds };
}

function parseRows(text: string, file: string): Record<string, unknown>[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed) as Record<string, unknown>[];
    } catch (error) {
      throw new InputError(`the seed file is not valid JSON: ${(error as Error).message}`, { file, cause: error });
    }
  }
  const rows: Record<string, unknown>[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      rows.push(JSON.parse(line) as Record<string, unknown>);
    } catch (error) {
      throw new InputError(`malformed JSON line: ${(error as Error).message}`, {
        file,
        line: index + 1,
        cause: error,
        hint: "fix the line; seeds are JSON Lines, one object per line",
      });
    }
  });
  return rows;
}

function detectKind(seed: Record<string, unknown>, file: string): SeedKind {
  if ("constitution" in seed && "reddit_post" in seed) return "reappraisal";
  if ("rubric" in seed) return "rubric";
  if ("principle" in seed) return "principle";
  throw new InputError("cannot tell what kind of seeds these are", {
    file,
    line: 1,
    hint: "principle seeds need question + principle; reappraisal seeds reddit_post + appraisal_dimension_aim + constitution; rubric seeds input + rubric",
  });
}

/** Keeps the seeds whose domain equals the item's, compared as strings (as the reference does). */
export function seedsForDomain(set: SeedSet, domain: string | undefined): Record<string, unknown>[] {
  const field = SEED_DOMAIN_FIELD[set.kind];
  return set.seeds.filter((seed) => domain !== undefined && String(seed[field]) === domain);
}

/** The few-shot block, one example per seed, in file order (spec §4.1). */
export function formatFewShot(kind: SeedKind, seeds: readonly Record<string, unknown>[], referenceFree = true): string {
  const str = (value: unknown) => (typeof value === "string" ? value : String(value));
  return seeds
    .map((seed) => {
      switch (kind) {
        case "principle":
          return `### Question: ${str(seed.question)}\n### Principles: ${str(seed.principle)}\n\n`;
        case "reappraisal":
          return `### Question: ${str(seed.reddit_post)}\n### Response Goal: ${str(seed.appraisal_dimension_aim)}\n### Principles: ${str(seed.constitution)}\n\n`;
        case "rubric": {
          const input = seed.system_prompt === undefined ? str(seed.input) : `${str(seed.system_prompt)}\n\n${str(seed.input)}`;
          const reference = referenceFree ? "" : `### Reference Answer: ${str(seed.reference_answer)}\n`;
          return `### Input: ${input}\n${reference}### Rubric: ${pyRepr(seed.rubric)}\n\n`;
        }
        case "constitution":
          return `### Principles: ${str(seed.principle)}\n\n`;
      }
    })
    .join("");
}
