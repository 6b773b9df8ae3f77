/**
 * Fault injection end to end: a real local HTTP server misbehaves, the real OpenAI-compatible
 * adapter turns that into ModelErrors, and ResilientModel survives (or stops) as it should.
 * Retry waits run on virtual time (the policy's sleep moves the limiter's clock), so a
 * `Retry-After: 1` is honoured without the test waiting a second; only the per-call timeout runs on
 * real time (a short one).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { ModelError } from "../../src/base/errors/errors.ts";
import type { GenerateRequest } from "../../src/models/language-model.ts";
import { OpenAICompatibleModel } from "../../src/models/openai-compatible.ts";
import { AdaptiveRateLimiter, type LimiterClock } from "../../src/runtime/runner/rate-limiter.ts";
import { ResilientModel, makeResilient } from "../../src/runtime/runner/resilient-model.ts";
import { RetriesExhaustedError, RetryPolicy } from "../../src/runtime/runner/retry.ts";
import {
  type Responder,
  type FakeReply,
  hang,
  openaiError,
  openaiText,
  resetConnection,
  startFakeModelServer,
  type FakeModelServer,
} from "../../src/test.ts";

const HELLO: GenerateRequest = { messages: [{ role: "user", content: "hello" }] };

/** Virtual time shared by the limiter and the retry sleeps. */
class VirtualTime implements LimiterClock {
  time = 0;
  readonly sleeps: number[] = [];
  private timers: { at: number; fn: () => void }[] = [];

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.time += ms;
    for (const timer of this.timers.filter((t) => t.at <= this.time)) {
      this.timers = this.timers.filter((t) => t !== timer);
      timer.fn();
    }
  };
}

/** Plays `first` for the first `n` requests, then `then`. */
function firstN(n: number, first: () => FakeReply, then: () => FakeReply): Responder {
  let seen = 0;
  return () => (seen++ < n ? first() : then());
}

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

function resilient(options: { maxAttempts?: number; timeoutMs?: number; maxConcurrency?: number } = {}) {
  const time = new VirtualTime();
  const inner = new OpenAICompatibleModel({ model: "test-model", baseURL: `${server.url}/v1`, apiKey: "sk-test-0123456789abcdef" });
  const limiter = new AdaptiveRateLimiter({ maxConcurrency: options.maxConcurrency ?? 4, clock: time });
  const retry = new RetryPolicy({ baseDelayMs: 5, maxAttempts: options.maxAttempts ?? 6, random: () => 1, sleep: time.sleep });
  const model = new ResilientModel(inner, { limiter, retry, timeoutMs: options.timeoutMs ?? 5000 });
  return { time, limiter, model };
}

async function rejection(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ModelError, `expected a ModelError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a rejection");
}

describe("ResilientModel against a misbehaving server", () => {
  test("429 with Retry-After: 1 three times, then an answer: waits the second each time and backs off", async () => {
    server.setResponder(
      firstN(
        3,
        () =>
          openaiError(429, "Rate limit reached for requests", {
            type: "requests",
            code: "rate_limit_exceeded",
            headers: { "retry-after": "1" },
          }),
        () => openaiText("made it"),
      ),
    );
    const { time, limiter, model } = resilient();
    const result = await model.generate(HELLO);
    assert.equal(result.text, "made it");
    assert.equal(server.requests.length, 4);
    assert.deepEqual(time.sleeps, [1000, 1000, 1000]);
    assert.equal(limiter.stats.rateLimited, 3);
    assert.equal(limiter.stats.limit, 1);
    assert.equal(model.stats.retries, 3);
  });

  test("500s, then an answer", async () => {
    server.setResponder(
      firstN(
        2,
        () => openaiError(500, "The server had an error", { type: "server_error" }),
        () => openaiText("recovered"),
      ),
    );
    const { time, model } = resilient();
    assert.equal((await model.generate(HELLO)).text, "recovered");
    assert.equal(server.requests.length, 3);
    assert.deepEqual(time.sleeps, [5, 10]);
  });

  test("connection resets, then an answer", async () => {
    server.setResponder(firstN(2, resetConnection, () => openaiText("reconnected")));
    const { model } = resilient();
    assert.equal((await model.generate(HELLO)).text, "reconnected");
    assert.equal(server.requests.length, 3);
  });

  test("a hang past the per-call timeout, then an answer", async () => {
    server.setResponder(firstN(1, hang, () => openaiText("awake")));
    const { model } = resilient({ timeoutMs: 150 });
    assert.equal((await model.generate(HELLO)).text, "awake");
    assert.equal(server.requests.length, 2);
    assert.equal(model.stats.retries, 1);
  });

  test("a 429 insufficient_quota fails at once, without a retry", async () => {
    server.setResponder(() =>
      openaiError(429, "You exceeded your current quota, please check your plan and billing details.", {
        type: "insufficient_quota",
        code: "insufficient_quota",
      }),
    );
    const { time, limiter, model } = resilient();
    const error = await rejection(model.generate(HELLO));
    assert.equal(error.kind, "quota");
    assert.equal(error.status, 429);
    assert.equal(server.requests.length, 1);
    assert.deepEqual(time.sleeps, []);
    assert.equal(limiter.stats.rateLimited, 0);
  });

  test("a server that keeps failing: gives up after maxAttempts, saying so", async () => {
    server.setResponder(() => openaiError(503, "overloaded", { type: "server_error" }));
    const { model } = resilient({ maxAttempts: 3 });
    const error = await rejection(model.generate(HELLO));
    assert.ok(error instanceof RetriesExhaustedError);
    assert.equal(error.kind, "server");
    assert.equal(error.status, 503);
    assert.match(error.message, /gave up after 3 tries/);
    assert.equal(server.requests.length, 3);
  });

  test("a caller's abort during a hang stops the call and sends nothing more", async () => {
    server.setResponder(hang);
    const { model } = resilient();
    const controller = new AbortController();
    const call = model.generate({ ...HELLO, signal: controller.signal });
    while (server.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    assert.equal((await rejection(call)).kind, "aborted");
    assert.equal(server.requests.length, 1);
  });

  test("base and critic on the same server share one limit: the server never sees more at once", async () => {
    let open = 0;
    let peak = 0;
    server.setResponder(async () => {
      peak = Math.max(peak, ++open);
      await new Promise((resolve) => setTimeout(resolve, 5));
      open--;
      return openaiText("ok");
    });
    const make = () => new OpenAICompatibleModel({ model: "test-model", baseURL: `${server.url}/v1` });
    const { base, critic } = makeResilient({ base: make(), critic: make() }, { maxConcurrency: 2, retry: { maxAttempts: 1 } });
    assert.equal(base.limiter, critic.limiter);
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? base : critic).generate(HELLO)));
    assert.equal(server.requests.length, 12);
    assert.equal(peak, 2);
  });
});
