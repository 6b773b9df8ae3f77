import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { judgePair, parseVerdict, winRate } from "./pairwise.ts";

describe("pairwise judging", () => {
  test("verdicts: the last marker wins, [[C]] is a tie, none is unscored", () => {
    assert.equal(parseVerdict("A is tempting, but [[B]]"), "B");
    assert.equal(parseVerdict("[[A]] ... on reflection [[C]]"), "tie");
    assert.equal(parseVerdict("Both are fine."), null);
  });

  test("each pair is judged in both orders; a position-biased judge yields a tie", async () => {
    // This judge always prefers whatever comes first.
    const judge = new ScriptedModel({ modelId: "j", fallback: () => "The first is better. [[A]]" });
    const outcome = await judgePair({ id: "1", question: "q", responseA: "short", responseB: "long" }, judge, {}, { itemId: "1" });
    assert.equal(judge.requests.length, 2);
    assert.match(judge.requests[0]!.messages[1]!.content, /\[Response A\]\nshort\n\n\[Response B\]\nlong/);
    assert.match(judge.requests[1]!.messages[1]!.content, /\[Response A\]\nlong\n\n\[Response B\]\nshort/);
    assert.equal(outcome.preference, 0.5);
    assert.equal(outcome.fields.pairwise_consistent, false);
    assert.deepEqual(judge.requests[0]!.sampling, { temperature: 0 });
  });

  test("a consistent judge picks the better response whatever its position", async () => {
    const judge = new ScriptedModel({
      modelId: "j",
      fallback: (req) => (/\[Response A\]\ngood/.test(req.messages[1]!.content) ? "[[A]]" : "[[B]]"),
    });
    const outcome = await judgePair({ id: "1", question: "q", responseA: "bad", responseB: "good" }, judge, {}, { itemId: "1" });
    assert.equal(outcome.preference, 1);
    assert.equal(outcome.fields.pairwise_winner, "B");
    assert.equal(outcome.fields.pairwise_consistent, true);
  });
});

test("win rate with ties and a confidence interval", () => {
  const rate = winRate([
    { preference: 1, consistent: true },
    { preference: 1, consistent: true },
    { preference: 0.5, consistent: false },
    { preference: 0, consistent: true },
    { preference: null },
  ]);
  assert.deepEqual([rate.n, rate.unscored, rate.winsB, rate.winsA, rate.ties, rate.inconsistent], [4, 1, 2, 1, 1, 1]);
  assert.equal(rate.winRateB, 62.5);
  // sd of [1, 1, .5, 0] = 0.47871; se = 0.23936; 62.5 - 1.96 se = 15.586
  assert.deepEqual(rate.ci95, [15.59, 100]);
});
