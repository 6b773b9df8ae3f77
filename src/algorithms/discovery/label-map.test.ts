import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { labelMap } from "./label-map.ts";

test("label map: a member maps to its representative, an unknown principle to the nearest one", () => {
  const constitution = {
    principles: [
      { id: "p1", text: "Be concrete: give exact steps and numbers.", size: 2, members: ["Be specific: name the steps.", "Give numbers."] },
      { id: "p2", text: "Support claims with cited references.", size: 1, members: [{ text: "Cite papers." }] },
    ],
  };
  const labels = labelMap(constitution);
  assert.deepEqual(labels.lookup("principle: be specific:   name the steps."), {
    text: constitution.principles[0]!.text,
    id: "p1",
    how: "member",
  });
  assert.deepEqual(labels.lookup("Cite papers."), { text: constitution.principles[1]!.text, id: "p2", how: "member" });
  assert.equal(labels.lookup("Cite sources: back claims with references.").id, "p2");
  assert.equal(labels.lookup("Cite sources: back claims with references.").how, "nearest");
  assert.throws(() => labelMap({ principles: [] }), InputError);
});
