/**
 * `spri align` on a machine with no API key and no model: it tries spri's default local model,
 * which must be downloaded. Without a network it says what is missing and how to set it; with one
 * it shows the download's progress. The model host is a local server (node-llama-cpp honours
 * HF_ENDPOINT), or a closed port for "no network".
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../support/cli.ts";
import { type FakeModelServer, json, raw, startFakeModelServer } from "../../src/test.ts";

const DEFAULT_MODEL = "hf:bartowski/SmolLM2-1.7B-Instruct-GGUF:Q4_K_M";

/** A stand-in for huggingface.co: the manifest, then `size` bytes that are not a GGUF model. */
function fakeModelHost(size: number): Promise<FakeModelServer> {
  const file = "\u0007".repeat(size);
  const manifest = { ggufFile: { rfilename: "SmolLM2-1.7B-Instruct-Q4_K_M.gguf", size } };
  return startFakeModelServer((request) => {
    if (request.path.includes("/manifests/")) return json(200, manifest);
    // A HEAD is answered with the headers alone (node:http sends no body for it).
    if (request.path.includes("/resolve/")) return raw(200, file, "application/octet-stream", { "accept-ranges": "bytes" });
    return raw(404, "");
  });
}

test("no key and no network: spri align says what is missing and how to set it", async () => {
  const home = mkdtempSync(join(tmpdir(), "spri-no-model-"));
  const gone = await startFakeModelServer();
  await gone.close();
  const result = await runCli(["align", "How do I apologise?"], {
    cwd: home,
    env: { HOME: home, HF_ENDPOINT: `http://127.0.0.1:${gone.port}/` },
  });
  assert.equal(result.code, 2, result.stderr);
  for (const needed of ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "SPRI_MODEL", "--base-url", DEFAULT_MODEL, "cannot be reached"]) {
    assert.ok(result.stderr.includes(needed), `the message does not name ${needed}:\n${result.stderr}`);
  }
  assert.doesNotMatch(result.stderr, /TypeError|fetch failed/);
  assert.doesNotMatch(result.stderr, /cached in/, "nothing was cached");
});

test("the default local model's download shows its progress", async () => {
  const home = mkdtempSync(join(tmpdir(), "spri-download-"));
  const host = await fakeModelHost(3 * 1024 * 1024);
  try {
    const result = await runCli(["align", "How do I apologise?"], { cwd: home, env: { HOME: home, HF_ENDPOINT: `${host.url}/` } });
    assert.match(result.stderr, new RegExp(`downloading ${DEFAULT_MODEL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
    assert.match(result.stderr, /3 MiB \(100%\)/);
    // The bytes are no model: loading fails, and the message says how to download it again.
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /delete .*\.gguf.* to download it again/);
  } finally {
    await host.close();
  }
});
