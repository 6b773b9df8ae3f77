import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { json, openaiError, type RecordedRequest, startFakeModelServer, type FakeModelServer } from "../../test.ts";
import { InputError, ModelError } from "../../base/errors/errors.ts";
import { LlamaCppModel } from "../../models/llama-cpp.ts";
import { OpenAICompatibleModel } from "../../models/openai-compatible.ts";
import { clusterPrinciples } from "./clustering.ts";
import { PrincipleSet } from "./principle-set.ts";
import { l2Normalize, ModelEmbedder, VectorsFileEmbedder } from "./embeddings.ts";

const FIXTURE = fileURLToPath(new URL("../../../../shared/models/llama-2-tiny-random.gguf", import.meta.url));

describe("l2Normalize", () => {
  test("scales to unit length; refuses zero and non-finite vectors", () => {
    assert.deepEqual([...l2Normalize([3, 4])!], [0.6000000238418579, 0.800000011920929]);
    assert.equal(l2Normalize([0, 0]), undefined);
    assert.equal(l2Normalize([1, Number.NaN]), undefined);
    assert.equal(l2Normalize([Number.POSITIVE_INFINITY, 1]), undefined);
  });
});

describe("vectors file", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-vectors-"));
  });

  test("matches by normalised text, then by row id; vectors come back normalised", async () => {
    const file = join(dir, "vectors.jsonl");
    writeFileSync(
      file,
      [
        { text: "Principle: Be   concise.", vector: [2, 0, 0] },
        { id: "row-7", vector: [0, 0, 5] },
        { text: "be concise.", vector: [0, 9, 0] }, // a duplicate key: the first line wins
      ]
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
    const embedder = await VectorsFileEmbedder.open(file);
    const result = await embedder.embed([{ text: "BE CONCISE." }, { text: "Cite sources", ids: ["row-1", "row-7"] }]);
    assert.equal(result.dimension, 3);
    assert.deepEqual(
      result.vectors.map((v) => [...v]),
      [
        [1, 0, 0],
        [0, 0, 1],
      ],
    );
    assert.equal(embedder.source, "file");
  });

  test("missing principles, mixed dimensions and zero vectors are input errors with the line", async () => {
    const file = join(dir, "some.jsonl");
    writeFileSync(file, `${JSON.stringify({ text: "a", vector: [1, 2] })}\n`);
    const embedder = await VectorsFileEmbedder.open(file);
    await assert.rejects(embedder.embed([{ text: "a" }, { text: "b" }, { text: "c" }]), (error: unknown) => {
      assert.ok(error instanceof InputError);
      assert.match(error.message, /no vector for 2 of 3 principles, e\.g\. "b", "c"/);
      return true;
    });
    const mixed = join(dir, "mixed.jsonl");
    writeFileSync(mixed, `${JSON.stringify({ text: "a", vector: [1, 2] })}\n${JSON.stringify({ text: "b", vector: [1, 2, 3] })}\n`);
    await assert.rejects(
      VectorsFileEmbedder.open(mixed),
      (error: unknown) => error instanceof InputError && error.line === 2 && /3 dimensions/.test(error.message),
    );
    const zero = join(dir, "zero.jsonl");
    writeFileSync(zero, `${JSON.stringify({ text: "a", vector: [0, 0] })}\n`);
    await assert.rejects(VectorsFileEmbedder.open(zero), (error: unknown) => error instanceof InputError && /zero/.test(error.message));
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    await assert.rejects(VectorsFileEmbedder.open(empty), InputError);
  });
});

