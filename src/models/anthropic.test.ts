import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { inspect } from "node:util";
import { ConfigError, ModelError, type ModelErrorKind } from "../base/errors/errors.ts";
import {
  anthropicError,
  anthropicText,
  hang,
  json,
  resetConnection,
  startFakeModelServer,
  streamBody,
  type FakeModelServer,
  type RecordedRequest,
} from "../test.ts";
import { AnthropicModel, DEFAULT_MAX_TOKENS, type AnthropicOptions } from "./anthropic.ts";
import type { GenerateRequest } from "./language-model.ts";

const KEY = "sk-ant-test-SECRET123456789";
const HELLO: GenerateRequest = { messages: [{ role: "user", content: "hello" }] };

let server: FakeModelServer;

before(async () => {
  server = await startFakeModelServer();
});
after(async () => {
  await server.close();
});
beforeEach(() => {
  server.requests.length = 0;
  server.setResponder(() => anthropicText("ok"));
});

function model(options: Partial<AnthropicOptions> = {}): AnthropicModel {
  return new AnthropicModel({ model: "claude-test", apiKey: KEY, baseURL: server.url, ...options });
}

function sentBody(index = 0): Record<string, unknown> {
  const body = server.requests[index]?.body;
  assert.ok(body && typeof body === "object", `request ${index} has no JSON body`);
  return body as Record<string, unknown>;
}

/** SDK 1.x sends `Authorization: Bearer <key>`; older ones sent `x-api-key`. */
function sentKey(request: RecordedRequest): string | undefined {
  const header = request.headers["x-api-key"] ?? request.headers.authorization;
  return typeof header === "string" ? header.replace(/^Bearer\s+/i, "") : undefined;
}

async function expectModelError(fn: () => Promise<unknown>, kind: ModelErrorKind): Promise<ModelError> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ModelError, `expected a ModelError, got ${inspect(caught)}`);
  assert.equal(caught.kind, kind, `kind of: ${caught.describe()}`);
  return caught;
}

function assertNoSecret(error: ModelError, secret: string): void {
  assert.ok(!error.message.includes(secret), `message leaks the key: ${error.message}`);
  assert.ok(!(error.hint ?? "").includes(secret), `hint leaks the key: ${error.hint}`);
  assert.ok(!error.describe().includes(secret), `describe() leaks the key: ${error.describe()}`);
  assert.ok(!inspect(error, { depth: 8 }).includes(secret), "inspect(error) leaks the key");
  assert.ok(!String(error.stack).includes(secret), "stack leaks the key");
}

