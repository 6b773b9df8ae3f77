/**
 * Canonical JSON and hashing for cache and run keys: equal values give equal text whatever the
 * key order, so equal requests (or equal command settings) hash equally.
 */
import { hash } from "node:crypto";
import { canonicalJson } from "../../base/util/canonical-json.ts";

export { canonicalJson };

/** One-shot `crypto.hash`: at one key per model call, a Hash object per call was measurable CPU. */
export function sha256Hex(text: string): string {
  return hash("sha256", text, "hex");
}

/** sha256 (hex) of the canonical JSON of `value`. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
