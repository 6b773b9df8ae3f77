/**
 * JSON schemas made safe for node-llama-cpp's grammars (llama-cpp.ts compiles one per schema).
 */

/**
 * llama.cpp refuses a grammar whose repetition bound reaches 2,000 ("Failed to parse grammar"), so a
 * schema's `maxLength`/`maxItems` (spri's own critique schema allows 2,000 characters of feedback)
 * is lowered to the largest bound it accepts: every answer still satisfies the schema as given.
 */
export const MAX_GRAMMAR_REPETITION = 1999;

export function grammarSafe(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(grammarSafe);
  if (typeof schema !== "object" || schema === null) return schema;
  const safe: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    const bound = (key === "maxLength" || key === "maxItems") && typeof value === "number" && value > MAX_GRAMMAR_REPETITION;
    safe[key] = bound ? MAX_GRAMMAR_REPETITION : grammarSafe(value);
  }
  return safe;
}
