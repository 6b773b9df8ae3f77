import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ifevalPrinciples, principledQuestion } from "./ifeval-principles.ts";

describe("IFEval instructions as principles", () => {
  test("each verifiable instruction becomes a principle with its arguments filled in", () => {
    assert.deepEqual(
      ifevalPrinciples(
        ["punctuation:no_comma", "detectable_format:number_highlighted_sections", "length_constraints:number_words"],
        [{}, { num_highlights: 3 }, { relation: "at least", num_words: 300 }],
      ),
      [
        "Use no commas anywhere in the response.",
        "Highlight at least 3 sections with markdown, e.g. *highlighted section*.",
        "Use at least 300 words.",
      ],
    );
  });

  test("an instruction id this list does not know is still named, with its arguments", () => {
    assert.deepEqual(ifevalPrinciples(["future:thing"], [{ n: 2, unused: null }]), ["Follow the instruction future:thing (n: 2)."]);
  });

  test("the judge's question carries the numbered principles after the prompt", () => {
    assert.equal(
      principledQuestion("Write a poem.", ["Use no commas anywhere in the response.", "Use at least 10 words."]),
      "Write a poem.\n\n[Principles the response must follow]\n1. Use no commas anywhere in the response.\n2. Use at least 10 words.",
    );
  });
});
