import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { inspect } from "node:util";
import { ModelError, type ModelErrorKind } from "../base/errors/errors.ts";
import {
  hang,
  json,
  openaiError,
  openaiText,
  raw,
  resetConnection,
  startFakeModelServer,
  streamBody,
  type FakeModelServer,
} from "../test.ts";
import type { GenerateRequest } from "./language-model.ts";
import { HTTP_CLIENTS, type HttpClient, OpenAICompatibleModel, type OpenAICompatibleOptions } from "./openai-compatible.ts";

const KEY = "sk-test-SECRET123456789";
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
  server.setResponder(() => openaiText("ok"));
});

/** Which client the suite below runs over; both must behave the same. */
let httpClient: HttpClient = "undici";

function model(options: Partial<OpenAICompatibleOptions> = {}): OpenAICompatibleModel {
  return new OpenAICompatibleModel({ model: "test-model", baseURL: `${server.url}/v1`, apiKey: KEY, httpClient, ...options });
}

/** Runs `fn`, asserts it rejects with a ModelError of `kind`, and returns the error. */
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

/** The key must not reach anything a user or a log could see, cause chain included. */
function assertNoSecret(error: ModelError, secret: string): void {
  assert.ok(!error.message.includes(secret), `message leaks the key: ${error.message}`);
  assert.ok(!(error.hint ?? "").includes(secret), `hint leaks the key: ${error.hint}`);
  assert.ok(!error.describe().includes(secret), `describe() leaks the key: ${error.describe()}`);
  assert.ok(!inspect(error, { depth: 8 }).includes(secret), "inspect(error) leaks the key");
  assert.ok(!String(error.stack).includes(secret), "stack leaks the key");
}

