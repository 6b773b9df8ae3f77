import assert from "node:assert/strict";
import { test } from "node:test";
import { lengthRejection, parseFollows } from "./principle-following.ts";

test("parseFollows: the last Follows line wins; none is null", () => {
  assert.equal(parseFollows("Follows: no\n…on reflection…\nFollows: **yes**"), true);
  assert.equal(parseFollows("follows? No"), false);
  assert.equal(parseFollows("It is fine."), null);
});

test("lengthRejection: the budget is ratio × the longer of y1 and the gold, in words; ratio 0 is off", () => {
  const y1 = "one two three";
  const gold = "one two three four";
  assert.equal(lengthRejection("a b c d e f", y1, gold, 1.5), undefined); // 6 ≤ floor(1.5 × 4)
  assert.match(lengthRejection("a b c d e f g", y1, gold, 1.5)!, /7 words > 1\.5 × .*, 6\)/);
  assert.equal(lengthRejection("a b c d e f g", y1, gold, 0), undefined);
});
