import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { kindOfAnswer, kindOfStatus } from "./error-kinds.ts";

describe("kindOfStatus: the one HTTP status → error kind table", () => {
  test("each status the adapters meet has one kind", () => {
    const table: [number | undefined, string][] = [
      [400, "bad-request"],
      [401, "auth"],
      [402, "quota"],
      [403, "auth"],
      [404, "not-found"],
      [408, "timeout"],
      [409, "bad-response"],
      [413, "bad-request"],
      [422, "bad-request"],
      [429, "rate-limit"],
      [500, "server"],
      [502, "server"],
      [503, "server"],
      [529, "server"],
      [302, "bad-response"],
      [undefined, "bad-response"],
    ];
    for (const [status, kind] of table) assert.equal(kindOfStatus(status), kind, String(status));
  });
});

describe("kindOfAnswer: what the body adds to the status", () => {
  test("a 429 that says the account is out of quota or credit is quota, not a rate limit", () => {
    assert.equal(kindOfAnswer({ status: 429, code: "insufficient_quota", detail: "x" }), "quota");
    assert.equal(kindOfAnswer({ status: 429, detail: "check your plan and billing details" }), "quota");
    assert.equal(kindOfAnswer({ status: 429, detail: "Your credit balance is too low" }), "quota");
    assert.equal(kindOfAnswer({ status: 429, code: "rate_limit_exceeded", detail: "Rate limit reached" }), "rate-limit");
  });

  test("the body changes no other status", () => {
    assert.equal(kindOfAnswer({ status: 400, detail: "quota" }), "bad-request");
    assert.equal(kindOfAnswer({ status: 500, code: "insufficient_quota", detail: "billing" }), "server");
  });
});
