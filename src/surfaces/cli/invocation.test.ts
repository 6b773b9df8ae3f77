import assert from "node:assert/strict";
import { test } from "node:test";
import { thisInvocation } from "./invocation.ts";

test("the recorded command keeps every argument but the passwords in URLs", () => {
  const invocation = thisInvocation(
    [
      "run",
      "--input",
      "in put.jsonl",
      "--store",
      "postgres://spri:hunter2@db:5432/spri",
      "--base-url=https://user:sk-secret@llm.example/v1?api_key=sk-2",
      "--threshold",
      "4",
    ],
    "/work/here",
  );
  assert.deepEqual(invocation, {
    argv: [
      "run",
      "--input",
      "in put.jsonl",
      "--store",
      "postgres://spri:[redacted]@db:5432/spri",
      "--base-url=https://user:[redacted]@llm.example/v1?api_key=[redacted]",
      "--threshold",
      "4",
    ],
    cwd: "/work/here",
  });
  assert.doesNotMatch(JSON.stringify(invocation), /hunter2|sk-secret|sk-2/);
});
