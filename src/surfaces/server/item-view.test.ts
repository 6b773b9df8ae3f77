import assert from "node:assert/strict";
import { test } from "node:test";
import type { ItemRecord } from "../../io/records.ts";
import { questionOf } from "./item-view.ts";

test("questionOf looks in every question field the tasks read, reappraisal's `post` too, before any other text", () => {
  const record = { id: "1", appraisal_dimension_id: "self-blame", post: "my post" } as unknown as ItemRecord;
  assert.equal(questionOf(record), "my post");
  assert.equal(questionOf({ id: "2", note: "x", instruction: "do it" } as unknown as ItemRecord), "do it");
});
