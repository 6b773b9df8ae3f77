import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../errors/errors.ts";
import { RecordOutput } from "./record-output.ts";

const file = () => join(mkdtempSync(join(tmpdir(), "spri-out-")), "out.jsonl");

test("records go to <file>.partial; commit gives the file its name; reopening appends", async () => {
  const path = file();
  const first = await RecordOutput.open(path, "id");
  assert.equal(first.done.size, 0);
  first.output.append({ id: "a", x: 1 });
  first.output.append({ id: 2, x: 2 });
  first.output.close();
  assert.equal(existsSync(path), false);
  const again = await RecordOutput.open(path, "id");
  assert.deepEqual([...again.done], ["a", "2"]);
  again.output.commit();
  assert.equal(existsSync(`${path}.partial`), false);
  const third = await RecordOutput.open(path, "id");
  assert.deepEqual([...third.done], ["a", "2"]);
  third.output.append({ id: "c" });
  third.output.commit();
  assert.equal(readFileSync(path, "utf8").trim().split("\n").length, 3);
});

test("a last line cut short by a crash is removed, even when it parses", async () => {
  for (const tail of ['{"id": "b", "x"', '{"id": "b"}']) {
    const path = file();
    writeFileSync(`${path}.partial`, `${JSON.stringify({ id: "a" })}\n${tail}`);
    const opened = await RecordOutput.open(path, "id");
    assert.deepEqual([...opened.done], ["a"]);
    assert.equal(opened.truncatedBytes, Buffer.byteLength(tail));
    opened.output.append({ id: "b" });
    opened.output.commit();
    assert.equal(readFileSync(path, "utf8"), `${JSON.stringify({ id: "a" })}\n${JSON.stringify({ id: "b" })}\n`);
  }
});

test("a broken complete last line is crash remains; a broken line before others is an error", async () => {
  const path = file();
  const partial = `${path}.partial`;
  writeFileSync(partial, `{"id": "a"}\n{"id": \n`);
  const opened = await RecordOutput.open(path, "id");
  assert.deepEqual([...opened.done], ["a"]);
  opened.output.close();
  assert.equal(readFileSync(partial, "utf8"), `{"id": "a"}\n`);
  appendFileSync(partial, `garbage\n{"id": "c"}\n`);
  await assert.rejects(RecordOutput.open(path, "id"), (e: unknown) => e instanceof InputError && e.line === 2);
});
