/**
 * The validation split of a training export: an example is held out when the hash of (seed, its
 * key) falls under the fraction. The decision depends on the example alone, so re-running an export
 * (or exporting one more record) never moves an example between the files.
 */
import { createHash } from "node:crypto";
import { InputError } from "../../base/errors/errors.ts";

export function checkValidationFraction(fraction: number): number {
  if (!(fraction >= 0 && fraction < 1))
    throw new InputError(`the validation fraction must be in [0, 1), got ${fraction}`, {
      field: "validation",
      hint: "e.g. --validation 0.05",
    });
  return fraction;
}

/** Whether the example with this key goes to the validation file. */
export function heldOut(key: string, fraction: number, seed = 0): boolean {
  if (fraction <= 0) return false;
  const hash = createHash("sha256").update(`${seed}\n${key}`).digest();
  return hash.readUInt32BE(0) / 2 ** 32 < fraction;
}

/** The key of a mining record: its id, else its prompt (the same record always gets the same key). */
export function splitKey(record: Record<string, unknown>, question: string): string {
  const id = record.id;
  return id === undefined || id === null || id === "" ? `prompt:${question}` : `id:${typeof id === "string" ? id : JSON.stringify(id)}`;
}
