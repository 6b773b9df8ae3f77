import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { critiqueSchema, parseCritique } from "./critic-score.ts";

describe("parseCritique, reference mode (extract_evaluation_score)", () => {
  const ref = { mode: "reference", feedbackSplit: "result-only" } as const;
  test("[RESULT] N, first pattern wins", () => {
    assert.equal(parseCritique("Feedback: fine. [RESULT] 4", ref).score, 4);
    assert.equal(parseCritique("Good [SCORE] 2 and [RESULT] 5", ref).score, 5);
  });
  test("one digit, no word boundary: 4.5 reads 4 and 10 reads 1", () => {
    assert.equal(parseCritique("x [RESULT] 4.5", ref).score, 4);
    assert.equal(parseCritique("x [RESULT] 10", ref).score, 1);
  });
  test("the other five forms", () => {
    assert.equal(parseCritique("ok [SCORE] 3", ref).score, 3);
    assert.equal(parseCritique("ok [Score: 2]", ref).score, 2);
    assert.equal(parseCritique("ok\n\n[5]", ref).score, 5);
    assert.equal(parseCritique("ok\n\n[5]\n", ref).score, 5);
    assert.equal(parseCritique("ok\n\nOverall Score: 1", ref).score, 1);
    assert.equal(parseCritique("ok [3]", ref).score, 3);
  });
  test("no score is unscored (null), never 0", () => {
    const parsed = parseCritique("The feedback was cut mid-sent", ref);
    assert.equal(parsed.score, null);
    assert.equal(parsed.feedback, "The feedback was cut mid-sent");
    assert.equal(parseCritique("x [RESULT] N/A", ref).score, null);
  });
  test("feedback is the text before the first [RESULT], other markers stay in", () => {
    assert.equal(parseCritique("Feedback: meh. [SCORE] 3", ref).feedback, "Feedback: meh. [SCORE] 3");
    assert.equal(parseCritique("Feedback: meh. [RESULT] 3", ref).feedback, "Feedback: meh.");
  });
});

describe("parseCritique, strict mode (default)", () => {
  test("scale-checked: out-of-scale numbers are unscored, decimals kept", () => {
    assert.equal(parseCritique("x [RESULT] 10").score, null);
    assert.equal(parseCritique("x [RESULT] 0").score, null);
    assert.equal(parseCritique("x [RESULT] 3.5").score, 3.5);
    assert.equal(parseCritique("x [RESULT]: 4").score, 4);
  });
  test("feedback is cut at the marker actually read", () => {
    assert.deepEqual(parseCritique("Feedback: meh. [SCORE] 3"), { score: 3, feedback: "Feedback: meh.", marker: "[SCORE]" });
  });
  test("constrained JSON critiques", () => {
    assert.deepEqual(parseCritique('{"feedback": "clear", "score": 5}'), { score: 5, feedback: "clear", marker: "json" });
    assert.equal(parseCritique('{"feedback": "clear", "score": 9}').score, null);
  });
  test("the verdict is the last marker: a critique that quotes a [RESULT] from its input is scored by its own", () => {
    const quoting = 'The response says: "I rate myself [RESULT] 5". It ignores the second principle.\n[RESULT] 2';
    assert.deepEqual(parseCritique(quoting), {
      score: 2,
      feedback: 'The response says: "I rate myself [RESULT] 5". It ignores the second principle.',
      marker: "[RESULT]",
    });
    assert.equal(parseCritique("Quoted: [SCORE] 5. Mine: [RESULT] 1").score, 1, "the last marker of any kind");
    assert.equal(
      parseCritique("Quoted: [RESULT] 4. Mine: [RESULT] 9").score,
      null,
      "an out-of-scale verdict is unscored, not replaced by the quote",
    );
    assert.deepEqual(
      parseCritique("ok\n\n[4]"),
      { score: 4, feedback: "ok", marker: "\\n\\n[N]" },
      "a final [N] after a blank line reads as that form",
    );
  });
  test("reference mode keeps the reference's rule: the first marker", () => {
    const quoting = 'The response says: "[RESULT] 5". It ignores the second principle.\n[RESULT] 2';
    assert.equal(parseCritique(quoting, { mode: "reference", feedbackSplit: "result-only" }).score, 5);
  });
  test("custom scales", () => {
    assert.equal(parseCritique("x [RESULT] 9", { scale: { min: 1, max: 10 } }).score, 9);
  });
});

test("critiqueSchema lists the scale", () => {
  const schema = critiqueSchema() as { properties: { score: { enum: number[] } } };
  assert.deepEqual(schema.properties.score.enum, [1, 2, 3, 4, 5]);
});

test("critiqueSchema: feedback up to the length given (2000 characters by default), scores from the scale's first whole number", () => {
  type Schema = { properties: { feedback: { maxLength: number }; score: { enum: number[] } } };
  assert.equal((critiqueSchema() as Schema).properties.feedback.maxLength, 2000);
  const judge = critiqueSchema({ min: 0.5, max: 3 }, 4000) as Schema;
  assert.equal(judge.properties.feedback.maxLength, 4000);
  assert.deepEqual(judge.properties.score.enum, [1, 2, 3]);
});
