import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ModelError } from "../../base/errors/errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../../models/language-model.ts";
import { CachedModel, type CallCache, MemoryCallCache, type RequestKeyParts, requestKey, requestKeyText } from "./call-cache.ts";
import { canonicalJson, sha256Hex } from "./canonical.ts";
import { SqliteStore } from "./sqlite-store.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-cache-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `cache-${files++}.db`);

/** Counts calls; answers `<n>:<last message>`; can be made to wait or fail. */
class CountingModel implements LanguageModel {
  readonly id: string;
  readonly modelId = "fake-model";
  readonly capabilities = { constrainedOutput: true };
  calls = 0;
  closed = 0;
  gate?: Promise<void>;
  failNext?: Error;

  constructor(id = "fake#http://localhost:1/v1#fake-model") {
    this.id = id;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const n = ++this.calls;
    if (this.gate) await this.gate;
    if (request.signal?.aborted) throw new ModelError("aborted", { kind: "aborted" });
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    return {
      text: `${n}:${request.messages.at(-1)?.content}`,
      finishReason: "stop",
      usage: { inputTokens: 10, outputTokens: n },
      latencyMs: 42,
      model: "fake-model-2025",
    };
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content },
  ],
  sampling: { temperature: 0.7, maxTokens: 64 },
  ...extra,
});

describe("canonicalJson", () => {
  test("sorts keys recursively, drops undefined fields, keeps array order", () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: null }, u: undefined }),
      '{"a":{"c":null,"d":[3,{"z":1}]},"b":1}',
    );
    assert.equal(canonicalJson([undefined, 1]), "[null,1]");
    assert.equal(canonicalJson(undefined), "null");
    assert.equal(canonicalJson("é\n"), JSON.stringify("é\n"));
  });
});

