import assert from "node:assert/strict";
import { test } from "node:test";
import { textTable } from "./text-table.ts";

test("textTable: columns left-aligned to their widest cell, two spaces apart, no trailing spaces", () => {
  const { lines, widths } = textTable([
    ["iter", "model", "score"],
    ["0", "base-model", "7.50*"],
    ["12", "m", ""],
  ]);
  assert.deepEqual(lines, ["iter  model       score", "0     base-model  7.50*", "12    m"]);
  assert.deepEqual(widths, [4, 10, 5]);
});

test("textTable: chosen columns right-aligned, for numbers", () => {
  const { lines } = textTable(
    [
      ["group", "n", "r"],
      ["a", "5", "0.9"],
      ["longer", "120", "-0.25"],
    ],
    { right: (column) => column > 0 },
  );
  assert.deepEqual(lines, ["group     n      r", "a         5    0.9", "longer  120  -0.25"]);
});
