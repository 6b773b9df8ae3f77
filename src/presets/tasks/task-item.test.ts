import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { toTaskItem } from "./task-item.ts";

const at = { file: "items.jsonl", line: 7 };

describe("toTaskItem", () => {
  test("auto-detects the question from common names, in order", () => {
    assert.equal(toTaskItem("sft", { prompt: "p", input: "i" }, {}, at).question, "p");
    assert.equal(toTaskItem("sft", { user_input: "u", prompt: "p" }, {}, at).question, "u");
    assert.equal(toTaskItem("sft", { input: "i" }, {}, at).question, "i");
  });
  test("id from `id`, else the line number", () => {
    assert.equal(toTaskItem("sft", { id: 12, prompt: "p" }, {}, at).id, "12");
    assert.equal(toTaskItem("sft", { prompt: "p" }, {}, at).id, "7");
  });
  test("ids are strings: a number keeps its digits, an integer beyond 2^53 arrives as its digits", () => {
    assert.equal(toTaskItem("sft", { id: 1.5, prompt: "p" }, {}, at).id, "1.5");
    assert.equal(toTaskItem("sft", { id: "9007199254740993", prompt: "p" }, {}, at).id, "9007199254740993");
    assert.equal(toTaskItem("sft", { id: "q1.2", prompt: "p" }, {}, at).id, "q1.2");
  });
  test("an id that is null, empty, not a string or number, or a bare dot path is an error with the line", () => {
    for (const [id, pattern] of [
      [null, /the id is null/],
      ["", /the id is empty/],
      ["  ", /the id is empty/],
      [true, /a string or a number/],
      [{ n: 1 }, /a string or a number/],
      [[1], /a string or a number/],
      [".", /"\."/],
      ["..", /"\.\."/],
    ] as const) {
      for (const mapping of [{}, { idField: "id" }]) {
        assert.throws(
          () => toTaskItem("sft", { id, prompt: "p" }, mapping, at),
          (error: unknown) => {
            assert.ok(error instanceof InputError, `${JSON.stringify(id)}: ${String(error)}`);
            assert.equal(error.line, 7);
            assert.equal(error.field, "id");
            assert.match(error.message, pattern);
            assert.ok(error.hint);
            return true;
          },
        );
      }
    }
  });
  test("reappraisal reads the paper's fields", () => {
    const item = toTaskItem("reappraisal", { "Reddit Post": "post", appraisal_dimension_aim: "aim", appraisal_dimension_id: 4 }, {}, at);
    assert.deepEqual([item.question, item.goal, item.domain], ["post", "aim", "4"]);
  });
  test("mapped fields win", () => {
    const item = toTaskItem("reappraisal", { text: "t", why: "w", prompt: "p" }, { questionField: "text", goalField: "why" }, at);
    assert.deepEqual([item.question, item.goal], ["t", "w"]);
  });
  test("rubric: system prompt and optional reference answer", () => {
    const item = toTaskItem("rubric", { system_prompt: "S", input: "I", ref: "R", capability: "reasoning" }, { referenceField: "ref" }, at);
    assert.deepEqual([item.systemPrompt, item.question, item.reference, item.domain], ["S", "I", "R", "reasoning"]);
  });

  const failsWith = (row: unknown, field: string | undefined, pattern: RegExp, task: "sft" | "reappraisal" = "sft", mapping = {}) =>
    assert.throws(
      () => toTaskItem(task, row, mapping, at),
      (error: unknown) => {
        assert.ok(error instanceof InputError);
        assert.equal(error.file, "items.jsonl");
        assert.equal(error.line, 7);
        assert.equal(error.field, field);
        assert.match(error.describe(), pattern);
        return true;
      },
    );

  test("bad input names file, line and field and says what to do", () => {
    failsWith({ text: "x" }, "user_input", /items\.jsonl:7: .*no question field.*--question-field/);
    failsWith({ prompt: "   " }, "prompt", /empty/);
    failsWith({ prompt: 3 }, "prompt", /not a string/);
    failsWith({ "Reddit Post": "p" }, "appraisal_dimension_aim", /--goal-field/, "reappraisal");
    failsWith({ text: "x" }, "q", /looked for "q"/, "sft", { questionField: "q" });
    failsWith([1, 2], undefined, /JSON object/);
  });
});