describe("AnthropicModel request mapping", () => {
  test("posts to /v1/messages with the key header, system on top, max_tokens and stop_sequences", async () => {
    await model().generate({
      messages: [
        { role: "system", content: "be brief" },
        { role: "system", content: "answer in French" },
        { role: "user", content: "hello" },
        { role: "assistant", content: "bonjour" },
        { role: "user", content: "again" },
      ],
      sampling: { maxTokens: 300, stop: ["END"] },
    });
    assert.equal(server.requests.length, 1);
    const request = server.requests[0];
    assert.equal(request?.method, "POST");
    assert.equal(request?.path, "/v1/messages");
    assert.equal(request && sentKey(request), KEY);
    assert.equal(request?.headers["anthropic-version"], "2026-10-21", "the sampling rule below depends on this version");
    assert.deepEqual(sentBody(), {
      model: "claude-test",
      system: "be brief\n\nanswer in French",
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: "bonjour" },
        { role: "user", content: "again" },
      ],
      max_tokens: 300,
      stop_sequences: ["END"],
    });
  });

  // API version 2026-10-21, which SDK 1.x sends, answers 400 to temperature, top_p and top_k (even at
  // their defaults), and the API has no seed: the adapter says so instead of dropping them unseen.
  for (const [field, sampling] of [
    ["temperature", { temperature: 0.2 }],
    ["top_p", { topP: 0.8 }],
    ["top_k", { topK: 40 }],
    ["seed", { seed: 42 }],
  ] as const) {
    test(`refuses ${field} before sending anything, naming it`, async () => {
      const error = await expectModelError(() => model().generate({ ...HELLO, sampling: { ...sampling, maxTokens: 10 } }), "bad-request");
      assert.match(error.message, new RegExp(`\\b${field}\\b`));
      assert.ok(error.hint, "the refusal says what to do");
      assert.equal(server.requests.length, 0);
    });
  }

  test("declares the sampling it honours, so callers leave the rest out", () => {
    assert.deepEqual([...(model().capabilities.sampling ?? [])].sort(), ["maxTokens", "stop"]);
  });

  test("defaults max_tokens, omits system and unset fields, and merges same-role turns", async () => {
    await model().generate({
      messages: [
        { role: "user", content: "first" },
        { role: "user", content: "second" },
      ],
      sampling: { stop: [] },
    });
    assert.deepEqual(sentBody(), {
      model: "claude-test",
      max_tokens: DEFAULT_MAX_TOKENS,
      messages: [{ role: "user", content: "first\n\nsecond" }],
    });
    assert.equal(DEFAULT_MAX_TOKENS, 2048);
  });

  test("a JSON schema goes as output_config.format, in the subset the API enforces", async () => {
    const m = model();
    assert.equal(m.capabilities.constrainedOutput, true);
    const schema = {
      type: "object",
      properties: { feedback: { type: "string", maxLength: 2000 }, score: { type: "integer", enum: [1, 2, 3, 4, 5] } },
      required: ["feedback", "score"],
      additionalProperties: false,
    };
    await m.generate({ ...HELLO, schema: { name: "critique", schema } });
    const format = (sentBody().output_config as { format?: { type?: string; schema?: Record<string, unknown> } } | undefined)?.format;
    assert.equal(format?.type, "json_schema");
    const sent = format?.schema as {
      properties: { feedback: Record<string, unknown>; score: Record<string, unknown> };
      additionalProperties: unknown;
      required: unknown;
    };
    // String length limits are not enforced by the API: the SDK's transform moves them into the description.
    assert.equal(sent.properties.feedback.type, "string");
    assert.equal("maxLength" in sent.properties.feedback, false);
    assert.deepEqual(sent.properties.score.enum, [1, 2, 3, 4, 5]);
    assert.equal(sent.additionalProperties, false);
    assert.deepEqual(sent.required, ["feedback", "score"]);
  });

  test("a request with only system messages fails locally as bad-request", async () => {
    await expectModelError(() => model().generate({ messages: [{ role: "system", content: "s" }] }), "bad-request");
    assert.equal(server.requests.length, 0);
  });

  test("id names endpoint and model, never the key; a trailing /v1 is dropped", () => {
    const m = model();
    assert.equal(m.id, `anthropic:${server.url}#claude-test`);
    assert.equal(m.modelId, "claude-test");
    assert.ok(!m.id.includes(KEY));
    assert.equal(model({ baseURL: `${server.url}/v1/` }).id, `anthropic:${server.url}#claude-test`);
    assert.equal(new AnthropicModel({ model: "m", apiKey: KEY }).id, "anthropic:https://api.anthropic.com#m");
  });

  test("credentials in the base URL are refused (the key goes as a bearer token), and the message does not repeat them", () => {
    const secret = "SECRETPW123456";
    assert.throws(
      () => model({ baseURL: server.url.replace("http://", `http://alice:${secret}@`) }),
      (error: unknown) => error instanceof ConfigError && /credentials/.test(error.message) && !error.describe().includes(secret),
    );
  });

  test("a base URL ending in /v1 still reaches /v1/messages", async () => {
    await model({ baseURL: `${server.url}/v1` }).generate(HELLO);
    assert.equal(server.requests[0]?.path, "/v1/messages");
  });
});

