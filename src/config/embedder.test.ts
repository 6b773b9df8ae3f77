import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { json, type RecordedRequest, startFakeModelServer, type FakeModelServer } from "../test.ts";
import { ConfigError } from "../base/errors/errors.ts";
import { createEmbedder } from "../algorithms/discovery/embeddings.ts";
import { createEmbeddingModel, resolveEmbedderSpec } from "./embedder.ts";

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  return Math.sqrt(s);
}

describe("resolveEmbedderSpec", () => {
  test("the source follows the flags: a vectors file, a GGUF or hf: model, else OpenAI", () => {
    const dir = mkdtempSync(join(tmpdir(), "spri-embedder-"));
    const vectors = join(dir, "vectors.jsonl");
    writeFileSync(vectors, "");
    assert.deepEqual(resolveEmbedderSpec({ vectors }, {}), { source: "file", file: vectors });
    assert.deepEqual(resolveEmbedderSpec({ embeddingModel: "/m/minilm.gguf", batchSize: 8 }, {}), {
      source: "gguf",
      model: "/m/minilm.gguf",
      batchSize: 8,
    });
    assert.equal(resolveEmbedderSpec({}, { SPRI_EMBEDDING_MODEL: "hf:user/repo/model.gguf" }).source, "gguf");
    assert.deepEqual(resolveEmbedderSpec({}, { OPENAI_API_KEY: "sk-test" }), {
      source: "openai",
      model: "text-embedding-3-small",
      baseURL: undefined,
      apiKey: "sk-test",
      batchSize: undefined,
    });
  });

  test("flags win over the environment; SPRI_EMBEDDING_URL over OPENAI_BASE_URL", () => {
    const env = { SPRI_EMBEDDING_MODEL: "env-model", SPRI_EMBEDDING_URL: "http://embed/v1", OPENAI_BASE_URL: "http://chat/v1" };
    assert.deepEqual(resolveEmbedderSpec({}, env), {
      source: "openai",
      model: "env-model",
      baseURL: "http://embed/v1",
      apiKey: undefined,
      batchSize: undefined,
    });
    const spec = resolveEmbedderSpec({ embeddingModel: "flag-model", embeddingUrl: "http://flag/v1" }, env);
    assert.deepEqual(
      [spec.source, "model" in spec && spec.model, "baseURL" in spec && spec.baseURL],
      ["openai", "flag-model", "http://flag/v1"],
    );
  });

  test("contradictions and missing pieces are configuration errors", () => {
    assert.throws(() => resolveEmbedderSpec({ embeddings: "file" }, {}), ConfigError);
    assert.throws(() => resolveEmbedderSpec({ embeddings: "gguf" }, {}), ConfigError);
    assert.throws(
      () => resolveEmbedderSpec({ embeddings: "openai", vectors: "v.jsonl" }, {}),
      /--vectors is only read with --embeddings file/,
    );
    assert.throws(() => resolveEmbedderSpec({ embeddingUrl: "http://localhost:8080/v1" }, {}), /no embedding model is named/);
  });
});

describe("createEmbedder over an OpenAI-compatible /v1/embeddings (fake server)", () => {
  let server: FakeModelServer;
  /** Answers each text with [length, 1, index-in-batch], out of order, as some servers do. */
  const embeddings = (request: RecordedRequest) => {
    if (!request.path.endsWith("/embeddings")) return json(404, { error: { message: "no route" } });
    const body = request.body as { input: string[]; model: string };
    const data = body.input.map((text, index) => ({ object: "embedding", index, embedding: [text.length, 1, index] })).reverse();
    return json(200, {
      object: "list",
      model: `${body.model}-served`,
      data,
      usage: { prompt_tokens: body.input.length * 3, total_tokens: body.input.length * 3 },
    });
  };

  before(async () => {
    server = await startFakeModelServer(embeddings);
  });
  after(async () => {
    await server.close();
  });

  test("createEmbedder batches requests and normalises every vector", async () => {
    const embedder = await createEmbedder(
      { source: "openai", model: "embed-model", baseURL: `${server.url}/v1`, batchSize: 2 },
      createEmbeddingModel,
    );
    const before = server.requests.length;
    const progress: number[] = [];
    const texts = ["a", "bb", "ccc", "dddd", "eeeee"];
    const result = await embedder.embed(
      texts.map((text) => ({ text })),
      { onProgress: (p) => progress.push(p.done) },
    );
    assert.equal(server.requests.length - before, 3);
    assert.deepEqual(progress, [2, 4, 5]);
    assert.equal(result.dimension, 3);
    assert.equal(result.vectors.length, 5);
    for (const v of result.vectors) assert.ok(Math.abs(norm(v) - 1) < 1e-6);
    // "ccc" is the first of the second batch: [3, 1, 0] / √10.
    assert.ok(Math.abs(result.vectors[2]![0]! - 3 / Math.sqrt(10)) < 1e-6);
    assert.deepEqual(result.usage, { inputTokens: 15, outputTokens: 0 });
    await embedder.close?.();
  });

  test("no key and no URL is a configuration error", async () => {
    await assert.rejects(createEmbeddingModel({ source: "openai", model: "text-embedding-3-small" }), ConfigError);
  });
});
