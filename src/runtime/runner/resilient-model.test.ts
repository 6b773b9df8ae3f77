import assert from "node:assert/strict";
import { stat } from "node:fs";
import { describe, test } from "node:test";
import { ModelError, type ModelErrorKind } from "../../base/errors/errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../../models/language-model.ts";
import { AdaptiveRateLimiter, type LimiterClock, RateLimiterRegistry } from "./rate-limiter.ts";
import { ResilientModel, makeResilient } from "./resilient-model.ts";
import { RetriesExhaustedError, RetryPolicy } from "./retry.ts";

const HELLO: GenerateRequest = { messages: [{ role: "user", content: "hello" }] };

type Step = string | ModelError | (() => Promise<string>);

/** A fake inner model that plays a script of answers and failures (the last step repeats). */
class FakeModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities = { constrainedOutput: true };
  readonly requests: GenerateRequest[] = [];
  inFlight = 0;
  peak = 0;
  closed = 0;
  private readonly steps: Step[];
  private readonly shared?: { inFlight: number; peak: number };

  constructor(steps: Step[], options: { id?: string; shared?: { inFlight: number; peak: number } } = {}) {
    this.steps = steps;
    this.modelId = "fake-model";
    this.id = options.id ?? "fake#fake-model";
    this.shared = options.shared;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const step = this.steps[Math.min(this.requests.length, this.steps.length - 1)]!;
    this.requests.push(request);
    this.inFlight++;
    this.peak = Math.max(this.peak, this.inFlight);
    if (this.shared) this.shared.peak = Math.max(this.shared.peak, ++this.shared.inFlight);
    try {
      await new Promise((resolve) => setImmediate(resolve));
      if (step instanceof ModelError) throw step;
      const text = typeof step === "function" ? await step() : step;
      return { text, finishReason: "stop", usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 1, model: this.modelId };
    } finally {
      this.inFlight--;
      if (this.shared) this.shared.inFlight--;
    }
  }

  async close(): Promise<void> {
    this.closed++;
  }
}

function fail(kind: ModelErrorKind, retryAfterSeconds?: number): ModelError {
  return new ModelError(`fake ${kind}`, { kind, retryAfterSeconds });
}

/** Virtual time shared by the limiter and the retry sleeps: a sleep moves the clock. */
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

