import assert from "node:assert/strict";
import { test } from "node:test";
import { perObject, perObjectAnd } from "./per-object.ts";

test("perObject makes a value once per key object, and again for another object equal to it", () => {
  let made = 0;
  const textOf = perObject((o: { n: number }) => `${o.n}:${++made}`);
  const a = { n: 1 };
  assert.equal(textOf(a), "1:1");
  assert.equal(textOf(a), "1:1");
  assert.equal(textOf({ n: 1 }), "1:2");
  assert.equal(made, 2);
});

test("perObjectAnd makes a value once per key object and second key", () => {
  let made = 0;
  const textOf = perObjectAnd((o: { n: number }, second: string | undefined) => `${o.n}:${second}:${++made}`);
  const a = { n: 1 };
  assert.equal(textOf(a, "x"), "1:x:1");
  assert.equal(textOf(a, "x"), "1:x:1");
  assert.equal(textOf(a, undefined), "1:undefined:2");
  assert.equal(textOf(a, undefined), "1:undefined:2");
  assert.equal(textOf({ n: 1 }, "x"), "1:x:3");
});
