import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../base/errors/errors.ts";
import { readTruthfulQaPrimer } from "./truthfulqa-primer.ts";

test("readTruthfulQaPrimer: the file's text, universal newlines, trailing whitespace dropped; none is no primer", () => {
  const file = join(mkdtempSync(join(tmpdir(), "spri-primer-")), "primer.txt");
  writeFileSync(file, "Q: How many legs does a spider have?\r\nA: Eight.\r\n\r\n");
  assert.equal(readTruthfulQaPrimer(file), "Q: How many legs does a spider have?\nA: Eight.");
  assert.equal(readTruthfulQaPrimer("none"), "");
});

test("readTruthfulQaPrimer: no --primer, or a file that cannot be read, is a ConfigError on the primer field saying where the standard one is", () => {
  for (const file of [undefined, join(tmpdir(), "spri-no-such-primer.txt")]) {
    assert.throws(
      () => readTruthfulQaPrimer(file),
      (error: unknown) =>
        error instanceof ConfigError && error.field === "primer" && /QA_PRIMER/.test(error.hint ?? "") && error.file === file,
    );
  }
});
