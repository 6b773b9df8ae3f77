import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { templatePack } from "./prompt-pack.ts";

test("templatePack: templates held in memory; a missing one is a ConfigError naming the pack", () => {
  const pack = templatePack("built-in (judge)", { "a.txt": "A {x}" }, "built-in judge prompts");
  assert.equal(pack.description, "built-in (judge)");
  assert.equal(pack.has("a.txt"), true);
  assert.equal(pack.has("b.txt"), false);
  assert.equal(pack.get("a.txt"), "A {x}");
  assert.throws(
    () => pack.get("b.txt"),
    (error: unknown) => error instanceof ConfigError && error.message === "the built-in judge prompts have no template b.txt",
  );
});
