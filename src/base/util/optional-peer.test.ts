import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../errors/errors.ts";
import { importOptionalPeer, OPTIONAL_PEERS } from "./optional-peer.ts";

describe("importOptionalPeer", () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-peer-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a package that is not installed is a ConfigError naming the feature and what to install", async () => {
    const loading = importOptionalPeer("openai", "the OpenAI Batch API", {
      specifier: "openai-not-installed",
      hint: "or use --batch-offline",
    });
    await assert.rejects(loading, (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, "openai is not installed: spri needs it for the OpenAI Batch API (an optional peer dependency)");
      assert.equal(error.hint, `install it beside spri: \`npm install openai@${OPTIONAL_PEERS.openai}\`; or use --batch-offline`);
      return true;
    });
  });

  test("an installed package that fails to load says why and is not reported as missing", async () => {
    const broken = join(dir, "broken.js");
    writeFileSync(broken, 'throw new Error("no prebuilt binary for this platform");\n');
    await assert.rejects(
      importOptionalPeer("node-llama-cpp", "local GGUF models", { specifier: pathToFileURL(broken).href }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(
          error.message,
          /^node-llama-cpp could not be loaded \(spri needs it for local GGUF models\): no prebuilt binary for this platform$/,
        );
        assert.match(error.hint ?? "", /npm install node-llama-cpp@\^3\.21\.1/);
        return true;
      },
    );
  });

  test("an installed package is returned as its module", async () => {
    const module = join(dir, "module.js");
    writeFileSync(module, "export const answer = 42;\n");
    const loaded = await importOptionalPeer<{ answer: number }>("openai", "a test", { specifier: pathToFileURL(module).href });
    assert.equal(loaded.answer, 42);
  });

  test("each optional peer is declared so in package.json, with the same range, and installed here for the tests", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as Record<
      string,
      Record<string, unknown> | undefined
    >;
    for (const [name, range] of Object.entries(OPTIONAL_PEERS)) {
      assert.equal(pkg.dependencies?.[name], undefined, `${name} is a dependency; a library install would pull it`);
      assert.equal(pkg.peerDependencies?.[name], range, `${name}: peerDependencies`);
      assert.deepEqual(pkg.peerDependenciesMeta?.[name], { optional: true }, `${name}: peerDependenciesMeta`);
      assert.ok(pkg.devDependencies?.[name], `${name} is missing from devDependencies`);
    }
  });
});
