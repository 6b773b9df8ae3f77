import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { judgementSchema, parseJudgeScore, parseScale } from "./judge-score.ts";

const biggen = (text: string) => parseJudgeScore(text, { parser: "biggen-regex" }).score;
const lenient = (text: string, scale = { min: 1, max: 5 }) => parseJudgeScore(text, { scale }).score;

describe("judge score: the BiGGen regex (--compat reference)", () => {
  test("reads N, [N], decimals for 1–4, and 5 or 5.0, as floats", () => {
    assert.equal(biggen("<feedback>ok</feedback><score>3</score>"), 3);
    assert.equal(biggen("<score>[4]</score>"), 4);
    assert.equal(biggen("<score>3.5</score>"), 3.5);
    assert.equal(biggen("<score>5.0</score>"), 5);
    assert.equal(biggen("<score>5</score>"), 5);
  });

  test("the findings' unreadable forms are null", () => {
    for (const text of [
      "<score>5/5</score>",
      "<score> 4 </score>",
      "<score>4 out of 5</score>",
      "Feedback: fine.\nScore: 2",
      "<score>5.5</score>",
      "<score>0</score>",
      "<score>6</score>",
      "no score",
    ]) {
      assert.equal(biggen(text), null, text);
    }
  });

  test("first match wins", () => {
    assert.equal(biggen("<score>2</score> then <score>4</score>"), 2);
  });
});

describe("judge score: the lenient default", () => {
  test("tagged, bracketed, spaced, out-of-max, [RESULT] and Score: lines", () => {
    assert.equal(lenient("<feedback>x</feedback><score>4</score>"), 4);
    assert.equal(lenient("<score> 4 </score>"), 4);
    assert.equal(lenient("<score>[3]</score>"), 3);
    assert.equal(lenient("<score>5/5</score>"), 5);
    assert.equal(lenient("<score>4 out of 5</score>"), 4);
    assert.equal(lenient("<SCORE>2</SCORE>"), 2);
    assert.equal(lenient("Feedback: thin. [RESULT] 2"), 2);
    assert.equal(lenient("The answer is fine.\nScore: 3"), 3);
    assert.equal(lenient("**Final score:** 4"), 4);
    assert.equal(lenient("<score>3.5</score>"), 3.5);
  });

  test("the last marker is the judge's final word", () => {
    assert.equal(lenient("At first <score>2</score>, on reflection [RESULT] 4"), 4);
    assert.equal(lenient("[RESULT] 4 ... <score>1</score>"), 1);
    assert.equal(
      lenient("<score>4</score> and then <score>9</score>"),
      null,
      "an out-of-scale last score is unscored, not the earlier one",
    );
  });

  test("scale-checked: off-scale numbers and a foreign maximum are unscored; nothing is read as 0", () => {
    assert.equal(lenient("<score>0</score>"), null);
    assert.equal(lenient("<score>7</score>"), null);
    assert.equal(lenient("<score>8/10</score>"), null);
    assert.equal(lenient("Score 1: the rubric's level text, not a score"), null);
    assert.equal(lenient("nothing here"), null);
    assert.equal(lenient(""), null);
  });

  test("custom scales", () => {
    const scale = { min: 1, max: 10 };
    assert.equal(lenient("<score>8/10</score>", scale), 8);
    assert.equal(lenient("<score>10</score>", scale), 10);
    assert.equal(lenient("<score>11</score>", scale), null);
    assert.equal(lenient("<score>4/5</score>", scale), null);
  });

  test("constrained JSON answers", () => {
    assert.deepEqual(parseJudgeScore('{"feedback": "good", "score": 4}'), { score: 4, marker: "json" });
    assert.equal(lenient('{"feedback": "good", "score": "3"}'), 3);
    assert.equal(lenient('{"feedback": "good", "score": 6}'), null);
    assert.equal(lenient('{"feedback": "see <score>2</score>"}'), 2, "JSON without a score falls back to the text forms");
  });

  test("the schema enumerates the scale's integers", () => {
    const schema = judgementSchema({ min: 1, max: 10 }).schema as { properties: { score: { enum: number[] } } };
    assert.deepEqual(schema.properties.score.enum, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("--scale", () => {
  test("MIN-MAX", () => {
    assert.deepEqual(parseScale("1-5"), { min: 1, max: 5 });
    assert.deepEqual(parseScale("1-10"), { min: 1, max: 10 });
    assert.deepEqual(parseScale("0..100"), { min: 0, max: 100 });
  });
  test("anything else is a ConfigError", () => {
    for (const text of ["5", "5-1", "a-b", "1-5-7", ""]) assert.throws(() => parseScale(text), ConfigError, text);
  });
});