function setup(steps: Step[], options: { maxConcurrency?: number; maxAttempts?: number; timeoutMs?: number } = {}) {
  const time = new VirtualTime();
  const inner = new FakeModel(steps);
  const limiter = new AdaptiveRateLimiter({ maxConcurrency: options.maxConcurrency ?? 4, clock: time });
  const retry = new RetryPolicy({ baseDelayMs: 10, maxAttempts: options.maxAttempts ?? 6, random: () => 1, sleep: time.sleep });
  const model = new ResilientModel(inner, { limiter, retry, timeoutMs: options.timeoutMs });
  return { time, inner, limiter, model };
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

describe("ResilientModel retries", () => {
  test("keeps the inner model's identity", () => {
    const { inner, model } = setup(["ok"]);
    assert.equal(model.id, inner.id);
    assert.equal(model.modelId, "fake-model");
    assert.deepEqual(model.capabilities, { constrainedOutput: true });
  });

  test("retries 429s honouring Retry-After, backs the limiter off, and answers", async () => {
    const { time, inner, limiter, model } = setup([fail("rate-limit", 1), fail("rate-limit", 1), "answer"]);
    const result = await model.generate(HELLO);
    assert.equal(result.text, "answer");
    assert.equal(inner.requests.length, 3);
    assert.deepEqual(time.sleeps, [1000, 1000]);
    assert.equal(limiter.stats.rateLimited, 2);
    assert.equal(limiter.stats.limit, 1);
    assert.deepEqual(
      { ...model.stats, limiter: undefined },
      { calls: 1, succeeded: 1, failed: 0, attempts: 3, retries: 2, limiter: undefined },
    );
  });

  test("retries server errors, timeouts and network failures with exponential backoff", async () => {
    const { time, inner, limiter, model } = setup([fail("server"), fail("timeout"), fail("network"), "fine"]);
    assert.equal((await model.generate(HELLO)).text, "fine");
    assert.equal(inner.requests.length, 4);
    assert.deepEqual(time.sleeps, [10, 20, 40]);
    assert.equal(limiter.stats.limit, 4, "only 429s shrink the limit");
  });

  test("gives up after maxAttempts with the count and the last kind", async () => {
    const { inner, model } = setup([fail("server")], { maxAttempts: 4 });
    const error = await rejection(model.generate(HELLO));
    assert.ok(error instanceof RetriesExhaustedError);
    assert.equal(error.attempts, 4);
    assert.equal(error.kind, "server");
    assert.match(error.message, /gave up after 4 tries/);
    assert.equal(inner.requests.length, 4);
    assert.equal(model.stats.failed, 1);
    assert.equal(model.stats.retries, 3);
  });

  test("a quota error fails at once: no retry, no back-off", async () => {
    const { time, inner, limiter, model } = setup([fail("quota"), "never"]);
    const error = await rejection(model.generate(HELLO));
    assert.equal(error.kind, "quota");
    assert.equal(inner.requests.length, 1);
    assert.deepEqual(time.sleeps, []);
    assert.equal(limiter.stats.rateLimited, 0);
    assert.equal(limiter.stats.limit, 4);
    assert.equal(limiter.stats.inFlight, 0, "the slot was released");
  });

  test("hands the per-call timeout to the inner model; a smaller request timeout wins", async () => {
    const { inner, model } = setup(["a"], { timeoutMs: 5000 });
    await model.generate(HELLO);
    await model.generate({ ...HELLO, timeoutMs: 800 });
    await model.generate({ ...HELLO, timeoutMs: 9000 });
    assert.deepEqual(
      inner.requests.map((r) => r.timeoutMs),
      [5000, 800, 5000],
    );
    assert.equal(inner.requests[0]!.messages, HELLO.messages);
  });
});

describe("ResilientModel and the event loop", () => {
  test("an answer read in an I/O callback frees its slot there, and its caller resumes after the check phase", async () => {
    const order: string[] = [];
    // The second call waits for the only slot; the first answers from an I/O callback (as a socket read would).
    const { model, inner } = setup(
      [
        () =>
          new Promise<string>((resolve) =>
            stat(".", () => {
              setImmediate(() => order.push(`check phase, ${inner.requests.length} calls handed to the model`));
              resolve("first");
            }),
          ),
        "second",
      ],
      { maxConcurrency: 1 },
    );
    const first = model.generate(HELLO).then(() => order.push("first caller resumed"));
    await Promise.all([first, model.generate(HELLO)]);
    // Without the wait, the first caller's follow-up work ran inside the I/O callback, ahead of the check phase.
    assert.deepEqual(order, ["check phase, 2 calls handed to the model", "first caller resumed"]);
  });
});

describe("ResilientModel and abort signals", () => {
  test("an abort while sleeping between tries stops at once with kind aborted", async () => {
    const inner = new FakeModel([fail("server"), "never"]);
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 2 });
    const controller = new AbortController();
    const model = new ResilientModel(inner, {
      limiter,
      retry: new RetryPolicy({ baseDelayMs: 60_000, random: () => 1 }),
      onRetry: () => setImmediate(() => controller.abort()),
    });
    const error = await rejection(model.generate({ ...HELLO, signal: controller.signal }));
    assert.equal(error.kind, "aborted");
    assert.equal(inner.requests.length, 1);
    assert.equal(limiter.stats.inFlight, 0);
  });

  test("an abort while waiting for a slot stops it without calling the inner model", async () => {
    let unblock!: () => void;
    const blocker = new Promise<string>((resolve) => (unblock = () => resolve("first")));
    const inner = new FakeModel([() => blocker, "second"]);
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 1 });
    const model = new ResilientModel(inner, { limiter, retry: { maxAttempts: 1 } });
    const first = model.generate(HELLO);
    await new Promise((resolve) => setImmediate(resolve));
    const controller = new AbortController();
    const second = model.generate({ ...HELLO, signal: controller.signal });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(limiter.stats.waiting, 1);
    controller.abort();
    assert.equal((await rejection(second)).kind, "aborted");
    unblock();
    assert.equal((await first).text, "first");
    assert.equal(inner.requests.length, 1);
    assert.equal(model.stats.attempts, 1);
  });
});

