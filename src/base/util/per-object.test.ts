import assert from "node:assert/strict";
import { test } from "node:test";
import { perObject } from "./per-object.ts";

test("perObject makes a value once per key object, and again for another object equal to it", () => {
  let made = 0;
  const textOf = perObject((o: { n: number }) => `${o.n}:${++made}`);
  const a = { n: 1 };
  assert.equal(textOf(a), "1:1");
  assert.equal(textOf(a), "1:1");
  assert.equal(textOf({ n: 1 }), "1:2");
  assert.equal(made, 2);
});
