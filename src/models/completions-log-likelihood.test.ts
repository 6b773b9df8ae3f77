import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type FakeModelServer, json, openaiEchoLogprobs, startFakeModelServer } from "../test.ts";
import { ModelError } from "../base/errors/errors.ts";
import { readCompletionsLogLikelihood } from "./completions-log-likelihood.ts";
import { callLogLikelihood } from "./language-model.ts";
import { OpenAICompatibleModel } from "./openai-compatible.ts";
import { ScriptedModel } from "./scripted-model.ts";

const KEY = "sk-test-SECRET123456789";
/** Known log-probabilities per word token; any other token gets -5. */
const TABLE: Record<string, number> = { " Paris": -0.25, " is": -0.5, " Lyon": -2, " Rome": -3.5, " ": -7 };
const logprobOf = (token: string) => TABLE[token] ?? -5;

let server: FakeModelServer;
before(async () => {
  server = await startFakeModelServer((request) => openaiEchoLogprobs(request.body, logprobOf));
});
after(async () => {
  await server.close();
});

test("logLikelihood posts one echo request per context and sums each continuation's tokens, context left out", async () => {
  const model = new OpenAICompatibleModel({ model: "m", baseURL: `${server.url}/v1`, apiKey: KEY });
  assert.equal(model.capabilities.logLikelihood, true);
  const context = "Q: Capital of France?\nA:";
  const result = await model.logLikelihood({ context, continuations: [" Paris is", " Lyon", " Rome Rome", " "] });
  // Hand computation from TABLE: " Paris" + " is"; " Lyon"; " Rome" twice; the lone space.
  assert.deepEqual(result.logprobs, [-0.75, -2, -7, -7]);
  assert.deepEqual(result.tokens, [2, 1, 2, 1]);
  const request = server.requests.at(-1)!;
  assert.equal(request.path, "/v1/completions");
  assert.deepEqual(request.body, {
    model: "m",
    prompt: [`${context} Paris is`, `${context} Lyon`, `${context} Rome Rome`, `${context} `],
    echo: true,
    logprobs: 1,
    max_tokens: 0,
  });
  assert.equal(request.headers.authorization, `Bearer ${KEY}`);
  assert.equal(result.usage.outputTokens, 0);
});

test("choices are matched by index, offsets count code points, and a straddling token belongs to the continuation", () => {
  const context = "Emoji 😀 first:";
  const choice = (index: number, tokens: [number, number | null][]) => ({
    index,
    logprobs: { token_logprobs: tokens.map((t) => t[1]), text_offset: tokens.map((t) => t[0]) },
  });
  // The context has 14 code points (15 UTF-16 units); the continuation starts at offset 14.
  const answer = {
    choices: [
      choice(1, [
        [0, null],
        [12, -1],
        [14, -0.5],
        [17, -0.25],
        // A token the server generated after the prompt (at code point 19) is no part of the continuation.
        [19, -9],
      ]),
      // A token from 13 to 16 straddles the context's end: it is the continuation's first token.
      choice(0, [
        [0, null],
        [13, -4],
        [16, -1],
      ]),
    ],
  };
  const scores = readCompletionsLogLikelihood(answer, context, [" abcd", " xyzw"], "model m");
  assert.deepEqual(scores, [
    { logprob: -5, tokens: 2 },
    { logprob: -0.75, tokens: 2 },
  ]);
});

test("answers without echoed log-probabilities, or with a null inside a continuation, are bad responses", () => {
  const read = (answer: unknown) => () => readCompletionsLogLikelihood(answer as never, "ctx", [" a"], "model m");
  assert.throws(
    read({ choices: [] }),
    (e: unknown) => e instanceof ModelError && e.kind === "bad-response" && /0 choices for 1/.test(e.message),
  );
  assert.throws(read({ choices: [{ index: 0, text: "ctx a", logprobs: null }] }), /was echo honoured/);
  assert.throws(
    read({ choices: [{ index: 0, logprobs: { token_logprobs: [null, null], text_offset: [0, 3] } }] }),
    /no log-probability for token 1 of choice 0 \(null\)/,
  );
  // With an empty context the first token, whose log-probability is null, is the continuation's.
  assert.throws(
    () => readCompletionsLogLikelihood({ choices: [{ index: 0, logprobs: { token_logprobs: [null], text_offset: [0] } }] }, "", ["a"], "m"),
    /no log-probability for token 0/,
  );
});

test("a server that refuses echo fails the call as the chat path fails it; a model without the capability says so", async () => {
  server.setResponder(() => json(400, { error: { message: "echo is not supported", code: null } }));
  try {
    const model = new OpenAICompatibleModel({ model: "m", baseURL: `${server.url}/v1`, apiKey: KEY });
    await assert.rejects(model.logLikelihood({ context: "c", continuations: [" x"] }), (e: unknown) => {
      return e instanceof ModelError && e.kind === "bad-request" && /echo is not supported/.test(e.message) && !e.message.includes(KEY);
    });
  } finally {
    server.setResponder((request) => openaiEchoLogprobs(request.body, logprobOf));
  }
  const scripted = new ScriptedModel();
  await assert.rejects(
    callLogLikelihood(scripted, { context: "c", continuations: [" x"] }),
    (e: unknown) => e instanceof ModelError && /cannot score text by log-likelihood/.test(e.message) && /vLLM/.test(e.hint ?? ""),
  );
});
