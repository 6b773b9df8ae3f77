import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { checkItemSize, DEFAULT_MAX_ITEM_BYTES } from "./item-size.ts";

const at = { file: "items.jsonl", line: 4 };

test("an item within the limit passes; one over it is an InputError with line and id", () => {
  const item = (text: string) => ({ id: "q7", question: "?", row: { id: "q7", prompt: "?", context: text } });
  checkItemSize(item("é".repeat(100)), DEFAULT_MAX_ITEM_BYTES, at);
  // Bytes, not characters: 600,000 "é" are 1.2 MB of UTF-8.
  assert.throws(
    () => checkItemSize(item("é".repeat(600_000)), DEFAULT_MAX_ITEM_BYTES, at),
    (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.line, 4);
      assert.match(error.describe(), /^items\.jsonl:4: item "q7" is 1\.2 MB, over the 1 MB limit per item — .*--max-item-size/);
      return true;
    },
  );
  checkItemSize(item("é".repeat(600_000)), 2_000_000, at);
});
