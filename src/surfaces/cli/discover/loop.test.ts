import assert from "node:assert/strict";
import { test } from "node:test";
import { loopJson } from "./loop.ts";

test("discover loop --json: the last model's URL is printed without its password", () => {
  const state = { version: 1, iterations: [] } as never;
  const line = loopJson({ status: "completed", state, final: { model: "X-iter-2", baseUrl: "http://u:secret@127.0.0.1:8000/v1" } });
  assert.match(line, /http:\/\/u:\[redacted\]@127\.0\.0\.1:8000\/v1/);
  assert.doesNotMatch(line, /secret/);
});
