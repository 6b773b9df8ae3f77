import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { withoutPrincipleLabel, PrincipleSet, principleKey } from "./principle-set.ts";

describe("normalisation and de-duplication", () => {
  test("trims, collapses whitespace, strips a Principle: label; keys are case-folded", () => {
    assert.equal(withoutPrincipleLabel("  Principle:   Be   concise.\n"), "Be concise.");
    assert.equal(withoutPrincipleLabel("**Principle:** Cite sources"), "Cite sources");
    assert.equal(withoutPrincipleLabel("Principled answers: yes"), "Principled answers: yes");
    assert.equal(principleKey("BE concise."), principleKey("principle: be  concise."));
  });

  test("exact duplicates merge case-insensitively with counts; the commonest spelling is shown", () => {
    const set = new PrincipleSet();
    for (const text of ["Be concise.", "be concise.", "  Be  concise. ", "Cite sources", "", "   ", "BE CONCISE."]) set.add(text);
    assert.equal(set.mentions, 5);
    assert.deepEqual(set.unique(), [
      { key: "be concise.", text: "Be concise.", count: 4 },
      { key: "cite sources", text: "Cite sources", count: 1 },
    ]);
    assert.equal(set.indexOf("principle: cite SOURCES"), 1);
    assert.equal(set.indexOf("unknown"), undefined);
  });
});

test("withoutPrincipleLabel keeps quotes and list marks, which mining's normalisePrinciple strips", () => {
  assert.equal(withoutPrincipleLabel('1. "Be brief"'), '1. "Be brief"');
});
