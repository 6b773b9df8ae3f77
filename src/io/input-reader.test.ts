import assert from "node:assert/strict";
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { brotliCompressSync, gzipSync, zstdCompressSync } from "node:zlib";
import type { CompressionCodec } from "hyparquet";
import { parquetWriteFile } from "hyparquet-writer";
import { InputError } from "../base/errors/errors.ts";
import { type InputRow, type MalformedRow, countInputRows, inputFormatOf, plainValue, readInputRows } from "./input-reader.ts";

const ITEMS = [
  { id: "a", prompt: "How do I say no kindly?", note: "comma, inside" },
  { id: "b", prompt: "Line one\nline two", note: 'a "quoted" word' },
  { id: "c", prompt: "Ünïcödé ✓", note: "" },
];

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "spri-input-"));
});

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

describe("readInputRows: every format streams the same items", () => {
  const files: Record<string, string> = {};
  before(() => {
    files.jsonl = join(dir, "items.jsonl");
    writeFileSync(files.jsonl, `${ITEMS.map((item) => JSON.stringify(item)).join("\n")}\n`);
    files.json = join(dir, "items.json");
    writeFileSync(files.json, JSON.stringify(ITEMS, null, 2));
    files.csv = join(dir, "items.csv");
    writeFileSync(
      files.csv,
      `id,prompt,note\n${ITEMS.map((item) => [item.id, item.prompt, item.note].map(csvCell).join(",")).join("\n")}\n`,
    );
    files.tsv = join(dir, "items.tsv");
    writeFileSync(
      files.tsv,
      `id\tprompt\tnote\n${ITEMS.map((item) => [item.id, item.prompt.replace("\n", " / "), item.note].join("\t")).join("\n")}\n`,
    );
    files.parquet = join(dir, "items.parquet");
    parquetWriteFile({
      filename: files.parquet,
      columnData: [
        { name: "id", data: ITEMS.map((item) => item.id), type: "STRING" },
        { name: "prompt", data: ITEMS.map((item) => item.prompt), type: "STRING" },
        { name: "note", data: ITEMS.map((item) => item.note), type: "STRING" },
      ],
      rowGroupSize: 2,
    });
  });

  for (const format of ["jsonl", "json", "csv", "parquet"]) {
    test(format, async () => {
      const rows = await collect(readInputRows(files[format]!));
      assert.deepEqual(
        rows.map((row) => row.value),
        ITEMS,
      );
      assert.equal(await countInputRows(files[format]!), ITEMS.length);
    });
  }

  test("tsv", async () => {
    const rows = await collect(readInputRows(files.tsv!));
    assert.deepEqual(
      rows.map((row) => row.value),
      ITEMS.map((item) => ({ ...item, prompt: item.prompt.replace("\n", " / ") })),
    );
  });

  test("line numbers: JSONL lines, CSV record start lines (multi-line quoted field), JSON/Parquet positions", async () => {
    assert.deepEqual(
      (await collect(readInputRows(files.jsonl!))).map((r) => r.line),
      [1, 2, 3],
    );
    // Record b spans lines 3-4 of the CSV, so c starts on line 5.
    assert.deepEqual(
      (await collect(readInputRows(files.csv!))).map((r) => r.line),
      [2, 3, 5],
    );
    assert.deepEqual(
      (await collect(readInputRows(files.json!))).map((r) => r.line),
      [1, 2, 3],
    );
    assert.deepEqual(
      (await collect(readInputRows(files.parquet!))).map((r) => r.line),
      [1, 2, 3],
    );
  });

  test("the format option overrides the extension", async () => {
    const file = join(dir, "items.txt");
    writeFileSync(file, "question\nWhy?\n");
    assert.deepEqual(await collect(readInputRows(file, { format: "csv" })), [{ line: 2, value: { question: "Why?" } }]);
    assert.equal(inputFormatOf("x.JSON"), "json");
    assert.equal(inputFormatOf("x.jsonl.partial"), "jsonl");
    assert.equal(inputFormatOf("x.parquet"), "parquet");
  });
});