for (const client of HTTP_CLIENTS) {
  describe(`over ${client}`, () => {
    before(() => {
      httpClient = client;
    });

    describe("OpenAICompatibleModel request mapping", () => {
      test("sends model, messages and every sampling field to a self-hosted server asked for top_k", async () => {
        const m = model({ sendTopK: true });
        await m.generate({
          messages: [
            { role: "system", content: "be brief" },
            { role: "user", content: "hello" },
          ],
          sampling: { temperature: 0.3, topP: 0.9, topK: 40, maxTokens: 128, seed: 7, stop: ["\n\n", "END"] },
        });
        assert.equal(server.requests.length, 1);
        const [request] = server.requests;
        assert.equal(request?.method, "POST");
        assert.equal(request?.path, "/v1/chat/completions");
        assert.equal(request?.headers.authorization, `Bearer ${KEY}`);
        assert.deepEqual(request?.body, {
          model: "test-model",
          messages: [
            { role: "system", content: "be brief" },
            { role: "user", content: "hello" },
          ],
          temperature: 0.3,
          top_p: 0.9,
          top_k: 40,
          max_tokens: 128,
          seed: 7,
          stop: ["\n\n", "END"],
        });
      });

      test("omits unset sampling fields and an empty stop list", async () => {
        await model().generate({ ...HELLO, sampling: { stop: [] } });
        assert.deepEqual(server.requests[0]?.body, { model: "test-model", messages: HELLO.messages });
      });

      // top_k is an extension: vLLM, SGLang and llama.cpp server take it, hosted APIs answer 400.
      test("top_k goes only where it was asked for (sendTopK); otherwise it is refused, not dropped", async () => {
        assert.equal(model().capabilities.sampling?.includes("topK"), false);
        assert.equal(model({ sendTopK: true }).capabilities.sampling?.includes("topK"), true);
        const error = await expectModelError(() => model().generate({ ...HELLO, sampling: { topK: 5 } }), "bad-request");
        assert.match(error.message, /top_k/);
        assert.equal(server.requests.length, 0);
      });

      test("reasoning models (o1, o3, o4, gpt-5) get max_completion_tokens and no sampling they reject", async () => {
        for (const id of ["o1", "o1-mini", "o3", "o3-mini-2025-01-31", "o4-mini", "gpt-5", "gpt-5-mini", "gpt-5.1", "openai/o3"]) {
          server.requests.length = 0;
          const m = model({ model: id, sendTopK: true });
          assert.deepEqual(m.capabilities.sampling, ["maxTokens"], id);
          await m.generate({ ...HELLO, sampling: { maxTokens: 64 } });
          assert.deepEqual(server.requests[0]?.body, { model: id, messages: HELLO.messages, max_completion_tokens: 64 }, id);
          for (const sampling of [{ temperature: 0.7 }, { topP: 0.9 }, { seed: 1 }, { stop: ["END"] }]) {
            const error = await expectModelError(() => m.generate({ ...HELLO, sampling }), "bad-request");
            assert.match(error.message, /reasoning model/, `${id} ${JSON.stringify(sampling)}`);
          }
        }
        for (const id of ["gpt-5-chat-latest", "gpt-5.1-chat-latest", "gpt-4o-mini", "gpt-oss-20b", "olmo-2-7b"]) {
          assert.equal(model({ model: id }).capabilities.sampling?.includes("temperature"), true, id);
        }
      });

      test("sends response_format json_schema only when structuredOutput is on and a schema is requested", async () => {
        const schema = { name: "verdict", schema: { type: "object", properties: { ok: { type: "boolean" } } } };

        await model().generate({ ...HELLO, schema });
        const plain = server.requests[0]?.body as Record<string, unknown>;
        assert.equal("response_format" in plain, false, "self-hosted default must not send response_format");

        const structured = model({ structuredOutput: true });
        assert.equal(structured.capabilities.constrainedOutput, true);
        await structured.generate(HELLO);
        assert.equal("response_format" in (server.requests[1]?.body as Record<string, unknown>), false);

        await structured.generate({ ...HELLO, schema });
        assert.deepEqual((server.requests[2]?.body as Record<string, unknown>).response_format, {
          type: "json_schema",
          json_schema: { name: "verdict", schema: schema.schema, strict: true },
        });
      });

      test("merges extraBody into every request", async () => {
        await model({ extraBody: { repetition_penalty: 1.1 } }).generate(HELLO);
        assert.equal((server.requests[0]?.body as Record<string, unknown>).repetition_penalty, 1.1);
      });

      test("id names endpoint and model, never the key", () => {
        const m = model();
        assert.equal(m.id, `openai-compatible:${server.url}/v1#test-model`);
        assert.equal(m.modelId, "test-model");
        assert.equal(m.capabilities.constrainedOutput, false);
        assert.ok(!m.id.includes(KEY));
      });
    });

    describe("OpenAICompatibleModel response mapping", () => {
      test("maps text, usage, finish reason and reported model", async () => {
        server.setResponder(() =>
          openaiText("the answer", { model: "served-model", finishReason: "length", promptTokens: 12, completionTokens: 34 }),
        );
        const result = await model().generate(HELLO);
        assert.equal(result.text, "the answer");
        assert.equal(result.finishReason, "length");
        assert.deepEqual(result.usage, { inputTokens: 12, outputTokens: 34 });
        assert.equal(result.model, "served-model");
        assert.ok(result.latencyMs >= 0);
      });

      test("maps the other finish reasons", async () => {
        const cases: Array<[string, string]> = [
          ["stop", "stop"],
          ["content_filter", "content-filter"],
          ["tool_calls", "tool-calls"],
          ["something_new", "unknown"],
        ];
        const m = model();
        for (const [wire, mapped] of cases) {
          server.setResponder(() => openaiText("x", { finishReason: wire }));
          assert.equal((await m.generate(HELLO)).finishReason, mapped, wire);
        }
      });

      test("missing usage counts as zero", async () => {
        server.setResponder(() =>
          json(200, {
            id: "x",
            object: "chat.completion",
            model: "m",
            choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
          }),
        );
        assert.deepEqual((await model().generate(HELLO)).usage, { inputTokens: 0, outputTokens: 0 });
      });

      test("a body without choices is a bad-response", async () => {
        server.setResponder(() => json(200, { id: "x", object: "chat.completion", model: "m" }));
        const error = await expectModelError(() => model().generate(HELLO), "bad-response");
        assert.equal(error.retryable, false);
      });

      test("a choice without string content is a bad-response", async () => {
        server.setResponder(() =>
          json(200, { id: "x", model: "m", choices: [{ index: 0, message: { role: "assistant", content: null }, finish_reason: "stop" }] }),
        );
        await expectModelError(() => model().generate(HELLO), "bad-response");
      });
    });

    describe("OpenAICompatibleModel error mapping", () => {
      test("401 is auth, and the key the server echoes is scrubbed", async () => {
        server.setResponder((request) =>
          openaiError(401, `Incorrect API key provided: ${String(request.headers.authorization).replace("Bearer ", "")}`, {
            code: "invalid_api_key",
          }),
        );
        const error = await expectModelError(() => model().generate(HELLO), "auth");
        assert.equal(error.status, 401);
        assert.equal(error.retryable, false);
        assert.match(error.hint ?? "", /API key/);
        // The hint names only what exists: keys come from the environment, there is no --api-key flag.
        assert.doesNotMatch(error.hint ?? "", /--api-key/);
        assert.match(error.hint ?? "", /OPENAI_API_KEY.*SPRI_BASE_API_KEY.*SPRI_CRITIC_API_KEY/);
        assertNoSecret(error, KEY);
      });

      test("a key of any shape is scrubbed, not only sk-… keys", async () => {
        const key = "localtoken_Zq81xPq0w";
        server.setResponder((request) => openaiError(401, `bad token ${String(request.headers.authorization)} / ${key}`));
        const error = await expectModelError(() => model({ apiKey: key }).generate(HELLO), "auth");
        assertNoSecret(error, key);
      });

      test("403 is auth", async () => {
        server.setResponder(() => openaiError(403, "you may not use this model", { type: "permission_error" }));
        const error = await expectModelError(() => model().generate(HELLO), "auth");
        assert.equal(error.status, 403);
      });

      test("404 is not-found with a hint naming the model id", async () => {
        server.setResponder(() => openaiError(404, "The model `test-model` does not exist", { code: "model_not_found" }));
        const error = await expectModelError(() => model().generate(HELLO), "not-found");
        assert.match(error.hint ?? "", /test-model/);
        assert.equal(error.retryable, false);
      });

      test("429 with Retry-After is a retryable rate-limit carrying the delay", async () => {
        server.setResponder(() =>
          openaiError(429, "Rate limit reached", { type: "requests", code: "rate_limit_exceeded", headers: { "retry-after": "2" } }),
        );
        const error = await expectModelError(() => model().generate(HELLO), "rate-limit");
        assert.equal(error.retryAfterSeconds, 2);
        assert.equal(error.retryable, true);
        assert.equal(server.requests.length, 1, "the adapter must not retry on its own");
      });

      test("429 insufficient_quota is a non-retryable quota error", async () => {
        server.setResponder(() =>
          openaiError(429, "You exceeded your current quota, please check your plan and billing details.", {
            type: "insufficient_quota",
            code: "insufficient_quota",
          }),
        );
        const error = await expectModelError(() => model().generate(HELLO), "quota");
        assert.equal(error.retryable, false);
      });

      test("402 is quota and 408 a retryable timeout, as in every adapter's table (error-kinds.ts)", async () => {
        server.setResponder(() => openaiError(402, "payment required"));
        assert.equal((await expectModelError(() => model().generate(HELLO), "quota")).retryable, false);
        server.setResponder(() => openaiError(408, "request timeout"));
        assert.equal((await expectModelError(() => model().generate(HELLO), "timeout")).retryable, true);
      });

      test("400 is bad-request", async () => {
        server.setResponder(() => openaiError(400, "top_k is not supported"));
        await expectModelError(() => model().generate(HELLO), "bad-request");
      });

      test("500 is a retryable server error", async () => {
        server.setResponder(() => openaiError(500, "internal error", { type: "server_error" }));
        const error = await expectModelError(() => model().generate(HELLO), "server");
        assert.equal(error.status, 500);
        assert.equal(error.retryable, true);
        assert.equal(server.requests.length, 1);
      });

      test("an answer over maxResponseBytes fails as a bad-response naming the limit, announced or not", async () => {
        for (const reply of [openaiText("x".repeat(2 * 1024 * 1024)), streamBody("x".repeat(65_536))]) {
          server.setResponder(() => reply);
          const error = await expectModelError(() => model({ maxResponseBytes: 1024 * 1024 }).generate(HELLO), "bad-response");
          assert.match(error.message, /more than 1 MiB/);
          assert.match(error.hint ?? "", /--max-response-mib/);
        }
        assert.ok(server.streamedBytes < 64 * 1024 * 1024, `read on after the limit: ${server.streamedBytes} bytes`);
      });

      test("credentials in the base URL go as Basic auth and never into the id, the trace or a message", async () => {
        const secret = "SECRETPW123456";
        const withCredentials = `${server.url.replace("http://", "http://alice:" + secret + "@")}/v1`;
        const m = model({ baseURL: withCredentials, apiKey: undefined });
        assert.ok(!m.id.includes(secret), m.id);
        await m.generate(HELLO);
        assert.equal(server.requests[0]?.path, "/v1/chat/completions");
        assert.equal(server.requests[0]?.headers.authorization, `Basic ${Buffer.from(`alice:${secret}`).toString("base64")}`);
        server.setResponder(() => json(404, { error: { message: `no model at ${withCredentials}` } }));
        assertNoSecret(await expectModelError(() => m.generate(HELLO), "not-found"), secret);
        const closed = await startFakeModelServer();
        await closed.close();
        const unreachable = model({ baseURL: `http://alice:${secret}@127.0.0.1:${closed.port}/v1`, apiKey: undefined });
        assertNoSecret(await expectModelError(() => unreachable.generate(HELLO), "network"), secret);
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
        const url = `${dead.url}/v1`;
        await dead.close();
        const error = await expectModelError(
          () => new OpenAICompatibleModel({ model: "test-model", baseURL: url, apiKey: KEY, httpClient }).generate(HELLO),
          "network",
        );
        assert.ok(error.hint, "a refused connection needs a hint");
        assert.equal(error.endpoint, url);
        assertNoSecret(error, KEY);
      });
    });
  });
}

