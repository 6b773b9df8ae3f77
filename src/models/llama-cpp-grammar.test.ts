import assert from "node:assert/strict";
import { test } from "node:test";
import { grammarSafe, MAX_GRAMMAR_REPETITION } from "./llama-cpp-grammar.ts";

test("grammarSafe lowers only repetition bounds llama.cpp refuses, at any depth", () => {
  const schema = {
    type: "object",
    properties: { a: { type: "string", maxLength: 2000 }, b: { type: "array", maxItems: 5000, items: { type: "string", maxLength: 40 } } },
    required: ["a"],
  };
  assert.deepEqual(grammarSafe(schema), {
    type: "object",
    properties: {
      a: { type: "string", maxLength: MAX_GRAMMAR_REPETITION },
      b: { type: "array", maxItems: MAX_GRAMMAR_REPETITION, items: { type: "string", maxLength: 40 } },
    },
    required: ["a"],
  });
});
