import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CallRecord } from "../../io/records.ts";
import { UnscoredWatch } from "./unscored-watch.ts";

function critique(response: string, score: number | null, options: { finishReason?: string; maxTokens?: number } = {}): CallRecord {
  return {
    itemId: "1",
    step: "principle.critique",
    iteration: 1,
    attempt: 0,
    role: "critic",
    model: "critic-7b",
    endpoint: "http://127.0.0.1:8001/v1#critic-7b",
    request: {
      messages: [{ role: "user", content: "Review. End with [RESULT] <score>" }],
      sampling: { maxTokens: options.maxTokens ?? 2048 },
    },
    response,
    parsed: { score, marker: score === null ? null : "[RESULT]" },
    usage: { inputTokens: 10, outputTokens: 5 },
    latencyMs: 1,
    finishReason: options.finishReason ?? "stop",
    cacheHit: false,
    startedAt: "2026-01-01T00:00:00.000Z",
  };
}

function draft(): CallRecord {
  return { ...critique("1. Be kind.", null), step: "principle.generate", role: "base", parsed: undefined };
}

describe("UnscoredWatch", () => {
  test("most of the first critiques unscored: one warning, as soon as the window is seen, naming the missing marker", () => {
    const warnings: string[] = [];
    const watch = new UnscoredWatch({ warn: (line) => warnings.push(line), window: 4 });
    watch.observe(draft());
    for (let i = 0; i < 3; i++) watch.observe(critique("Looks fine to me.", null));
    assert.deepEqual(warnings, [], "not before the window is full");
    watch.observe(critique("Feedback: good. [RESULT] 4", 4));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^warning: 3 of the first 4 critiques had no readable score/);
    assert.match(warnings[0]!, /no score marker such as `\[RESULT\] 4`/);
    assert.match(warnings[0]!, /--critic-model/);
    for (let i = 0; i < 10; i++) watch.observe(critique("Looks fine to me.", null));
    assert.equal(warnings.length, 1, "warned once");
    assert.deepEqual(watch.counts, { critiques: 14, unscored: 13 });
    assert.match(watch.summary()!, /^warning: 13 of 14 critiques had no readable score \(unscored, never 0\); likely cause: /);
  });

  test("answers cut at the token limit are named as the cause, with the limit", () => {
    const warnings: string[] = [];
    const watch = new UnscoredWatch({ warn: (line) => warnings.push(line), window: 2 });
    watch.observe(critique("Feedback: the principles are", null, { finishReason: "length", maxTokens: 16 }));
    watch.observe(critique("Feedback: the second principle", null, { finishReason: "length", maxTokens: 16 }));
    assert.match(warnings[0]!, /cut off at the token limit \(16 new tokens\): raise --max-new-tokens/);
  });

  test("markers off the scale are named as the cause", () => {
    const warnings: string[] = [];
    const watch = new UnscoredWatch({ warn: (line) => warnings.push(line), window: 2 });
    watch.observe(critique("Feedback: ok. [RESULT] 7", null));
    watch.observe(critique("Feedback: ok. [RESULT] 9", null));
    assert.match(warnings[0]!, /hold a score marker, but the number after it is off the scale/);
  });

  test("a few unscored critiques: no warning, and the summary counts them without blame", () => {
    const warnings: string[] = [];
    const watch = new UnscoredWatch({ warn: (line) => warnings.push(line), window: 4 });
    watch.observe(critique("Looks fine.", null));
    for (let i = 0; i < 5; i++) watch.observe(critique("Feedback: ok. [RESULT] 5", 5));
    assert.deepEqual(warnings, []);
    assert.equal(watch.summary(), "1 of 6 critiques had no readable score (unscored, never 0)");
  });

  test("all scored, or no critiques at all: nothing to say", () => {
    const watch = new UnscoredWatch({ warn: () => assert.fail("no warning") });
    watch.observe(draft());
    assert.equal(watch.summary(), undefined);
    watch.observe(critique("[RESULT] 5", 5));
    assert.equal(watch.summary(), undefined);
  });

  test("a run that ends before the window is full is still warned about at the end", () => {
    const watch = new UnscoredWatch({ warn: () => assert.fail("not early") });
    watch.observe(critique("Looks fine.", null));
    watch.observe(critique("Looks fine.", null));
    assert.match(watch.summary()!, /^warning: 2 of 2 critiques had no readable score \(unscored, never 0\); likely cause: /);
  });
});
