import assert from "node:assert/strict";
import { test } from "node:test";
import { redactUrl, redactUrlsIn, scrubSecret, splitCredentials } from "./redact-url.ts";

test("redactUrl hides URL passwords and secret query parameters, and leaves everything else", () => {
  assert.equal(redactUrl("postgres://spri:s3cret@db.example:5432/runs"), "postgres://spri:[redacted]@db.example:5432/runs");
  assert.equal(redactUrl("postgresql://u:p%40ss@h/db?sslmode=require"), "postgresql://u:[redacted]@h/db?sslmode=require");
  assert.equal(redactUrl("postgres://u:with@at@h/db"), "postgres://u:[redacted]@h/db");
  assert.equal(
    redactUrl("postgres://h/db?user=u&password=hunter2&sslmode=disable"),
    "postgres://h/db?user=u&password=[redacted]&sslmode=disable",
  );
  assert.equal(redactUrl("postgres://justuser@h/db"), "postgres://justuser@h/db");
  assert.equal(redactUrl("postgres://h/db"), "postgres://h/db");
  assert.equal(redactUrl("spri.db"), "spri.db");
  assert.equal(redactUrl("/var/lib/spri/runs.db"), "/var/lib/spri/runs.db");
});

test("scrubSecret removes every occurrence of a secret", () => {
  assert.equal(scrubSecret("a hunter2 b hunter2", "hunter2"), "a [redacted] b [redacted]");
  assert.equal(scrubSecret("nothing", undefined), "nothing");
});

test("redactUrlsIn hides the password of every URL in a text", () => {
  assert.equal(
    redactUrlsIn("cannot reach https://alice:k3y@models.example/v1 (or http://bob:p@ss@10.0.0.2:8000/v1); see http://docs.example/x"),
    "cannot reach https://alice:[redacted]@models.example/v1 (or http://bob:[redacted]@10.0.0.2:8000/v1); see http://docs.example/x",
  );
  assert.equal(redactUrlsIn("no url here"), "no url here");
});

test("splitCredentials takes user and password out of a URL, decoded", () => {
  assert.deepEqual(splitCredentials("https://alice:p%40ss@models.example:8443/v1"), {
    url: "https://models.example:8443/v1",
    username: "alice",
    password: "p@ss",
  });
  assert.deepEqual(splitCredentials("http://token@127.0.0.1:8000/v1"), {
    url: "http://127.0.0.1:8000/v1",
    username: "token",
    password: "",
  });
  assert.deepEqual(splitCredentials("http://127.0.0.1:8000/v1"), { url: "http://127.0.0.1:8000/v1" });
  assert.deepEqual(splitCredentials("not a url"), { url: "not a url" });
});