describe("ResilientModel: was anything sent?", () => {
  test("a call cancelled while it waits for a slot sent nothing (unsent), unless an earlier try of it went out", async () => {
    let unblock!: () => void;
    const blocker = new Promise<string>((resolve) => (unblock = () => resolve("b")));
    let slotTaken!: () => void;
    const taken = new Promise<void>((resolve) => (slotTaken = resolve));
    // A's first try fails; while A sleeps before its retry, B takes the only slot and holds it.
    const inner = new FakeModel([fail("server"), () => (slotTaken(), blocker)]);
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 1 });
    let b: Promise<GenerateResult> | undefined;
    const model = new ResilientModel(inner, {
      limiter,
      retry: new RetryPolicy({ baseDelayMs: 1, random: () => 1, sleep: () => taken }),
      onRetry: () => void (b = model.generate(HELLO)),
    });
    const tried = new AbortController();
    const a = model.generate({ ...HELLO, signal: tried.signal });
    const never = new AbortController();
    await taken;
    const c = model.generate({ ...HELLO, signal: never.signal });
    while (limiter.stats.waiting < 2) await new Promise((resolve) => setImmediate(resolve));
    tried.abort();
    never.abort();
    const [errorA, errorC] = [await rejection(a), await rejection(c)];
    assert.deepEqual([errorA.kind, errorA.unsent], ["aborted", false], "A's first try went out");
    assert.deepEqual([errorC.kind, errorC.unsent], ["aborted", true], "C never got a slot");
    unblock();
    assert.equal((await b!).text, "b");
    assert.equal(inner.requests.length, 2);
  });
});

describe("makeResilient", () => {
  test("base and critic on one endpoint share a limiter: together they never exceed it", async () => {
    const shared = { inFlight: 0, peak: 0 };
    const slow = () => new Promise<string>((resolve) => setTimeout(() => resolve("ok"), 2));
    const base = new FakeModel([slow], { id: "same-endpoint#m", shared });
    const critic = new FakeModel([slow], { id: "same-endpoint#m", shared });
    const models = makeResilient({ base, critic }, { maxConcurrency: 2, timeoutMs: 1000 });
    assert.equal(models.base.limiter, models.critic.limiter);
    assert.notEqual(models.base, models.critic);
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? models.base : models.critic).generate(HELLO));
    await Promise.all(calls);
    assert.equal(shared.peak, 2);
    assert.equal(models.base.limiter.stats.peakInFlight, 2);
    assert.equal(base.requests[0]!.timeoutMs, 1000);
  });

  test("different endpoints get separate limiters; one model given twice gets one wrapper", async () => {
    const a = new FakeModel(["a"], { id: "endpoint-a#m" });
    const b = new FakeModel(["b"], { id: "endpoint-b#m" });
    const registry = new RateLimiterRegistry({ maxConcurrency: 3 });
    const pair = makeResilient({ base: a, critic: b }, { maxConcurrency: 3, registry });
    assert.notEqual(pair.base.limiter, pair.critic.limiter);
    assert.equal(registry.get("endpoint-a"), pair.base.limiter);
    // Two models on one endpoint share its limit: the server counts their requests together.
    const c = new FakeModel(["c"], { id: "endpoint-a#critic" });
    const shared = makeResilient({ base: a, critic: c }, { maxConcurrency: 3 });
    assert.equal(shared.base.limiter, shared.critic.limiter);

    const same = makeResilient({ base: a, critic: a }, { maxConcurrency: 3 });
    assert.equal(same.base, same.critic);
    await same.base.close();
    assert.equal(a.closed, 1);
  });
});