describe("readInputRows: JSON", () => {
  test("a single top-level object is one item", async () => {
    const file = join(dir, "one.json");
    writeFileSync(file, '{"prompt": "just one", "n": [1, {"x": null}]}');
    assert.deepEqual(await collect(readInputRows(file)), [{ line: 1, value: { prompt: "just one", n: [1, { x: null }] } }]);
    assert.equal(await countInputRows(file), 1);
  });

  test("nested arrays and scalars inside the top-level array", async () => {
    const file = join(dir, "nested.json");
    writeFileSync(file, '\uFEFF[[1,[2]], {"a":{"b":[true,false]}}, "s", 3.5, null]');
    const rows = await collect(readInputRows(file));
    assert.deepEqual(
      rows.map((row) => row.value),
      [[1, [2]], { a: { b: [true, false] } }, "s", 3.5, null],
    );
    assert.equal(await countInputRows(file), 5);
  });

  test("a syntax error is an InputError naming file and line", async () => {
    const file = join(dir, "bad.json");
    writeFileSync(file, '[{"prompt": "ok"},\n {"prompt": oops}]');
    await assert.rejects(collect(readInputRows(file)), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.file, file);
      assert.equal(error.line, 2);
      assert.match(error.message, /^malformed JSON \(column \d+\): /);
      return true;
    });
  });

  describe("a file that ends inside the array is an InputError saying where, never a shorter input", () => {
    const cases: [string, string, RegExp][] = [
      ["after a whole item", '[{"prompt":"a"},\n{"prompt":"b"}', /after 2 complete items/],
      ["after a comma", '[{"prompt":"a"},\n{"prompt":"b"},', /after 2 complete items/],
      ["inside a string", '[{"prompt":"a"},\n{"prompt":"b', /after 1 complete item:/],
      ["inside an object", '[{"prompt":"a"},\n{"prompt":', /after 1 complete item:/],
      ["a single object, cut", '{"prompt":\n"a"', /after 0 complete items/],
    ];
    for (const [name, text, where] of cases) {
      test(name, async () => {
        const file = join(dir, `cut-${name.replace(/\W/g, "-")}.json`);
        writeFileSync(file, text);
        const expectError = (error: unknown) => {
          assert.ok(error instanceof InputError, String(error));
          assert.equal(error.file, file);
          assert.equal(error.line, 2);
          assert.match(error.message, /ends early/);
          assert.match(error.message, where);
          assert.ok(error.hint);
          return true;
        };
        await assert.rejects(collect(readInputRows(file)), expectError);
        // Counting a single object stops at its first token; an array is counted to its end.
        if (text.startsWith("[")) await assert.rejects(countInputRows(file), expectError);
      });
    }
  });

  test("an empty file is an InputError", async () => {
    const file = join(dir, "empty.json");
    writeFileSync(file, "  \n");
    await assert.rejects(collect(readInputRows(file)), /the JSON file is empty/);
  });
});

