import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { InputError } from "../../base/errors/errors.ts";
import { loadSeeds, parseSeeds } from "./seeds.ts";

describe("parseSeeds: seeds from text, no file read", () => {
  test("JSON Lines and a JSON array give the same principle seeds; the kind comes from the fields", () => {
    const rows = [
      { question: "q1", principle: "p1" },
      { question: "q2", principle: "p2" },
    ];
    const fromLines = parseSeeds(`${rows.map((row) => JSON.stringify(row)).join("\n")}\n\n`, "seeds.jsonl");
    const fromArray = parseSeeds(JSON.stringify(rows), "seeds.json");
    assert.deepEqual(fromLines, { kind: "principle", file: "seeds.jsonl", seeds: rows });
    assert.deepEqual(fromArray.seeds, rows);
  });

  test("a spri-constitution is one seed per principle", () => {
    const principles = [{ id: "c1", text: "Be kind.", size: 3, members: ["Be kind."] }];
    const text = JSON.stringify({ format: "spri-constitution", version: 1, principles, source: {} });
    const set = parseSeeds(text, "constitution.json");
    assert.equal(set.kind, "constitution");
    assert.deepEqual(set.seeds, [{ principle: "Be kind.", id: "c1", size: 3 }]);
  });

  test("a malformed line and a seed without a needed field are InputErrors naming file and line", () => {
    assert.throws(
      () => parseSeeds('{"question": "q", "principle": "p"}\n{oops\n', "seeds.jsonl"),
      (error: unknown) => error instanceof InputError && error.file === "seeds.jsonl" && error.line === 2,
    );
    assert.throws(
      () => parseSeeds('{"question": "q", "principle": "p"}\n{"question": "q2", "principle": null}\n', "seeds.jsonl"),
      (error: unknown) => error instanceof InputError && error.line === 2 && error.field === "principle",
    );
  });
});

describe("loadSeeds", () => {
  test("reads the file through io/ and parses it", () => {
    const file = join(mkdtempSync(join(tmpdir(), "spri-seeds-")), "seeds.jsonl");
    writeFileSync(file, '{"input": "i", "rubric": "r"}\n');
    assert.deepEqual(loadSeeds(file), { kind: "rubric", file, seeds: [{ input: "i", rubric: "r" }] });
  });

  test("a missing file is an InputError naming it, with the flag to check", () => {
    const file = join(tmpdir(), "spri-no-such-seeds.jsonl");
    assert.throws(
      () => loadSeeds(file),
      (error: unknown) => error instanceof InputError && error.file === file && error.field === "seeds" && /--seeds/.test(error.hint ?? ""),
    );
  });
});