test("api.openai.com gets max_completion_tokens and never top_k", () => {
  const official = new OpenAICompatibleModel({ model: "gpt-4o-mini", apiKey: KEY, sendTopK: true });
  assert.equal(official.capabilities.sampling?.includes("topK"), false);
  assert.deepEqual(official.requestBody({ ...HELLO, sampling: { temperature: 0.7, maxTokens: 32 } }), {
    model: "gpt-4o-mini",
    messages: HELLO.messages,
    temperature: 0.7,
    max_completion_tokens: 32,
  });
  assert.throws(() => official.requestBody({ ...HELLO, sampling: { topK: 50 } }), /top_k/);
});

test("requestText is requestBody as JSON byte for byte, whatever the extra body holds", () => {
  const request: GenerateRequest = {
    messages: [
      { role: "system", content: "be brief" },
      { role: "user", content: 'say "hi"\n' },
    ],
    sampling: { temperature: 0.3, topK: 40, maxTokens: 16, stop: ["END"] },
  };
  const extras: (Record<string, unknown> | undefined)[] = [
    undefined,
    { repetition_penalty: 1.1 },
    { model: undefined },
    { model: "other" },
    { messages: [{ role: "user", content: "override" }] },
    { temperature: 1 },
  ];
  for (const extraBody of extras) {
    const m = new OpenAICompatibleModel({ model: "test-model", baseURL: "http://127.0.0.1:9/v1", extraBody, sendTopK: true });
    assert.equal(m.requestText(request), JSON.stringify(m.requestBody(request)), JSON.stringify(extraBody));
  }
});

