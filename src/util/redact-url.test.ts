import assert from "node:assert/strict";
import { test } from "node:test";
import { redactUrl, scrubSecret } from "./redact-url.ts";

test("redactUrl hides URL passwords and secret query parameters, and leaves everything else", () => {
  assert.equal(redactUrl("postgres://spri:s3cret@db.example:5432/runs"), "postgres://spri:[redacted]@db.example:5432/runs");
  assert.equal(redactUrl("postgresql://u:p%40ss@h/db?sslmode=require"), "postgresql://u:[redacted]@h/db?sslmode=require");
  assert.equal(redactUrl("postgres://u:with@at@h/db"), "postgres://u:[redacted]@h/db");
  assert.equal(redactUrl("postgres://h/db?user=u&password=hunter2&sslmode=disable"), "postgres://h/db?user=u&password=[redacted]&sslmode=disable");
  assert.equal(redactUrl("postgres://justuser@h/db"), "postgres://justuser@h/db");
  assert.equal(redactUrl("postgres://h/db"), "postgres://h/db");
  assert.equal(redactUrl("spri.db"), "spri.db");
  assert.equal(redactUrl("/var/lib/spri/runs.db"), "/var/lib/spri/runs.db");
});

test("scrubSecret removes every occurrence of a secret", () => {
  assert.equal(scrubSecret("a hunter2 b hunter2", "hunter2"), "a [redacted] b [redacted]");
  assert.equal(scrubSecret("nothing", undefined), "nothing");
});
