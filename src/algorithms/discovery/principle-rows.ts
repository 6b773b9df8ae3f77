/**
 * Where the principles of an input row are (a bare string row, a named dotted field, or the first
 * default field present), and label replacement R on a row: `zCanonical` (its cluster's medoid) and
 * `clusterId` beside the original, for `spri discover cluster`.
 */
import { InputError } from "../../base/errors/errors.ts";

/** Where principles are looked for when no field is named, in order. */
export const DEFAULT_PRINCIPLE_FIELDS = ["principle", "best.z", "z"] as const;

export function isTrajectory(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "best" in value;
}

export function rowId(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const id = (value as Record<string, unknown>).id;
  return typeof id === "string" || typeof id === "number" ? String(id) : undefined;
}

function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export interface FoundPrinciples {
  field: string;
  texts: string[];
  array: boolean;
}

/** The principle(s) of one row: a bare string row, or the named/first default field. */
export function principlesOf(value: unknown, field: string | undefined, file: string, line: number): FoundPrinciples | undefined {
  if (typeof value === "string") return { field: "(row)", texts: [value], array: false };
  for (const candidate of field === undefined ? DEFAULT_PRINCIPLE_FIELDS : [field]) {
    const found = getPath(value, candidate);
    if (found === undefined || found === null) continue;
    if (typeof found === "string") return { field: candidate, texts: [found], array: false };
    if (Array.isArray(found) && found.every((x) => typeof x === "string"))
      return { field: candidate, texts: found as string[], array: true };
    throw new InputError("a principle must be a string or an array of strings", { file, line, field: candidate });
  }
  return undefined;
}

/** Label replacement R on one row: `zCanonical` (the medoid) and `clusterId` next to the original. */
export function withLabels(
  value: unknown,
  found: FoundPrinciples,
  label: (text: string) => { id: string; text: string } | undefined,
): unknown {
  const row: Record<string, unknown> =
    typeof value === "object" && value !== null && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : { principle: value };
  const labels = found.texts.map(label);
  if (found.array) {
    row.zCanonical = labels.map((l) => l?.text ?? null);
    row.clusterId = labels.map((l) => l?.id ?? null);
  } else if (labels[0] !== undefined) {
    row.zCanonical = labels[0].text;
    row.clusterId = labels[0].id;
  }
  return row;
}