test("requestText stays requestBody as JSON when calls share a sampling object, with and without a schema", () => {
  // The body's tail is remembered per sampling object; a schema sent with it must still change the body.
  const sampling = { temperature: 0.3, maxTokens: 16 };
  const schema = { name: "score", schema: { type: "object", properties: { score: { type: "integer" } } } };
  const m = new OpenAICompatibleModel({ model: "test-model", baseURL: "http://127.0.0.1:9/v1", structuredOutput: true });
  assert.equal(m.capabilities.constrainedOutput, true);
  const requests: GenerateRequest[] = [
    { messages: [{ role: "user", content: "one" }], sampling },
    { messages: [{ role: "user", content: "two" }], sampling, schema },
    { messages: [{ role: "user", content: "three" }], sampling },
    { messages: [{ role: "user", content: "four" }], sampling: { ...sampling, temperature: 0.9 } },
  ];
  for (const request of requests) assert.equal(m.requestText(request), JSON.stringify(m.requestBody(request)));
  assert.match(m.requestText(requests[1]!), /"response_format"/);
  assert.doesNotMatch(m.requestText(requests[2]!), /"response_format"/);
  assert.match(m.requestText(requests[3]!), /"temperature":0.9/);
});

describe("OpenAICompatibleModel over undici: what servers other than OpenAI send", () => {
  before(() => {
    httpClient = "undici";
  });

  test("no API key: no authorization header at all", async () => {
    await model({ apiKey: undefined }).generate(HELLO);
    assert.equal(server.requests[0]?.headers.authorization, undefined);
  });

  test("an Ollama-style error body ({error: string}) gives its text", async () => {
    server.setResponder(() => json(404, { error: "model 'test-model' not found, try pulling it first" }));
    const error = await expectModelError(() => model().generate(HELLO), "not-found");
    assert.match(error.message, /try pulling it first/);
  });

  test("a vLLM-style error body ({message}) gives its text", async () => {
    server.setResponder(() => json(400, { object: "error", message: "max_tokens is too large", type: "BadRequestError", code: 400 }));
    const error = await expectModelError(() => model().generate(HELLO), "bad-request");
    assert.match(error.message, /max_tokens is too large/);
  });

  test("a proxy's plain-text 502 is a retryable server error quoting the text", async () => {
    server.setResponder(() => raw(502, "Bad Gateway: upstream closed"));
    const error = await expectModelError(() => model().generate(HELLO), "server");
    assert.equal(error.status, 502);
    assert.match(error.message, /upstream closed/);
  });

  test("a 200 whose body is not JSON is a bad-response naming the base URL", async () => {
    server.setResponder(() => raw(200, "<html>login page</html>", "text/html"));
    const error = await expectModelError(() => model().generate(HELLO), "bad-response");
    assert.match(error.hint ?? "", /base URL/);
  });

  test("a key the server echoes in a plain-text error is scrubbed", async () => {
    server.setResponder((request) => raw(401, `denied for ${String(request.headers.authorization)}`));
    const error = await expectModelError(() => model().generate(HELLO), "auth");
    assertNoSecret(error, KEY);
  });
});
