import assert from "node:assert/strict";
import { test } from "node:test";
import { dictGet, isHashable, type PyValue, pyEquals, pyReprValue, pyStr, toJs } from "./py-value.ts";

const str = (value: string): PyValue => ({ kind: "str", value });
const int = (value: number): PyValue => ({ kind: "int", value: BigInt(value) });
const float = (value: number): PyValue => ({ kind: "float", value });

test("repr of floats as CPython writes them: shortest digits, exponent below 1e-4 and from 1e16", () => {
  const cases: [number, string][] = [
    [3, "3.0"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1e15, "1000000000000000.0"],
    [1e16, "1e+16"],
    [1.5e300, "1.5e+300"],
    [123456789012345678, "1.2345678901234568e+17"],
    [-0, "-0.0"],
    [Number.POSITIVE_INFINITY, "inf"],
    [Number.NaN, "nan"],
  ];
  for (const [value, repr] of cases) assert.equal(pyReprValue(float(value)), repr, String(value));
});

test("repr of containers: a one-item tuple keeps its comma, an empty set is set()", () => {
  assert.equal(pyReprValue({ kind: "tuple", items: [int(1)] }), "(1,)");
  assert.equal(pyReprValue({ kind: "set", items: [] }), "set()");
  assert.equal(
    pyReprValue({ kind: "dict", entries: [[str("k"), { kind: "list", items: [{ kind: "none" }, str("it's")] }]] }),
    `{'k': [None, "it's"]}`,
  );
});

test("str() as str.format inserts a value, and a plain JS view", () => {
  const value: PyValue = {
    kind: "dict",
    entries: [
      [str("s"), str("x")],
      [str("i"), int(3)],
      [str("f"), float(3)],
      [str("b"), { kind: "bool", value: true }],
      [str("n"), { kind: "none" }],
      [str("l"), { kind: "list", items: [int(1), str("a")] }],
      [str("t"), { kind: "tuple", items: [int(1)] }],
    ],
  };
  assert.deepEqual(
    ["s", "i", "f", "b", "n", "l", "t"].map((k) => pyStr(dictGet(value, k)!)),
    ["x", "3", "3.0", "True", "None", "[1, 'a']", "(1,)"],
  );
  assert.deepEqual(toJs(value), { s: "x", i: 3, f: 3, b: true, n: null, l: [1, "a"], t: [1] });
});

test("d[key] of a missing key or of a non-dict reads as missing (the reference's KeyError, TypeError)", () => {
  assert.equal(dictGet({ kind: "dict", entries: [[str("criteria"), str("x")]] }, "score5_description"), undefined);
  assert.equal(dictGet({ kind: "list", items: [str("criteria")] }, "criteria"), undefined);
});

test("equality and hashing as dict keys see them: 1 == 1.0 == True; lists, dicts and sets are unhashable", () => {
  assert.ok(pyEquals(int(1), float(1)));
  assert.ok(pyEquals(int(1), { kind: "bool", value: true }));
  assert.ok(!pyEquals(int(1), str("1")));
  assert.ok(pyEquals({ kind: "tuple", items: [int(1), str("a")] }, { kind: "tuple", items: [float(1), str("a")] }));
  assert.ok(isHashable({ kind: "tuple", items: [int(1), str("a")] }));
  assert.ok(!isHashable({ kind: "tuple", items: [int(1), { kind: "list", items: [] }] }));
  assert.ok(!isHashable({ kind: "set", items: [] }));
});
