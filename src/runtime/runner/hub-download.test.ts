import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { startFakeHubServer } from "../../models/fake-server/fake-hub-api.ts";
import { parseHubSource, resolveSplitFiles } from "./hub-dataset.ts";
import { cachePathOf, downloadHubFile } from "./hub-download.ts";

const CONTENT = Buffer.from(Array.from({ length: 64 }, (_, i) => `{"row": ${i}}\n`).join(""));
const source = parseHubSource("hf:org/rows:train");

async function withHub(options: { token?: string; redirect?: boolean; cutFirst?: number }) {
  const hub = await startFakeHubServer({ ...options, datasets: { "org/rows": { main: { "data/train.jsonl.gz": CONTENT } } } });
  const access = { endpoint: hub.url, token: options.token };
  const [file] = await resolveSplitFiles(access, source);
  const cacheDir = mkdtempSync(join(tmpdir(), "spri-hub-cache-"));
  const resolves = () => hub.log.filter((line) => line.includes("/resolve/") || line.includes("/cdn/"));
  return { hub, access, file: file!, cacheDir, resolves };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe("downloading a Hub file into the cache", () => {
  test("the file lands in the cache under its checksum, and the next call reads the copy without a request", async () => {
    const { hub, access, file, cacheDir, resolves } = await withHub({});
    try {
      const local = await downloadHubFile({ access, source, file, cacheDir });
      assert.deepEqual(readFileSync(local), CONTENT);
      assert.equal(local, cachePathOf(cacheDir, source, file));
      assert.ok(local.includes(createHash("sha256").update(CONTENT).digest("hex")));
      assert.equal(resolves().length, 1);
      assert.equal(await downloadHubFile({ access, source, file, cacheDir }), local);
      assert.equal(resolves().length, 1, "served from the cache");
    } finally {
      await hub.close();
    }
  });

  test("a partial download resumes where it stopped, with a Range request", async () => {
    const { hub, access, file, cacheDir, resolves } = await withHub({});
    try {
      const local = cachePathOf(cacheDir, source, file);
      mkdirSync(dirname(local), { recursive: true });
      writeFileSync(`${local}.part`, CONTENT.subarray(0, 100));
      assert.deepEqual(readFileSync(await downloadHubFile({ access, source, file, cacheDir })), CONTENT);
      assert.deepEqual(
        resolves().map((line) => line.replace(/^.* range=/, "")),
        ["bytes=100-"],
      );
      assert.equal(existsSync(`${local}.part`), false);
    } finally {
      await hub.close();
    }
  });

  test("a download that breaks off is an error that says so; the next call completes it", async () => {
    const { hub, access, file, cacheDir } = await withHub({ cutFirst: 200 });
    try {
      await assert.rejects(downloadHubFile({ access, source, file, cacheDir }), (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.match(error.message, /broke off/);
        assert.match(error.hint ?? "", /again/);
        return true;
      });
      assert.deepEqual(readFileSync(await downloadHubFile({ access, source, file, cacheDir })), CONTENT);
    } finally {
      await hub.close();
    }
  });

  test("bytes that do not match the Hub's checksum are thrown away, with an error", async () => {
    const { hub, access, file, cacheDir } = await withHub({});
    try {
      const wrong = { ...file, sha256: "0".repeat(64) };
      await assert.rejects(downloadHubFile({ access, source, file: wrong, cacheDir }), /checksum/);
      assert.deepEqual(filesUnder(cacheDir), []);
    } finally {
      await hub.close();
    }
  });

  test("the token goes with the request (through the CDN redirect too) and into no cached file", async () => {
    const { hub, access, file, cacheDir, resolves } = await withHub({ token: "hf_secret_token", redirect: true });
    try {
      assert.deepEqual(readFileSync(await downloadHubFile({ access, source, file, cacheDir })), CONTENT);
      assert.ok(
        resolves().some((line) => line.includes("/cdn/")),
        "followed the redirect",
      );
      for (const cached of filesUnder(cacheDir)) assert.ok(!readFileSync(cached, "utf8").includes("hf_secret_token"), cached);
    } finally {
      await hub.close();
    }
  });
});
