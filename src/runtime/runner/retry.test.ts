import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ModelError, type ModelErrorKind } from "../../base/errors/errors.ts";
import { RetriesExhaustedError, RetryPolicy, abortableSleep, type RetryEvent, type RetryOptions } from "./retry.ts";

function failure(kind: ModelErrorKind, retryAfterSeconds?: number): ModelError {
  return new ModelError(`boom (${kind})`, {
    kind,
    status: kind === "server" ? 503 : undefined,
    retryAfterSeconds,
    hint: `hint for ${kind}`,
  });
}

/** A policy whose sleeps are recorded and return at once. */
function recordingPolicy(options: RetryOptions = {}): { policy: RetryPolicy; delays: number[] } {
  const delays: number[] = [];
  const policy = new RetryPolicy({
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 1,
    ...options,
    sleep: async (ms) => void delays.push(ms),
  });
  return { policy, delays };
}

/** A function that throws the scripted errors in turn, then returns "ok". */
function scripted(errors: unknown[]): { fn: (attempt: number) => Promise<string>; attempts: number[] } {
  const attempts: number[] = [];
  return {
    attempts,
    fn: async (attempt) => {
      attempts.push(attempt);
      const error = errors[attempts.length - 1];
      if (error !== undefined) throw error;
      return "ok";
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

describe("RetryPolicy backoff", () => {
  test("grows exponentially up to the cap (random = 1 shows the ceiling)", async () => {
    const { policy, delays } = recordingPolicy({ maxAttempts: 7 });
    const { fn, attempts } = scripted(Array.from({ length: 6 }, () => failure("server")));
    assert.equal(await policy.run(fn), "ok");
    assert.deepEqual(attempts, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  });

  test("honours Retry-After: waits at least that long, longer when the backoff is longer", async () => {
    const { policy, delays } = recordingPolicy({ random: () => 0.5 });
    const { fn } = scripted([failure("rate-limit", 2), failure("rate-limit"), failure("rate-limit", 0.05), failure("timeout")]);
    assert.equal(await policy.run(fn), "ok");
    // 2 s beats 0.5*100; no header: 0.5*200; 50 ms loses to 0.5*400; then 0.5*800.
    assert.deepEqual(delays, [2000, 100, 200, 400]);
  });

  test("full jitter: every delay lies in [0, ceiling] and random() picks the point", () => {
    const values = [0, 0.25, 0.999, Math.random(), Math.random(), Math.random()];
    for (const value of values) {
      const policy = new RetryPolicy({ baseDelayMs: 1000, factor: 2, maxDelayMs: 60_000, random: () => value });
      for (let retry = 1; retry <= 10; retry++) {
        const ceiling = Math.min(60_000, 1000 * 2 ** (retry - 1));
        assert.equal(policy.backoffCeilingMs(retry), ceiling);
        const delay = policy.delayMs(retry, failure("server"));
        assert.ok(delay >= 0 && delay <= ceiling, `retry ${retry}: ${delay} outside [0, ${ceiling}]`);
        assert.equal(delay, value * ceiling);
      }
    }
    // A broken random source cannot produce negative or huge waits.
    assert.equal(new RetryPolicy({ random: () => -3 }).delayMs(1), 0);
    assert.equal(new RetryPolicy({ baseDelayMs: 10, random: () => 7 }).delayMs(1), 10);
  });

  test("reports each retry before waiting", async () => {
    const events: RetryEvent[] = [];
    const { policy } = recordingPolicy();
    const first = failure("network");
    const { fn } = scripted([first]);
    await policy.run(fn, { onRetry: (event) => events.push(event) });
    assert.deepEqual(events, [{ attempt: 1, error: first, delayMs: 100 }]);
  });
});

describe("RetryPolicy gives up", () => {
  test("after maxAttempts tries with an error that says so and keeps the last kind", async () => {
    const { policy, delays } = recordingPolicy({ maxAttempts: 3 });
    const last = failure("server");
    const { fn, attempts } = scripted([failure("timeout"), failure("network"), last, undefined]);
    const error = await rejection(policy.run(fn));
    assert.ok(error instanceof RetriesExhaustedError);
    assert.ok(error instanceof ModelError);
    assert.equal(error.kind, "server");
    assert.equal(error.status, 503);
    assert.equal(error.attempts, 3);
    assert.equal(error.lastError, last);
    assert.equal(error.hint, "hint for server");
    assert.match(error.message, /boom \(server\).*gave up after 3 tries/);
    assert.equal(error.retryable, true);
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.equal(delays.length, 2);
  });

  test("maxAttempts 1 turns retries off", async () => {
    const { policy, delays } = recordingPolicy({ maxAttempts: 1 });
    const { fn, attempts } = scripted([failure("rate-limit")]);
    const error = await rejection(policy.run(fn));
    assert.ok(error instanceof RetriesExhaustedError);
    assert.match(error.message, /after 1 try\)/);
    assert.deepEqual(attempts, [1]);
    assert.deepEqual(delays, []);
  });

  for (const kind of ["quota", "auth", "not-found", "bad-request", "bad-response", "aborted"] as const) {
    test(`throws ${kind} at once, the same error, without waiting`, async () => {
      const { policy, delays } = recordingPolicy();
      const original = failure(kind);
      const { fn, attempts } = scripted([original]);
      assert.equal(await rejection(policy.run(fn)), original);
      assert.deepEqual(attempts, [1]);
      assert.deepEqual(delays, []);
    });
  }

  test("does not retry errors that are not ModelErrors (bugs)", async () => {
    const { policy } = recordingPolicy();
    const bug = new TypeError("x is undefined");
    const { fn, attempts } = scripted([bug]);
    assert.equal(await rejection(policy.run(fn)), bug);
    assert.deepEqual(attempts, [1]);
  });

  test("a Retry-After longer than maxWaitMs is waited only maxWaitMs, and that try counts", async () => {
    const { policy, delays } = recordingPolicy({ maxWaitMs: 500, maxAttempts: 3 });
    const { fn, attempts } = scripted([failure("rate-limit", 120), failure("server", 299), failure("rate-limit", 120)]);
    const error = await rejection(policy.run(fn));
    assert.ok(error instanceof RetriesExhaustedError, String(error));
    assert.deepEqual(attempts, [1, 2, 3]);
    assert.deepEqual(delays, [500, 500]);
  });

  test("the wait before a retry is at most 60 s by default, whatever the server asks up to maxRetryAfterMs", () => {
    const policy = new RetryPolicy({ random: () => 1 });
    assert.equal(policy.maxWaitMs, 60_000);
    assert.equal(policy.delayMs(1, failure("rate-limit", 299)), 60_000);
  });

  test("a Retry-After beyond maxRetryAfterMs fails at once, saying how long the server asked", async () => {
    const { policy, delays } = recordingPolicy({ maxRetryAfterMs: 60_000 });
    const { fn, attempts } = scripted([failure("rate-limit", 86_400)]);
    const error = await rejection(policy.run(fn));
    assert.ok(error instanceof ModelError);
    assert.equal(error.kind, "rate-limit");
    assert.equal(error.retryAfterSeconds, 86_400);
    assert.match(error.message, /asked to wait 86400 s/);
    assert.deepEqual(attempts, [1]);
    assert.deepEqual(delays, []);
  });
});

describe("RetryPolicy and abort signals", () => {
  test("an abort during the wait between tries ends it with kind aborted, and no further try", async () => {
    const policy = new RetryPolicy({ baseDelayMs: 60_000, random: () => 1 });
    const controller = new AbortController();
    const attempts: number[] = [];
    const running = policy.run(
      async (attempt) => {
        attempts.push(attempt);
        throw failure("server");
      },
      { signal: controller.signal, onRetry: () => setImmediate(() => controller.abort()) },
    );
    const error = await rejection(running);
    assert.ok(error instanceof ModelError);
    assert.equal(error.kind, "aborted");
    assert.deepEqual(attempts, [1]);
  });

  test("an already aborted signal makes no try at all", async () => {
    const { policy } = recordingPolicy();
    const { fn, attempts } = scripted([]);
    const error = await rejection(policy.run(fn, { signal: AbortSignal.abort() }));
    assert.ok(error instanceof ModelError && error.kind === "aborted");
    assert.deepEqual(attempts, []);
  });

  test("a retryable failure caused by the caller's abort is reported as an abort, not retried", async () => {
    const { policy, delays } = recordingPolicy();
    const controller = new AbortController();
    const { fn, attempts } = scripted([]);
    const error = await rejection(
      policy.run(
        async (attempt) => {
          controller.abort();
          await fn(attempt);
          throw failure("network");
        },
        { signal: controller.signal },
      ),
    );
    assert.ok(error instanceof ModelError && error.kind === "aborted");
    assert.deepEqual(attempts, [1]);
    assert.deepEqual(delays, []);
  });

  test("abortableSleep resolves after its time and rejects with the signal's reason on abort", async () => {
    await abortableSleep(1);
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    const reason = new Error("stop");
    controller.abort(reason);
    assert.equal(await rejection(sleeping), reason);
    assert.equal(await rejection(abortableSleep(10, AbortSignal.abort(reason))), reason);
  });
});
