import assert from "node:assert/strict";
import { test } from "node:test";
import { RecordTexts } from "./record-texts.ts";

test("texts are kept only for a held run, taken out all together or not at all", () => {
  const texts = new RecordTexts();
  texts.keep("r", "a", "A");
  assert.equal(texts.holds("r"), false, "not held: nothing kept");
  texts.hold("r", "w1");
  texts.keep("r", "a", "A");
  texts.keep("r", "b", "B");
  assert.equal(texts.takeAll("r", ["a", "c"]), undefined, "c is not kept");
  assert.deepEqual(texts.takeAll("r", ["b", "a"]), ["B", "A"]);
  assert.equal(texts.holds("r"), false, "handed out once");
  assert.equal(texts.takeAll("r", ["a"]), undefined);
  texts.keep("r", "c", "C");
  texts.forget("r", "c");
  assert.equal(texts.holds("r"), false);
});

test("only the holder's giving up the role drops a run's texts", () => {
  const texts = new RecordTexts();
  texts.hold("r", "w1");
  texts.keep("r", "a", "A");
  texts.release("r", "w2");
  texts.hold("r", "w1");
  assert.equal(texts.holds("r"), true, "a renewal and another worker's release keep them");
  texts.releaseAll("w2");
  assert.equal(texts.holds("r"), true);
  texts.releaseAll("w1");
  assert.equal(texts.holds("r"), false);
  texts.hold("r", "w1");
  texts.keep("r", "a", "A");
  texts.hold("r", "w2");
  assert.equal(texts.holds("r"), false, "a new holder starts empty");
});

test("past 16 Mi characters nothing more is kept", () => {
  const texts = new RecordTexts();
  texts.hold("r", "w");
  const big = "x".repeat(10 * 1024 * 1024);
  texts.keep("r", "a", big);
  texts.keep("r", "b", big);
  assert.deepEqual(texts.takeAll("r", ["a"]), [big]);
  assert.equal(texts.takeAll("r", ["b"]), undefined, "b did not fit");
  texts.keep("r", "b", big);
  assert.deepEqual(texts.takeAll("r", ["b"]), [big], "room again once a was handed out");
});