describe("OpenAI-compatible /v1/embeddings (fake server)", () => {
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

  test("the adapter posts floats to /v1/embeddings with the embedding model and restores input order", async () => {
    const model = new OpenAICompatibleModel({ model: "chat-model", embeddingModel: "embed-model", baseURL: `${server.url}/v1` });
    const before = server.requests.length;
    const result = await model.embed(["ab", "abcd"]);
    const request = server.requests[before]!;
    assert.equal(request.path, "/v1/embeddings");
    assert.deepEqual(request.body, { model: "embed-model", input: ["ab", "abcd"], encoding_format: "float" });
    assert.deepEqual(result.vectors, [
      [2, 1, 0],
      [4, 1, 1],
    ]);
    assert.deepEqual(result.usage, { inputTokens: 6, outputTokens: 0 });
    assert.equal(result.model, "embed-model-served");
    assert.deepEqual((await model.embed([])).vectors, []);
  });

  test("errors: unknown model names the embedding model; a short answer is a bad response", async () => {
    server.setResponder(() => openaiError(404, "The model `nope` does not exist", { code: "model_not_found" }));
    const model = new OpenAICompatibleModel({ model: "chat-model", embeddingModel: "nope", baseURL: `${server.url}/v1` });
    await assert.rejects(
      model.embed(["x"]),
      (error: unknown) => error instanceof ModelError && error.kind === "not-found" && /model "nope"/.test(error.message),
    );
    server.setResponder(() => json(200, { object: "list", data: [{ index: 0, embedding: [1, 2] }], model: "m" }));
    await assert.rejects(
      model.embed(["x", "y"]),
      (error: unknown) => error instanceof ModelError && error.kind === "bad-response" && /1 vectors for 2 texts/.test(error.message),
    );
    server.setResponder(() => json(200, { object: "list", data: [{ index: 0, embedding: [0, 0] }], model: "m" }));
    const embedder = new ModelEmbedder(model, { source: "openai" });
    await assert.rejects(
      embedder.embed([{ text: "x" }]),
      (error: unknown) => error instanceof ModelError && /zero or not finite/.test(error.message),
    );
    // Vectors of two sizes (e.g. a cached model's and the one now served under its name).
    server.setResponder(() =>
      json(200, {
        object: "list",
        data: [
          { index: 0, embedding: [1, 2] },
          { index: 1, embedding: [1, 2, 3] },
        ],
        model: "m",
      }),
    );
    await assert.rejects(
      embedder.embed([{ text: "x" }, { text: "y" }]),
      (error: unknown) =>
        error instanceof ModelError && /2 has 3 dimensions, earlier ones 2/.test(error.message) && /--cache refresh/.test(error.hint ?? ""),
    );
    server.setResponder(embeddings);
  });
});

describe("local GGUF embeddings (tiny random fixture: plumbing, not quality)", () => {
  let model: LlamaCppModel;
  before(async () => {
    model = await LlamaCppModel.load({ model: FIXTURE, threads: 1, contextSize: 512 });
  });
  after(async () => {
    await model.close();
  });

  test("vectors have the model's dimension, are finite, and the same text embeds the same way", async () => {
    const result = await model.embed(["Be concise.", "Cite your sources when you state facts.", "Be concise."]);
    assert.equal(result.vectors.length, 3);
    for (const v of result.vectors) {
      assert.equal(v.length, 8, "the fixture's n_embd is 8");
      assert.ok(v.every(Number.isFinite));
    }
    assert.deepEqual(result.vectors[2], result.vectors[0]);
    assert.ok(result.usage.inputTokens > 0);
    assert.equal(result.model, FIXTURE);
  });

  test("a text longer than the embedding context is truncated, not refused", async () => {
    const result = await model.embed(["word ".repeat(5000)]);
    assert.equal(result.vectors[0]!.length, 8);
    assert.ok(result.usage.inputTokens < 5000);
  });

  test("embed → cluster end to end through the port", async () => {
    const set = new PrincipleSet();
    const texts = [
      "Be concise.",
      "be concise.",
      "Keep answers short.",
      "Cite your sources.",
      "Give references for claims.",
      "Use a friendly tone.",
      "Be polite.",
    ];
    for (const t of texts) set.add(t);
    const unique = set.unique();
    const embedder = new ModelEmbedder(model, { source: "gguf", batchSize: 4, ownsModel: false });
    const { vectors, dimension } = await embedder.embed(unique.map((u) => ({ text: u.text })));
    assert.equal(dimension, 8);
    const result = clusterPrinciples(unique, vectors, { clusters: 3 });
    assert.equal(result.clusters.length, 3);
    assert.equal(
      result.clusters.reduce((sum, c) => sum + c.size, 0),
      texts.length,
    );
    await embedder.close(); // does not close a model it does not own
    assert.equal((await model.embed(["still open"])).vectors.length, 1);
  });

  test("after close, embed fails with an aborted ModelError", async () => {
    const other = await LlamaCppModel.load({ model: FIXTURE, threads: 1, contextSize: 512 });
    await other.embed(["warm up the embedding context"]);
    await other.close();
    await assert.rejects(other.embed(["x"]), (error: unknown) => error instanceof ModelError && error.kind === "aborted");
  });
});