describe("requestKey", () => {
  const base: RequestKeyParts = {
    endpoint: "openai-compatible#https://api.example.com/v1#gpt-4o-mini",
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You write principles." },
      { role: "user", content: "How do I apologise?" },
    ],
    sampling: { temperature: 0.7, topP: 0.9, topK: 40, maxTokens: 512, seed: 1, stop: ["###", "END"] },
    schema: { name: "principles", schema: { type: "object", properties: { a: { type: "string" } }, required: ["a"] } },
    templateVersion: "builtin-1",
    sampleIndex: 0,
  };

  test("is a sha256 hex digest, insensitive to key order and undefined fields", () => {
    const key = requestKey(base);
    assert.match(key, /^[0-9a-f]{64}$/);
    const reordered: RequestKeyParts = {
      sampleIndex: 0,
      templateVersion: "builtin-1",
      schema: { schema: { required: ["a"], properties: { a: { type: "string" } }, type: "object" }, name: "principles" },
      sampling: { stop: ["###", "END"], seed: 1, maxTokens: 512, topK: 40, topP: 0.9, temperature: 0.7 },
      messages: [
        { content: "You write principles.", role: "system" },
        { content: "How do I apologise?", role: "user" },
      ],
      model: "gpt-4o-mini",
      endpoint: "openai-compatible#https://api.example.com/v1#gpt-4o-mini",
    };
    assert.equal(requestKey(reordered), key);
    assert.equal(
      requestKey({ ...base, sampling: { ...base.sampling, topK: undefined }, schema: base.schema }),
      requestKey({ ...base, sampling: { temperature: 0.7, topP: 0.9, maxTokens: 512, seed: 1, stop: ["###", "END"] } }),
    );
    // Absent sampleIndex is sample 0; absent sampling is no sampling options.
    assert.equal(requestKey({ ...base, sampleIndex: undefined }), key);
    assert.equal(requestKey({ ...base, sampling: undefined }), requestKey({ ...base, sampling: {} }));
  });

  test("is the sha256 of canonicalJson of the request, as before the messages' text was shared (old cache entries still answer)", () => {
    const canonicalText = (parts: RequestKeyParts) =>
      canonicalJson({
        v: 1,
        endpoint: parts.endpoint,
        model: parts.model,
        messages: parts.messages,
        sampling: parts.sampling ?? {},
        schema: parts.schema ? { name: parts.schema.name, schema: parts.schema.schema } : null,
        templateVersion: parts.templateVersion ?? null,
        sampleIndex: parts.sampleIndex ?? 0,
      });
    const shapes: RequestKeyParts[] = [
      base,
      { ...base, sampling: undefined, schema: undefined, templateVersion: undefined, sampleIndex: undefined },
      { ...base, sampleIndex: 3, sampling: { temperature: 0.5, stop: [] } },
      // Sampling as canonicalJson writes it: every field, non-finite numbers, fields undefined, others' keys.
      { ...base, sampling: { topP: 0.9, topK: 40, temperature: 0, stop: ['"q"\n', "ü"], seed: 7, maxTokens: 64 } },
      { ...base, sampling: { temperature: Number.NaN, topP: Number.POSITIVE_INFINITY, seed: undefined, stop: undefined } },
      { ...base, sampling: { temperature: 1, extra: { b: 1, a: [2] } } as never },
      { ...base, sampling: { temperature: "0.5", stop: ["x", undefined] } as never },
      { ...base, sampling: null as never },
      // Messages with keys in another order, with an extra field, and with text that JSON escapes.
      { ...base, messages: [{ content: 'a "quoted"\nline \u2028 ü', role: "user" }] },
      { ...base, messages: [{ role: "user", content: "x", name: "n" } as never] },
      { ...base, messages: [] },
    ];
    for (const parts of shapes) {
      assert.equal(requestKeyText(parts), canonicalText(parts));
      assert.equal(requestKey(parts), sha256Hex(canonicalText(parts)));
    }
  });

  test("changes with every part", () => {
    const key = requestKey(base);
    const variants: [string, RequestKeyParts][] = [
      ["endpoint", { ...base, endpoint: "openai-compatible#https://other.example.com/v1#gpt-4o-mini" }],
      ["model", { ...base, model: "gpt-4o" }],
      ["message content", { ...base, messages: [base.messages[0]!, { role: "user", content: "How do I apologise!" }] }],
      ["message role", { ...base, messages: [base.messages[0]!, { role: "assistant", content: "How do I apologise?" }] }],
      ["message order", { ...base, messages: [...base.messages].reverse() }],
      ["temperature", { ...base, sampling: { ...base.sampling, temperature: 0.8 } }],
      ["topP", { ...base, sampling: { ...base.sampling, topP: 1 } }],
      ["topK", { ...base, sampling: { ...base.sampling, topK: 41 } }],
      ["maxTokens", { ...base, sampling: { ...base.sampling, maxTokens: 513 } }],
      ["seed", { ...base, sampling: { ...base.sampling, seed: 2 } }],
      ["stop", { ...base, sampling: { ...base.sampling, stop: ["###"] } }],
      ["stop order", { ...base, sampling: { ...base.sampling, stop: ["END", "###"] } }],
      ["schema name", { ...base, schema: { ...base.schema!, name: "other" } }],
      ["schema json", { ...base, schema: { ...base.schema!, schema: { type: "object" } } }],
      ["no schema", { ...base, schema: undefined }],
      ["template version", { ...base, templateVersion: "builtin-2" }],
      ["no template version", { ...base, templateVersion: undefined }],
      ["sampleIndex", { ...base, sampleIndex: 1 }],
    ];
    const seen = new Set([key]);
    for (const [what, parts] of variants) {
      const variant = requestKey(parts);
      assert.notEqual(variant, key, what);
      seen.add(variant);
    }
    assert.equal(seen.size, variants.length + 1);
  });

  test("two models that differ only in API key share cache entries (the key is not part of id)", async () => {
    // Adapters keep the key out of `id`; here two instances configured with different keys.
    const withKey = (apiKey: string) =>
      Object.assign(new CountingModel("openai-compatible#https://api.example.com/v1#fake-model"), { apiKey });
    const a = withKey("sk-AAAA");
    const b = withKey("sk-BBBB");
    const cache = new MemoryCallCache();
    const cachedA = new CachedModel(a, cache);
    const cachedB = new CachedModel(b, cache);
    assert.equal(cachedA.keyOf(ask("hi")), cachedB.keyOf(ask("hi")));
    await cachedA.generate(ask("hi"));
    const fromB = await cachedB.generate(ask("hi"));
    assert.equal(fromB.cached, true);
    assert.equal(b.calls, 0);
    assert.doesNotMatch(JSON.stringify([...cache.entries]), /sk-/);
  });
});

