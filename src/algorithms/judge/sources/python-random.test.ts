import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { PythonRandom } from "./python-random.ts";

// Expected values from CPython 3: random.seed(s); random.getrandbits(32) / random.choice(range(n)).
describe("PythonRandom (CPython's random: MT19937, init_by_array, getrandbits, choice)", () => {
  test("random.seed(0): the first 32-bit outputs, and past the first state regeneration", () => {
    const rng = new PythonRandom(0);
    const out = Array.from({ length: 700 }, () => rng.getrandbits(32));
    assert.deepEqual(out.slice(0, 3), [3626764237, 1654615998, 3255389356]);
    assert.deepEqual([out[623], out[624], out[699]], [2390040247, 2229104038, 3579999110]);
  });

  test("other seeds, including one wider than 32 bits", () => {
    const a = new PythonRandom(42);
    assert.deepEqual([a.getrandbits(32), a.getrandbits(32), a.getrandbits(32)], [2746317213, 478163327, 107420369]);
    const b = new PythonRandom(2 ** 40 + 7);
    assert.deepEqual([b.getrandbits(32), b.getrandbits(32)], [2635837658, 3209733218]);
  });

  test("random.seed(0); random.choice(seq) for sequences of 1 to 11, 24 and 100 items", () => {
    const picks = Array.from({ length: 11 }, (_, i) => new PythonRandom(0).choiceIndex(i + 1));
    assert.deepEqual(picks, [0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 6]);
    assert.equal(new PythonRandom(0).choiceIndex(24), 12);
    assert.equal(new PythonRandom(0).choiceIndex(100), 49);
  });

  test("bad arguments", () => {
    assert.throws(() => new PythonRandom(-1), RangeError);
    assert.throws(() => new PythonRandom(0).choiceIndex(0), RangeError);
    assert.throws(() => new PythonRandom(0).getrandbits(33), RangeError);
  });
});
