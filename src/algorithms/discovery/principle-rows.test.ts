import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { isTrajectory, principlesOf, rowId, withLabels } from "./principle-rows.ts";

test("principlesOf: a bare string row, the named dotted field, else the first default field present", () => {
  assert.deepEqual(principlesOf("Be brief.", undefined, "in.jsonl", 1), { field: "(row)", texts: ["Be brief."], array: false });
  assert.deepEqual(principlesOf({ best: { z: "Cite." }, principle: null }, undefined, "in.jsonl", 1), {
    field: "best.z",
    texts: ["Cite."],
    array: false,
  });
  assert.deepEqual(principlesOf({ p: { list: ["a", "b"] } }, "p.list", "in.jsonl", 1), { field: "p.list", texts: ["a", "b"], array: true });
  assert.equal(principlesOf({ other: "x" }, undefined, "in.jsonl", 1), undefined);
  assert.throws(
    () => principlesOf({ principle: 3 }, undefined, "in.jsonl", 7),
    (error: unknown) => error instanceof InputError && error.line === 7 && error.field === "principle",
  );
});

test("withLabels: zCanonical and clusterId beside the row, one per principle for arrays", () => {
  const label = (text: string) => (text === "a" ? { id: "c1", text: "A" } : undefined);
  assert.deepEqual(withLabels({ id: 1, principle: "a" }, { field: "principle", texts: ["a"], array: false }, label), {
    id: 1,
    principle: "a",
    zCanonical: "A",
    clusterId: "c1",
  });
  assert.deepEqual(withLabels({ z: ["a", "b"] }, { field: "z", texts: ["a", "b"], array: true }, label), {
    z: ["a", "b"],
    zCanonical: ["A", null],
    clusterId: ["c1", null],
  });
  assert.deepEqual(withLabels("a", { field: "(row)", texts: ["a"], array: false }, label), {
    principle: "a",
    zCanonical: "A",
    clusterId: "c1",
  });
});

test("isTrajectory and rowId", () => {
  assert.equal(isTrajectory({ best: null }), true);
  assert.equal(isTrajectory({ principle: "x" }), false);
  assert.equal(rowId({ id: 4 }), "4");
  assert.equal(rowId({ id: { x: 1 } }), undefined);
  assert.equal(rowId("text"), undefined);
});
