import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../errors/errors.ts";
import { formatBytes, parseByteSize } from "./byte-size.ts";

test("parseByteSize: bytes, decimal and binary units, any case", () => {
  assert.equal(parseByteSize("1048576", "--x"), 1_048_576);
  assert.equal(parseByteSize("512KB", "--x"), 512_000);
  assert.equal(parseByteSize("1.5mb", "--x"), 1_500_000);
  assert.equal(parseByteSize("2 MiB", "--x"), 2 * 1024 * 1024);
  assert.equal(parseByteSize("1GB", "--x"), 1e9);
  for (const bad of ["", "0", "-1MB", "lots", "5 parsecs", "1e6", "0.1"]) {
    assert.throws(
      () => parseByteSize(bad, "--max-item-size"),
      (error: unknown) => error instanceof ConfigError && /--max-item-size must be a size/.test(error.message),
      bad,
    );
  }
});

test("formatBytes: decimal units, one decimal at most", () => {
  assert.equal(formatBytes(999), "999 bytes");
  assert.equal(formatBytes(1_000_000), "1 MB");
  assert.equal(formatBytes(1_100_012), "1.1 MB");
  assert.equal(formatBytes(512_000), "512 KB");
  assert.equal(formatBytes(2_500_000_000), "2.5 GB");
});