describe("AnthropicModel response mapping", () => {
  test("maps text, usage, stop reason and reported model", async () => {
    server.setResponder(() =>
      anthropicText("the answer", { model: "claude-served", stopReason: "max_tokens", inputTokens: 21, outputTokens: 8 }),
    );
    const result = await model().generate(HELLO);
    assert.equal(result.text, "the answer");
    assert.equal(result.finishReason, "length");
    assert.deepEqual(result.usage, { inputTokens: 21, outputTokens: 8 });
    assert.equal(result.model, "claude-served");
    assert.ok(result.latencyMs >= 0);
  });

  test("end_turn and stop_sequence are stop; unknown reasons are unknown", async () => {
    const m = model();
    for (const [wire, mapped] of [
      ["end_turn", "stop"],
      ["stop_sequence", "stop"],
      ["refusal", "content-filter"],
      ["something_new", "unknown"],
    ] as const) {
      server.setResponder(() => anthropicText("x", { stopReason: wire }));
      assert.equal((await m.generate(HELLO)).finishReason, mapped, wire);
    }
  });

  test("joins several text blocks, skips other blocks and counts cached prompt tokens", async () => {
    server.setResponder(() =>
      json(200, {
        id: "msg_1",
        type: "message",
        role: "assistant",
        model: "claude-test",
        content: [
          { type: "thinking", thinking: "hmm", signature: "s" },
          { type: "text", text: "part one, " },
          { type: "text", text: "part two" },
        ],
        stop_reason: "end_turn",
        usage: { input_tokens: 3, cache_read_input_tokens: 100, cache_creation_input_tokens: 7, output_tokens: 4 },
      }),
    );
    const result = await model().generate(HELLO);
    assert.equal(result.text, "part one, part two");
    assert.deepEqual(result.usage, { inputTokens: 110, outputTokens: 4 });
  });

  test("a body without a content list is a bad-response", async () => {
    server.setResponder(() => json(200, { id: "msg_1", type: "message", model: "claude-test" }));
    const error = await expectModelError(() => model().generate(HELLO), "bad-response");
    assert.equal(error.retryable, false);
  });
});

