import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJson as storeCanonicalJson } from "../../runtime/store/canonical.ts";
import { canonicalJson } from "./canonical-json.ts";

test("canonicalJson sorts keys at every depth and drops undefined fields, as JSON does otherwise", () => {
  assert.equal(canonicalJson({ b: [1, { d: undefined, c: 2 }], a: new Date(0) }), '{"a":"1970-01-01T00:00:00.000Z","b":[1,{"c":2}]}');
  assert.equal(canonicalJson([undefined, Number.NaN, 2n]), "[null,null,2]");
});

test("the store's canonicalJson (cache and run keys) is this one writer, not a copy", () => {
  assert.equal(storeCanonicalJson, canonicalJson);
});
