import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../base/errors/errors.ts";
import { RecordOutput, readRecords, recordLine } from "./record-output.ts";

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

test("a record holding U+2028 or U+2029 (JSON.stringify leaves them as they are) is one line when the output is opened again", async () => {
  const path = file();
  const { output } = await RecordOutput.open(path, "id");
  const records = [{ id: "a", text: "one\u2028two" }, { id: "b", text: "\u2029" }, { id: "c" }];
  for (const record of records) output.append(record);
  output.close();
  const again = await RecordOutput.open(path, "id");
  assert.deepEqual([...again.done], ["a", "b", "c"]);
  assert.equal(again.truncatedBytes, 0);
  again.output.close();
  const read = [];
  for await (const { record } of readRecords(path, "id")) read.push(record);
  assert.deepEqual(read, records);
});

test("an output saved with a byte-order mark or CRLF line ends is read and cut at its real byte offsets", async () => {
  for (const [prefix, end] of [
    ["\ufeff", "\n"],
    ["", "\r\n"],
    ["\ufeff", "\r\n"],
  ]) {
    const path = file();
    const whole = `${prefix}{"id":"a"}${end}{"id":"b"}${end}`;
    writeFileSync(`${path}.partial`, `${whole}{"id":"c","x"`);
    const opened = await RecordOutput.open(path, "id");
    assert.deepEqual([...opened.done], ["a", "b"]);
    assert.equal(opened.truncatedBytes, Buffer.byteLength('{"id":"c","x"'));
    opened.output.append({ id: "c" });
    opened.output.close();
    assert.equal(readFileSync(`${path}.partial`, "utf8"), `${whole}{"id":"c"}\n`);
    const again = await RecordOutput.open(path, "id");
    assert.deepEqual([...again.done], ["a", "b", "c"]);
    again.output.close();
  }
});

test("an output is read as stored whatever its name: spri never compresses one, even named .gz", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "spri-out-")), "out.jsonl.gz");
  writeFileSync(path, '{"id":"a"}\n{"id":"b"}\n');
  assert.deepEqual([...(await RecordOutput.readDone(path, "id"))], ["a", "b"]);
});

test("records far larger than usual still go out whole, in more than one write", async () => {
  const path = file();
  const { output } = await RecordOutput.open(path, "id");
  const big = (id: string) => JSON.stringify({ id, text: id.repeat(7_000_000) });
  output.appendLines([big("a"), big("b"), big("c")]);
  output.close();
  const again = await RecordOutput.open(path, "id");
  assert.deepEqual([...again.done], ["a", "b", "c"]);
  assert.equal(again.truncatedBytes, 0);
  again.output.close();
});

test("a line that is not UTF-8 is a broken record: cut off at the end, an error naming it before others", async () => {
  const path = file();
  const partial = `${path}.partial`;
  writeFileSync(partial, Buffer.concat([Buffer.from('{"id":"a"}\n{"id":"b","t":"'), Buffer.from([0xe9]), Buffer.from('"}\n')]));
  const opened = await RecordOutput.open(path, "id");
  assert.deepEqual([...opened.done], ["a"]);
  opened.output.close();
  assert.equal(readFileSync(partial, "utf8"), '{"id":"a"}\n');
  appendFileSync(partial, Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.from('{"id":"c"}\n')]));
  await assert.rejects(
    RecordOutput.open(path, "id"),
    (e: unknown) => e instanceof InputError && e.line === 2 && /not valid UTF-8/.test(e.message),
  );
});

test("syncs run in the background while appends go on; close waits for none and leaks no descriptor", async () => {
  const path = file();
  /** Descriptors of this process open on the output (Linux; none elsewhere). */
  const open = () =>
    existsSync("/proc/self/fd")
      ? readdirSync("/proc/self/fd").filter((fd) => {
          try {
            return readlinkSync(`/proc/self/fd/${fd}`).startsWith(path);
          } catch {
            return false;
          }
        }).length
      : 0;
  const { output } = await RecordOutput.open(path, "id");
  for (let i = 0; i < 10; i++) output.append({ id: `r${i}` }, 2);
  output.commit();
  assert.deepEqual(
    readFileSync(path, "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { id: string }).id),
    Array.from({ length: 10 }, (_, i) => `r${i}`),
  );
  // The background sync that was running at close closes its descriptor when it ends.
  for (let i = 0; i < 100 && open() > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(open(), 0);
  assert.throws(() => output.append({ id: "late" }), /closed/);
});

test("a store's record text is written as it is; text with a line break is written as one line", async () => {
  const path = file();
  const { output } = await RecordOutput.open(path, "id");
  output.appendLines([recordLine('{"id":"a","x":[1, 2]}')]);
  output.appendLines([recordLine('{"id":"b",\n"y":"z"}')]);
  output.commit();
  assert.deepEqual(readFileSync(path, "utf8").split("\n"), ['{"id":"a","x":[1, 2]}', '{"id":"b","y":"z"}', ""]);
});

test("appendLines writes a page of records as one write; each is one line, and a reopened file holds them all", async () => {
  const path = file();
  const { output } = await RecordOutput.open(path, "id");
  output.appendLines([]);
  output.appendLines(['{"id":"a"}', '{"id":"b","t":"ü"}', recordLine('{"id":"c",\r\n"x":1}')]);
  output.close();
  assert.deepEqual(readFileSync(`${path}.partial`, "utf8").split("\n"), ['{"id":"a"}', '{"id":"b","t":"ü"}', '{"id":"c","x":1}', ""]);
  const again = await RecordOutput.open(path, "id");
  assert.deepEqual([...again.done], ["a", "b", "c"]);
  again.output.close();
});