describe("AnthropicModel error mapping", () => {
  test("401 is auth, and the key the server echoes is scrubbed", async () => {
    server.setResponder((request) => anthropicError(401, "authentication_error", `invalid x-api-key: ${sentKey(request)}`));
    const error = await expectModelError(() => model().generate(HELLO), "auth");
    assert.equal(error.status, 401);
    assert.equal(error.retryable, false);
    assert.match(error.hint ?? "", /ANTHROPIC_API_KEY/);
    // The hint names only what exists: keys come from the environment, there is no --api-key flag.
    assert.doesNotMatch(error.hint ?? "", /--api-key/);
    assert.match(error.hint ?? "", /ANTHROPIC_API_KEY.*SPRI_BASE_API_KEY.*SPRI_CRITIC_API_KEY/);
    assertNoSecret(error, KEY);
  });

  test("a key of any shape is scrubbed", async () => {
    const key = "proxytoken_Zq81xPq0w";
    server.setResponder(() => anthropicError(401, "authentication_error", `bad key ${key}`));
    const error = await expectModelError(() => model({ apiKey: key }).generate(HELLO), "auth");
    assertNoSecret(error, key);
  });

  test("403 is auth", async () => {
    server.setResponder(() => anthropicError(403, "permission_error", "no access to this model"));
    await expectModelError(() => model().generate(HELLO), "auth");
  });

  test("404 is not-found with a hint naming the model id", async () => {
    server.setResponder(() => anthropicError(404, "not_found_error", "model: claude-test"));
    const error = await expectModelError(() => model().generate(HELLO), "not-found");
    assert.match(error.hint ?? "", /claude-test/);
  });

  test("429 with Retry-After is a retryable rate-limit carrying the delay", async () => {
    server.setResponder(() =>
      anthropicError(429, "rate_limit_error", "Number of requests has exceeded your rate limit", { "retry-after": "2" }),
    );
    const error = await expectModelError(() => model().generate(HELLO), "rate-limit");
    assert.equal(error.retryAfterSeconds, 2);
    assert.equal(error.retryable, true);
    assert.equal(server.requests.length, 1, "the adapter must not retry on its own");
  });

  test("an empty credit balance is a non-retryable quota error", async () => {
    server.setResponder(() => anthropicError(400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API."));
    const error = await expectModelError(() => model().generate(HELLO), "quota");
    assert.equal(error.retryable, false);
  });

  test("400 is bad-request", async () => {
    server.setResponder(() => anthropicError(400, "invalid_request_error", "max_tokens: must be at least 1"));
    const error = await expectModelError(() => model().generate(HELLO), "bad-request");
    assert.match(error.message, /max_tokens: must be at least 1/);
    assert.ok(!error.message.includes("{"), `raw JSON in message: ${error.message}`);
  });

  test("500 is a retryable server error", async () => {
    server.setResponder(() => anthropicError(500, "api_error", "Internal server error"));
    const error = await expectModelError(() => model().generate(HELLO), "server");
    assert.equal(error.status, 500);
    assert.equal(error.retryable, true);
    assert.equal(server.requests.length, 1);
  });

  test("529 overloaded_error is a retryable server error with a hint", async () => {
    server.setResponder(() => anthropicError(529, "overloaded_error", "Overloaded"));
    const error = await expectModelError(() => model().generate(HELLO), "server");
    assert.equal(error.status, 529);
    assert.equal(error.retryable, true);
    assert.match(error.hint ?? "", /overloaded/i);
  });

  test("an answer over maxResponseBytes fails as a bad-response naming the limit, announced or not", async () => {
    for (const reply of [anthropicText("x".repeat(2 * 1024 * 1024)), streamBody("x".repeat(65_536))]) {
      server.setResponder(() => reply);
      const error = await expectModelError(() => model({ maxResponseBytes: 1024 * 1024 }).generate(HELLO), "bad-response");
      assert.match(error.message, /more than 1 MiB/);
      assert.match(error.hint ?? "", /--max-response-mib/);
    }
    assert.ok(server.streamedBytes < 64 * 1024 * 1024, `read on after the limit: ${server.streamedBytes} bytes`);
  });

  test("a reset connection is a retryable network error", async () => {
    server.setResponder(() => resetConnection());
    const error = await expectModelError(() => model().generate(HELLO), "network");
    assert.equal(error.retryable, true);
  });

  test("a hanging server times out after the constructor's timeoutMs", async () => {
    server.setResponder(() => hang());
    const start = performance.now();
    const error = await expectModelError(() => model({ timeoutMs: 200 }).generate(HELLO), "timeout");
    assert.ok(performance.now() - start < 5_000);
    assert.equal(error.retryable, true);
    assert.equal(server.requests.length, 1, "the adapter must not retry on its own");
  });

  test("a request's own timeoutMs wins over the constructor's", async () => {
    server.setResponder(() => hang());
    const start = performance.now();
    await expectModelError(() => model({ timeoutMs: 60_000 }).generate({ ...HELLO, timeoutMs: 200 }), "timeout");
    assert.ok(performance.now() - start < 5_000);
  });

  test("an already aborted signal is aborted, without a request", async () => {
    const error = await expectModelError(() => model().generate({ ...HELLO, signal: AbortSignal.abort() }), "aborted");
    assert.equal(error.retryable, false);
    assert.equal(server.requests.length, 0);
  });

  test("aborting a call in flight is aborted", async () => {
    server.setResponder(() => hang());
    const controller = new AbortController();
    const pending = model().generate({ ...HELLO, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expectModelError(() => pending, "aborted");
  });

  test("a refused connection is a network error with a hint", async () => {
    const dead = await startFakeModelServer();
    const url = dead.url;
    await dead.close();
    const error = await expectModelError(
      () => new AnthropicModel({ model: "claude-test", apiKey: KEY, baseURL: url }).generate(HELLO),
      "network",
    );
    assert.ok(error.hint, "a refused connection needs a hint");
    assert.equal(error.endpoint, url);
    assertNoSecret(error, KEY);
  });
});
