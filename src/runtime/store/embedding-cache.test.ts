import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ModelError } from "../../base/errors/errors.ts";
import type { EmbedResult, LanguageModel } from "../../models/language-model.ts";
import { CachedEmbeddingModel, decodeVector, embeddingKey, encodeVector } from "./embedding-cache.ts";
import { SqliteStore } from "./sqlite-store.ts";

/** The model boundary: vectors made from each text's characters (not unit length), every call kept. */
function embeddingModel(id = "openai-compatible:http://127.0.0.1:1/v1#embedder") {
  const sent: string[][] = [];
  const model: LanguageModel & { embed(texts: string[]): Promise<EmbedResult> } = {
    id,
    modelId: "embedder",
    capabilities: { constrainedOutput: false },
    generate: () => Promise.reject(new Error("not a chat model")),
    async embed(texts: string[]) {
      sent.push(texts);
      return {
        vectors: texts.map((text) => [text.length / 3, 0.1, text.charCodeAt(0) / 7]),
        usage: { inputTokens: texts.length * 2, outputTokens: 0 },
        model: "embedder-v2",
      };
    },
  };
  return { model, sent };
}

const store = () => new SqliteStore(join(mkdtempSync(join(tmpdir(), "spri-embedding-cache-")), "spri.db"));

test("vectors round-trip to the bit; other text decodes to nothing", () => {
  const vector = [0.1, 1 / 3, -2.5e-300, 12345.678901234567];
  assert.deepEqual(decodeVector(encodeVector(vector)), vector);
  assert.equal(decodeVector(""), undefined);
  assert.equal(decodeVector("not a vector"), undefined);
  assert.equal(decodeVector("AAAA"), undefined, "3 bytes are no float64");
});

test("the key is the endpoint, the model and the text", () => {
  const key = embeddingKey("e", "m", "Be concise.");
  assert.match(key, /^[0-9a-f]{64}$/);
  assert.equal(embeddingKey("e", "m", "Be concise."), key);
  assert.notEqual(embeddingKey("e2", "m", "Be concise."), key);
  assert.notEqual(embeddingKey("e", "m2", "Be concise."), key);
  assert.notEqual(embeddingKey("e", "m", "Be concise"), key);
});

test("texts embedded before are answered from the store: only the others are sent, the vectors are the backend's", async () => {
  const db = store();
  try {
    const { model, sent } = embeddingModel();
    const cached = new CachedEmbeddingModel(model, db.cache);
    const first = await cached.embed(["a", "bb"]);
    const second = await cached.embed(["bb", "ccc", "a"]);
    assert.deepEqual(sent, [["a", "bb"], ["ccc"]]);
    const direct = await model.embed(["bb", "ccc", "a"]);
    assert.deepEqual(second.vectors, direct.vectors);
    assert.deepEqual(second.usage, { inputTokens: 2, outputTokens: 0 }, "only the text sent is paid");
    assert.equal(second.model, "embedder-v2");
    assert.deepEqual(first.vectors, [direct.vectors[2], direct.vectors[0]]);
    assert.equal(cached.hits, 2);

    const all = await cached.embed(["a", "ccc"]);
    assert.equal(sent.length, 3, "nothing sent when every text is stored");
    assert.deepEqual(all, {
      vectors: [direct.vectors[2], direct.vectors[1]],
      usage: { inputTokens: 0, outputTokens: 0 },
      model: "embedder-v2",
    });

    const other = embeddingModel("openai-compatible:http://127.0.0.1:2/v1#embedder");
    await new CachedEmbeddingModel(other.model, db.cache).embed(["a"]);
    assert.deepEqual(other.sent, [["a"]], "another endpoint's vectors are its own");
  } finally {
    await db.close();
  }
});

test("embed returns once its vectors are committed: a second connection to the store, as a re-run opens it, reads them at once", async () => {
  const db = store();
  try {
    const { model } = embeddingModel();
    await new CachedEmbeddingModel(model, db.cache).embed(["a", "bb"]);
    const other = new SqliteStore(db.path);
    try {
      const { model: fresh, sent } = embeddingModel();
      await new CachedEmbeddingModel(fresh, other.cache).embed(["bb", "a"]);
      assert.deepEqual(sent, []);
    } finally {
      await other.close();
    }
  } finally {
    await db.close();
  }
});

test("refresh embeds every text again; a failed or short answer stores nothing", async () => {
  const db = store();
  try {
    const { model, sent } = embeddingModel();
    await new CachedEmbeddingModel(model, db.cache).embed(["a"]);
    await new CachedEmbeddingModel(model, db.cache, "refresh").embed(["a"]);
    assert.deepEqual(sent, [["a"], ["a"]]);

    const short: typeof model = { ...model, embed: async () => ({ vectors: [], usage: { inputTokens: 0, outputTokens: 0 }, model: "x" }) };
    await assert.rejects(
      new CachedEmbeddingModel(short, db.cache).embed(["zz"]),
      (error: unknown) => error instanceof ModelError && error.kind === "bad-response" && /0 vectors for 1 texts/.test(error.message),
    );
    const failing: typeof model = { ...model, embed: () => Promise.reject(new ModelError("down", { kind: "server" })) };
    await assert.rejects(new CachedEmbeddingModel(failing, db.cache).embed(["zz"]), /down/);
    await new CachedEmbeddingModel(model, db.cache).embed(["zz"]);
    assert.deepEqual(sent.at(-1), ["zz"]);
  } finally {
    await db.close();
  }
});