describe("CachedModel", () => {
  test("mirrors the inner model's identity and closes it", async () => {
    const inner = new CountingModel();
    const model = new CachedModel(inner, new MemoryCallCache());
    assert.equal(model.id, inner.id);
    assert.equal(model.modelId, inner.modelId);
    assert.deepEqual(model.capabilities, inner.capabilities);
    await model.close();
    assert.equal(inner.closed, 1);
  });

  test("use: a miss calls the model and stores; a hit answers from the cache with cached and latency 0", async () => {
    const inner = new CountingModel();
    const model = new CachedModel(inner, new MemoryCallCache(), { mode: "use" });
    const first = await model.generate(ask("hello"));
    assert.equal(first.text, "1:hello");
    assert.notEqual(first.cached, true);
    assert.equal(first.latencyMs, 42);
    const second = await model.generate(ask("hello"));
    assert.deepEqual(second, { ...first, cached: true, latencyMs: 0 });
    assert.equal(inner.calls, 1);
    // A deliberate repeat is a different request.
    const repeat = await model.generate(ask("hello", { sampleIndex: 1 }));
    assert.equal(repeat.text, "2:hello");
    assert.equal(inner.calls, 2);
  });

  test("errors are never cached", async () => {
    const inner = new CountingModel();
    const model = new CachedModel(inner, new MemoryCallCache());
    inner.failNext = new ModelError("server error", { kind: "server" });
    await assert.rejects(model.generate(ask("x")), ModelError);
    const ok = await model.generate(ask("x"));
    assert.equal(ok.text, "2:x");
    assert.equal((await model.generate(ask("x"))).cached, true);
    assert.equal(inner.calls, 2);
  });

  test("refresh always calls and overwrites; off neither reads nor writes", async () => {
    const inner = new CountingModel();
    const cache = new MemoryCallCache();
    await new CachedModel(inner, cache).generate(ask("q"));
    const refresh = new CachedModel(inner, cache, { mode: "refresh" });
    assert.equal((await refresh.generate(ask("q"))).text, "2:q");
    assert.equal((await refresh.generate(ask("q"))).text, "3:q");
    assert.equal((await new CachedModel(inner, cache).generate(ask("q"))).text, "3:q");

    const off = new CachedModel(inner, cache, { mode: "off" });
    const passed = await off.generate(ask("q"));
    assert.equal(passed.text, "4:q");
    assert.notEqual(passed.cached, true);
    await off.generate(ask("never stored"));
    assert.equal(cache.entries.size, 1);
    assert.equal(inner.calls, 5);
  });

  test("the template version is part of the key", async () => {
    const inner = new CountingModel();
    const cache = new MemoryCallCache();
    await new CachedModel(inner, cache, { templateVersion: "v1" }).generate(ask("q"));
    assert.equal((await new CachedModel(inner, cache, { templateVersion: "v1" }).generate(ask("q"))).cached, true);
    assert.notEqual((await new CachedModel(inner, cache, { templateVersion: "v2" }).generate(ask("q"))).cached, true);
    assert.equal(inner.calls, 2);
  });

  test("identical requests in flight at once are coalesced into one call", async () => {
    const inner = new CountingModel();
    const gate = deferred();
    inner.gate = gate.promise;
    const model = new CachedModel(inner, new MemoryCallCache());
    const pending = Array.from({ length: 5 }, () => model.generate(ask("same")));
    const different = model.generate(ask("other"));
    await new Promise((r) => setTimeout(r, 5));
    gate.resolve();
    const results = await Promise.all(pending);
    assert.equal(inner.calls, 2);
    assert.deepEqual(new Set(results.map((r) => r.text)), new Set(["1:same"]));
    assert.equal(results.filter((r) => r.cached === true).length, 4);
    assert.equal((await different).text, "2:other");
  });

  test("waiters share the first call's error, but not its abort", async () => {
    const inner = new CountingModel();
    let gate = deferred();
    inner.gate = gate.promise;
    inner.failNext = new ModelError("bad request", { kind: "bad-request" });
    const model = new CachedModel(inner, new MemoryCallCache());
    const both = [model.generate(ask("e")), model.generate(ask("e"))];
    gate.resolve();
    for (const p of both) await assert.rejects(p, (e: unknown) => e instanceof ModelError && e.kind === "bad-request");
    assert.equal(inner.calls, 1);

    // The first caller aborts its own call: the waiter makes the call itself.
    gate = deferred();
    inner.gate = gate.promise;
    const controller = new AbortController();
    const leader = model.generate(ask("a", { signal: controller.signal }));
    const waiter = model.generate(ask("a"));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(inner.calls, 2, "the waiter joined the first call");
    controller.abort();
    gate.resolve();
    await assert.rejects(leader, (e: unknown) => e instanceof ModelError && e.kind === "aborted");
    inner.gate = undefined;
    const answer = await waiter;
    assert.equal(answer.text, "3:a");
    assert.equal(inner.calls, 3);

    // A waiter's own abort ends its wait without touching the first call.
    gate = deferred();
    inner.gate = gate.promise;
    const first = model.generate(ask("w"));
    const waitController = new AbortController();
    const impatient = model.generate(ask("w", { signal: waitController.signal }));
    waitController.abort();
    await assert.rejects(impatient, (e: unknown) => e instanceof ModelError && e.kind === "aborted");
    gate.resolve();
    assert.equal((await first).text, "4:w");
  });

  test("a waiter sent nothing: its error says so (unsent), the first call's does not", async () => {
    const inner = new CountingModel();
    const gate = deferred();
    inner.gate = gate.promise;
    inner.failNext = new ModelError("bad request", { kind: "bad-request", status: 400 });
    const model = new CachedModel(inner, new MemoryCallCache());
    const [first, waiter] = [model.generate(ask("u")), model.generate(ask("u"))];
    const controller = new AbortController();
    const impatient = model.generate(ask("u", { signal: controller.signal }));
    controller.abort();
    gate.resolve();
    await assert.rejects(first, (e: unknown) => e instanceof ModelError && !e.unsent);
    await assert.rejects(
      waiter,
      (e: unknown) => e instanceof ModelError && e.unsent && e.kind === "bad-request" && e.status === 400 && e.message === "bad request",
    );
    await assert.rejects(impatient, (e: unknown) => e instanceof ModelError && e.unsent && e.kind === "aborted");
  });

  test("a call returns without waiting for its put; a failed put rejects the model's later calls", async () => {
    const inner = new CountingModel();
    const puts: { key: string; settle: { resolve: () => void; reject: (error: unknown) => void } }[] = [];
    const memory = new MemoryCallCache();
    // A cache whose puts wait until the test settles them, like a commit that has not happened yet.
    const slow: CallCache = {
      get: (key) => memory.get(key),
      put: (key, result, meta) =>
        new Promise<void>((resolve, reject) => {
          void memory.put(key, result, meta);
          puts.push({ key, settle: { resolve, reject } });
        }),
    };
    const model = new CachedModel(inner, slow);
    assert.equal((await model.generate(ask("a"))).text, "1:a");
    assert.equal(puts.length, 1, "the put was made, and the call did not wait for it");
    assert.equal((await model.generate(ask("a"))).cached, true);
    puts[0]!.settle.resolve();
    await model.generate(ask("b"));
    puts[1]!.settle.reject(new Error("disk full"));
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(model.generate(ask("c")), /disk full/);
    await assert.rejects(model.generate(ask("a")), /disk full/, "even a hit: the store is broken");
    assert.equal(inner.calls, 2);
  });

  test("a cache that tells at once (tryGet) is not asked again; one that cannot is asked with get", async () => {
    const answer: GenerateResult = {
      text: "stored",
      finishReason: "stop",
      usage: { inputTokens: 1, outputTokens: 2 },
      latencyMs: 7,
      model: "m",
    };
    const asked: string[] = [];
    const cacheSaying = (known: GenerateResult | null | undefined): CallCache => ({
      tryGet: () => {
        asked.push("tryGet");
        return known;
      },
      get: async () => {
        asked.push("get");
        return known ?? undefined;
      },
      put: async () => {},
    });
    const inner = new CountingModel();
    const miss = await new CachedModel(inner, cacheSaying(null)).generate(ask("a"));
    assert.deepEqual([miss.text, inner.calls, asked], ["1:a", 1, ["tryGet"]]);
    asked.length = 0;
    const hit = await new CachedModel(inner, cacheSaying(answer)).generate(ask("a"));
    assert.deepEqual([hit, inner.calls, asked], [{ ...answer, cached: true, latencyMs: 0 }, 1, ["tryGet"]]);
    asked.length = 0;
    const unknown = await new CachedModel(inner, cacheSaying(undefined)).generate(ask("a"));
    assert.deepEqual([unknown.text, inner.calls, asked], ["2:a", 2, ["tryGet", "get"]]);
  });

  test("the SQLite cache tells at once: null for a key it lacks, the answer queued or committed", async () => {
    const store = new SqliteStore(freshPath());
    const model = new CachedModel(new CountingModel(), store.cache);
    const key = model.keyOf(ask("q"));
    assert.equal(store.cache.tryGet(key), null);
    await model.generate(ask("q"));
    assert.equal(store.cache.queuedCount, 1);
    assert.equal(store.cache.tryGet(key)?.text, "1:q", "a queued put");
    store.cache.flushNow();
    assert.equal(store.cache.tryGet(key)?.text, "1:q", "a committed put");
    assert.equal(store.cache.tryGet(model.keyOf(ask("other"))), null);
    await store.close();
  });

  test("the SQLite cache answers a call whose put is not committed yet", async () => {
    const store = new SqliteStore(freshPath());
    const inner = new CountingModel();
    const model = new CachedModel(inner, store.cache);
    await model.generate(ask("q"));
    assert.equal(store.cache.queuedCount, 1, "the put waits for its group commit");
    const again = await model.generate(ask("q"));
    assert.deepEqual([again.text, again.cached, inner.calls, store.cache.queuedCount], ["1:q", true, 1, 1]);
    await store.close();
  });

  test("the SQLite cache survives reopening the database", async () => {
    const path = freshPath();
    const inner = new CountingModel();
    let store = new SqliteStore(path);
    const first = await new CachedModel(inner, store.cache, { templateVersion: "t1" }).generate(
      ask("persist", { schema: { name: "s", schema: { type: "object" } }, sampleIndex: 2 }),
    );
    await store.close();

    store = new SqliteStore(path);
    const model = new CachedModel(inner, store.cache, { templateVersion: "t1" });
    const again = await model.generate(ask("persist", { schema: { name: "s", schema: { type: "object" } }, sampleIndex: 2 }));
    assert.deepEqual(again, { ...first, cached: true, latencyMs: 0 });
    assert.equal(inner.calls, 1);
    // The stored entry keeps the original latency and the model the backend reported.
    const stored = await store.cache.get(
      model.keyOf(ask("persist", { schema: { name: "s", schema: { type: "object" } }, sampleIndex: 2 })),
    );
    assert.deepEqual(stored, {
      text: "1:persist",
      finishReason: "stop",
      usage: { inputTokens: 10, outputTokens: 1 },
      latencyMs: 42,
      model: "fake-model-2025",
    });
    // Refresh overwrites in place.
    await new CachedModel(inner, store.cache, { templateVersion: "t1", mode: "refresh" }).generate(
      ask("persist", { schema: { name: "s", schema: { type: "object" } }, sampleIndex: 2 }),
    );
    assert.equal(
      (await model.generate(ask("persist", { schema: { name: "s", schema: { type: "object" } }, sampleIndex: 2 }))).text,
      "2:persist",
    );
    await store.close();
    await assert.rejects(store.cache.get("k"));
  });
});
