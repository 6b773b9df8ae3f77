import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ConfigError, InputError, SpriError } from "../base/errors/errors.ts";
import { readJsonFile, readJsonObjectFile, writeFileAtomic, writeJsonFile } from "./json-file.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-json-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function fileWith(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function caught(fn: () => unknown): SpriError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SpriError, String(error));
    return error;
  }
  assert.fail("expected an error");
}

describe("readJsonFile / readJsonObjectFile", () => {
  test("returns what the file holds", () => {
    assert.deepEqual(readJsonFile(fileWith("list.json", "[1, 2]"), { what: "list" }), [1, 2]);
    assert.deepEqual(readJsonObjectFile(fileWith("object.json", '{"a": 1}\n'), { what: "settings file" }), { a: 1 });
  });

  test("malformed JSON names the file, what it is, the field and what to do", () => {
    const file = fileWith("bad.json", '{"a": ');
    const error = caught(() => readJsonFile(file, { what: "batch state", field: "state", hint: "delete it" }));
    assert.ok(error instanceof InputError);
    assert.match(error.message, /^batch state is not valid JSON: /);
    assert.equal(error.file, file);
    assert.equal(error.field, "state");
    assert.equal(error.hint, "delete it");
  });

  test("a missing file or a directory says so, as the error class asked for", () => {
    const missing = caught(() => readJsonFile(join(dir, "nope.json"), { what: "config file", as: ConfigError }));
    assert.ok(missing instanceof ConfigError);
    assert.match(missing.message, /^config file does not exist/);
    assert.equal(missing.file, join(dir, "nope.json"));
    mkdirSync(join(dir, "a-dir"), { recursive: true });
    assert.match(caught(() => readJsonFile(join(dir, "a-dir"), { what: "constitution" })).message, /^constitution is not a file/);
  });

  test("readJsonObjectFile refuses anything but one object", () => {
    for (const text of ["[]", "null", "3", '"x"']) {
      const error = caught(() => readJsonObjectFile(fileWith("not-object.json", text), { what: "settings file" }));
      assert.match(error.message, /^settings file must hold one JSON object/, text);
    }
  });
});

describe("writeFileAtomic / writeJsonFile", () => {
  test("writes through a temporary file that does not stay behind, making folders as needed", () => {
    const file = join(dir, "out", "deep", "state.json");
    writeJsonFile(file, { b: [1, 2] });
    assert.equal(readFileSync(file, "utf8"), '{\n  "b": [\n    1,\n    2\n  ]\n}\n');
    writeFileAtomic(file, "replaced");
    assert.equal(readFileSync(file, "utf8"), "replaced");
    assert.deepEqual(readdirSync(join(dir, "out", "deep")), ["state.json"]);
  });
});
