import assert from "node:assert/strict";
import { test } from "node:test";
import { ANY_QUESTION_FIELDS, POST_FIELDS, QUESTION_FIELDS } from "./question-fields.ts";

test("one list of question fields: the common names first, reappraisal's posts last", () => {
  assert.deepEqual(QUESTION_FIELDS, ["user_input", "prompt", "instruction", "question", "input"]);
  assert.deepEqual(POST_FIELDS, ["Reddit Post", "post"]);
  assert.deepEqual(ANY_QUESTION_FIELDS, [...QUESTION_FIELDS, ...POST_FIELDS]);
});