describe("readInputRows: malformed JSONL", () => {
  let file: string;
  before(() => {
    file = join(dir, "malformed.jsonl");
    writeFileSync(file, '\uFEFF{"prompt":"one"}\n\n{"prompt": broken\n{"prompt":"four"}\n{"prompt":\n');
  });

  test("thrown by default, with file and line", async () => {
    await assert.rejects(collect(readInputRows(file)), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.file, file);
      assert.equal(error.line, 3);
      assert.match(error.message, /^malformed JSON: /);
      assert.ok(error.hint);
      return true;
    });
  });

  test('yielded as { line, error } with onMalformed: "yield", and the stream goes on', async () => {
    const rows: (InputRow | MalformedRow)[] = await collect(readInputRows(file, { onMalformed: "yield" }));
    assert.deepEqual(
      rows.map((row) => [row.line, row.error ? "error" : row.value]),
      [
        [1, { prompt: "one" }],
        [3, "error"],
        [4, { prompt: "four" }],
        [5, "error"],
      ],
    );
    const error = rows[1]!.error!;
    assert.ok(error instanceof InputError);
    assert.equal(error.file, file);
    assert.equal(error.line, 3);
    assert.match(error.describe(), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3: malformed JSON`));
    assert.equal(await countInputRows(file), 4);
  });
});

describe("readInputRows: integers beyond 2^53 keep their exact digits (as strings)", () => {
  const big = "9007199254740993";
  const lines = [
    '{"id": 9007199254740993, "n": 12, "x": 1.5, "neg": -12345678901234567890}',
    '{"id": 9007199254740992, "n": 13, "x": 1e21, "neg": 0}',
  ];
  const expected = [
    { id: big, n: 12, x: 1.5, neg: "-12345678901234567890" },
    { id: "9007199254740992", n: 13, x: 1e21, neg: 0 },
  ];

  test("JSON Lines", async () => {
    const file = join(dir, "big-ids.jsonl");
    writeFileSync(file, `${lines.join("\n")}\n`);
    assert.deepEqual(
      (await collect(readInputRows(file))).map((row) => row.value),
      expected,
    );
  });

  test("JSON array", async () => {
    const file = join(dir, "big-ids.json");
    writeFileSync(file, `[${lines.join(",\n")}]`);
    assert.deepEqual(
      (await collect(readInputRows(file))).map((row) => row.value),
      expected,
    );
  });
});

describe("readInputRows: bytes that are not UTF-8 are an InputError with their line", () => {
  const bad = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf" + a Latin-1 "é"
  const file = (name: string, ...parts: (string | Buffer)[]) => {
    const path = join(dir, name);
    writeFileSync(path, Buffer.concat(parts.map((part) => (typeof part === "string" ? Buffer.from(part) : part))));
    return path;
  };
  const expectLine = (path: string, line: number) => (error: unknown) => {
    assert.ok(error instanceof InputError, String(error));
    assert.equal(error.file, path);
    assert.equal(error.line, line);
    assert.match(error.message, /not valid UTF-8/);
    assert.match(error.hint ?? "", /UTF-8/);
    return true;
  };

  test("JSON Lines: thrown, or yielded as a malformed row and the lines after it read on", async () => {
    const path = file("latin1.jsonl", '{"prompt":"ok"}\n\n{"prompt":"', bad, '"}\r\n{"prompt":"four"}\n');
    await assert.rejects(collect(readInputRows(path)), expectLine(path, 3));
    const rows = await collect(readInputRows(path, { onMalformed: "yield" }));
    assert.deepEqual(
      rows.map((row) => [row.line, row.error ? "error" : row.value]),
      [
        [1, { prompt: "ok" }],
        [3, "error"],
        [4, { prompt: "four" }],
      ],
    );
    expectLine(path, 3)(rows[1]!.error);
    assert.equal(await countInputRows(path), 3);
  });

  test("JSON", async () => {
    const path = file("latin1.json", '[{"prompt":"ok"},\n{"prompt":"', bad, '"}]');
    await assert.rejects(collect(readInputRows(path)), expectLine(path, 2));
  });

  test("CSV", async () => {
    const path = file("latin1.csv", "id,prompt\n1,ok\n2,", bad, "\n");
    await assert.rejects(collect(readInputRows(path)), expectLine(path, 3));
  });

  test("a cut-off sequence at the end of the file", async () => {
    const path = file("cut.jsonl", '{"prompt":"ok"}\n{"prompt":"', Buffer.from("✓").subarray(0, 2));
    await assert.rejects(collect(readInputRows(path)), expectLine(path, 2));
  });

  test("characters split across read chunks are read whole", async () => {
    // 3- and 4-byte characters over several 64 KiB reads: some of them straddle a chunk boundary.
    const long = "✓😀é".repeat(30_000);
    const path = file("wide.jsonl", `${JSON.stringify({ prompt: long })}\n${JSON.stringify({ prompt: "b" })}\n`);
    assert.deepEqual(
      (await collect(readInputRows(path))).map((row) => row.value),
      [{ prompt: long }, { prompt: "b" }],
    );
    const json = file("wide.json", JSON.stringify([{ prompt: long }]));
    assert.deepEqual(
      (await collect(readInputRows(json))).map((row) => row.value),
      [{ prompt: long }],
    );
    const csv = file("wide.csv", `prompt\n${long}\n`);
    assert.deepEqual(
      (await collect(readInputRows(csv))).map((row) => row.value),
      [{ prompt: long }],
    );
  });
});

describe("readInputRows: CSV", () => {
  test("CRLF, blank lines, BOM and a header with spaces; values stay strings", async () => {
    const file = join(dir, "crlf.csv");
    writeFileSync(file, '\uFEFFid , question\r\n1,"a\r\nb"\r\n\r\n2,42\r\n');
    assert.deepEqual(await collect(readInputRows(file)), [
      { line: 2, value: { id: "1", question: "a\r\nb" } },
      { line: 5, value: { id: "2", question: "42" } },
    ]);
  });

  test("a ragged row is an InputError with its line", async () => {
    const file = join(dir, "ragged.csv");
    writeFileSync(file, "id,question\n1,ok\n2,too,many\n");
    await assert.rejects(collect(readInputRows(file)), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.line, 3);
      assert.match(error.message, /^malformed CSV/);
      return true;
    });
  });
});

describe("readInputRows: Parquet", () => {
  test("row groups in order; BigInt to number when safe, else string", async () => {
    const file = join(dir, "ints.parquet");
    const big = 2n ** 60n;
    parquetWriteFile({
      filename: file,
      columnData: [
        { name: "id", data: [1n, 2n, big, -5n, 7n], type: "INT64" },
        { name: "prompt", data: ["p1", "p2", "p3", "p4", "p5"], type: "STRING" },
        { name: "score", data: [1.5, 2, 3, 4, 5], type: "DOUBLE" },
      ],
      rowGroupSize: 2,
    });
    const rows = await collect(readInputRows(file));
    assert.deepEqual(
      rows.map((row) => row.value),
      [
        { id: 1, prompt: "p1", score: 1.5 },
        { id: 2, prompt: "p2", score: 2 },
        { id: big.toString(), prompt: "p3", score: 3 },
        { id: -5, prompt: "p4", score: 4 },
        { id: 7, prompt: "p5", score: 5 },
      ],
    );
    assert.deepEqual(
      rows.map((row) => row.line),
      [1, 2, 3, 4, 5],
    );
    assert.equal(await countInputRows(file), 5);
  });

  describe("every compression codec that writers use", () => {
    /** An LZ4 block of literals only: valid LZ4 that any decoder reads. */
    const lz4Block = (input: Uint8Array): Buffer => {
      const head = [Math.min(input.length, 15) << 4];
      if (input.length >= 15) {
        let rest = input.length - 15;
        for (; rest >= 255; rest -= 255) head.push(255);
        head.push(rest);
      }
      return Buffer.concat([Buffer.from(head), input]);
    };
    /** Parquet's older LZ4 codec: Hadoop's framing (big-endian sizes) around an LZ4 block. */
    const lz4Hadoop = (input: Uint8Array): Buffer => {
      const block = lz4Block(input);
      const sizes = Buffer.alloc(8);
      sizes.writeUInt32BE(input.length, 0);
      sizes.writeUInt32BE(block.length, 4);
      return Buffer.concat([sizes, block]);
    };
    const compressors: Partial<Record<CompressionCodec, (input: Uint8Array) => Uint8Array>> = {
      GZIP: (input) => gzipSync(input),
      BROTLI: (input) => brotliCompressSync(input),
      ZSTD: (input) => zstdCompressSync(input),
      LZ4: lz4Hadoop,
      LZ4_RAW: lz4Block,
    };
    for (const codec of ["SNAPPY", "GZIP", "BROTLI", "ZSTD", "LZ4", "LZ4_RAW", "UNCOMPRESSED"] as const) {
      test(codec, async () => {
        const file = join(dir, `codec-${codec}.parquet`);
        parquetWriteFile({
          filename: file,
          codec,
          compressors,
          columnData: [
            { name: "id", data: ITEMS.map((item) => item.id), type: "STRING" },
            { name: "prompt", data: ITEMS.map((item) => item.prompt.repeat(20)), type: "STRING" },
          ],
        });
        const rows = await collect(readInputRows(file));
        assert.deepEqual(
          rows.map((row) => row.value),
          ITEMS.map((item) => ({ id: item.id, prompt: item.prompt.repeat(20) })),
        );
      });
    }
  });

  test("not a Parquet file: InputError", async () => {
    const file = join(dir, "fake.parquet");
    writeFileSync(file, "not parquet at all");
    await assert.rejects(
      collect(readInputRows(file)),
      (error: unknown) => error instanceof InputError && /unreadable Parquet/.test(error.message),
    );
  });

  test("plainValue converts nested values", () => {
    assert.deepEqual(plainValue({ a: [1n, { b: new Date(0) }], c: new Uint8Array([104, 105]), d: new Map([["k", 2n ** 64n]]) }), {
      a: [1, { b: "1970-01-01T00:00:00.000Z" }],
      c: "aGk=",
      d: { k: (2n ** 64n).toString() },
    });
  });
});

describe("readInputRows: 100,000 items stream in bounded memory", () => {
  const COUNT = 100_000;
  const pad = "x".repeat(600);
  let jsonl: string;
  let json: string;

  async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
    const stream = createWriteStream(file);
    for (const line of lines) {
      if (!stream.write(line)) await new Promise<void>((resolve) => stream.once("drain", () => resolve()));
    }
    await new Promise<void>((resolve) => stream.end(() => resolve()));
  }
  function* items(separator: string): Generator<string> {
    for (let i = 0; i < COUNT; i++) yield `${JSON.stringify({ id: i, prompt: `question ${i} ${pad}` })}${i < COUNT - 1 ? separator : ""}`;
  }

  before(async () => {
    // ~65 MB each: loading either whole would take well over the bound below (~150 MB of heap).
    jsonl = join(dir, "big.jsonl");
    await writeLines(jsonl, items("\n"));
    json = join(dir, "big.json");
    await writeLines(
      json,
      (function* () {
        yield "[\n";
        yield* items(",\n");
        yield "\n]\n";
      })(),
    );
  });
  after(() => {
    for (const file of [jsonl, json]) rmSync(file, { force: true });
  });

  for (const format of ["jsonl", "json"] as const) {
    test(format, async () => {
      const file = format === "jsonl" ? jsonl : json;
      const baseline = process.memoryUsage().heapUsed;
      let peak = 0;
      let count = 0;
      let last: unknown;
      for await (const row of readInputRows(file)) {
        count++;
        last = row.value;
        assert.equal(row.line, count);
        if (count % 5000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed - baseline);
      }
      assert.equal(count, COUNT);
      assert.equal((last as { id: number }).id, COUNT - 1);
      assert.ok(peak < 100 * 1024 * 1024, `heap grew by ${Math.round(peak / 1024 / 1024)} MB`);
    });
  }
});

describe("readInputRows: stopping early", () => {
  test("a consumer may break out of any format and read again", async () => {
    const file = join(dir, "early.jsonl");
    writeFileSync(file, '{"n":1}\n{"n":2}\n{"n":3}\n');
    for (let round = 0; round < 3; round++) {
      for await (const row of readInputRows(file)) {
        assert.deepEqual(row.value, { n: 1 });
        break;
      }
    }
    const csv = join(dir, "early.csv");
    writeFileSync(csv, "n\n1\n2\n");
    for await (const row of readInputRows(csv)) {
      assert.deepEqual(row.value, { n: "1" });
      break;
    }
  });
});

describe("readInputRows: gzipped text files (.jsonl.gz, .json.gz, .csv.gz), as datasets are published", () => {
  test("read as the file inside, with its format from the name before .gz and its own line numbers", async () => {
    const jsonl = join(dir, "rows.jsonl.gz");
    writeFileSync(jsonl, gzipSync(`${JSON.stringify(ITEMS[0])}\n\n${JSON.stringify(ITEMS[1])}\n`));
    assert.equal(inputFormatOf(jsonl), "jsonl");
    assert.deepEqual(await collect(readInputRows(jsonl)), [
      { line: 1, value: ITEMS[0] },
      { line: 3, value: ITEMS[1] },
    ]);
    assert.equal(await countInputRows(jsonl), 2);
    const json = join(dir, "rows.json.gz");
    writeFileSync(json, gzipSync(JSON.stringify(ITEMS)));
    assert.equal(inputFormatOf(json), "json");
    assert.deepEqual(
      (await collect(readInputRows(json))).map((row) => row.value),
      ITEMS,
    );
  });

  test("a file that is not gzip is an InputError naming it", async () => {
    const broken = join(dir, "broken.jsonl.gz");
    writeFileSync(broken, "plain text\n");
    await assert.rejects(collect(readInputRows(broken)), (error: unknown) => {
      assert.ok(error instanceof InputError, String(error));
      assert.equal(error.file, broken);
      assert.match(error.message, /gzip/);
      return true;
    });
  });
});
