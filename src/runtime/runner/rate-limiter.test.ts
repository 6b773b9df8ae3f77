import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ModelError } from "../../base/errors/errors.ts";
import { AdaptiveRateLimiter, type LimiterClock, type Permit, RateLimiterRegistry, outcomeOf } from "./rate-limiter.ts";

/** Virtual time: timers fire only when the test advances the clock. */
class ManualClock implements LimiterClock {
  time = 0;
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

  /** Moves time forward, firing due timers in order, then lets promise callbacks run. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = due.at;
      due.fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets pending promise callbacks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { done: () => boolean; value: () => T | undefined; error: () => unknown } {
  let done = false;
  let value: T | undefined;
  let error: unknown;
  promise.then(
    (v) => {
      done = true;
      value = v;
    },
    (e) => {
      done = true;
      error = e;
    },
  );
  return { done: () => done, value: () => value, error: () => error };
}

const RATE_LIMITED = { kind: "rate-limited" } as const;
const SUCCESS = { kind: "success" } as const;

describe("AdaptiveRateLimiter backs off and recovers", () => {
  test("halves the limit on each 429 down to 1, then adds one slot per recoverAfter successes up to the max", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 8, recoverAfter: 3, clock: new ManualClock() });
    assert.equal(limiter.stats.limit, 8);
    const limits: number[] = [];
    for (let i = 0; i < 5; i++) {
      (await limiter.acquire()).release(RATE_LIMITED);
      limits.push(limiter.stats.limit);
    }
    assert.deepEqual(limits, [4, 2, 1, 1, 1]);
    assert.equal(limiter.stats.rateLimited, 5);

    const recovered: number[] = [];
    for (let i = 0; i < 24; i++) {
      (await limiter.acquire()).release(SUCCESS);
      recovered.push(limiter.stats.limit);
    }
    assert.deepEqual(recovered, [1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 7, 7, 7, 8, 8, 8, 8]);
    assert.equal(limiter.stats.succeeded, 24);
  });

  test("a 429 resets the run of successes", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 4, recoverAfter: 2, clock: new ManualClock() });
    (await limiter.acquire()).release(RATE_LIMITED); // 2
    (await limiter.acquire()).release(SUCCESS);
    (await limiter.acquire()).release(RATE_LIMITED); // 1, run reset
    (await limiter.acquire()).release(SUCCESS);
    assert.equal(limiter.stats.limit, 1);
    (await limiter.acquire()).release(SUCCESS);
    assert.equal(limiter.stats.limit, 2);
  });

  test("a burst of 429s from calls already in flight halves once, not once per call", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 16, clock: new ManualClock() });
    const permits = await Promise.all(Array.from({ length: 16 }, () => limiter.acquire()));
    for (const permit of permits) permit.release(RATE_LIMITED);
    assert.equal(limiter.stats.limit, 8);
    assert.equal(limiter.stats.rateLimited, 16);
    // A call granted after the decrease may decrease again.
    (await limiter.acquire()).release(RATE_LIMITED);
    assert.equal(limiter.stats.limit, 4);
  });

  test("other failures (quota, server errors) neither shrink nor grow the limit", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 4, recoverAfter: 1, clock: new ManualClock() });
    (await limiter.acquire()).release(RATE_LIMITED);
    (await limiter.acquire()).release({ kind: "failure" });
    assert.equal(limiter.stats.limit, 2);
    assert.deepEqual(outcomeOf(new ModelError("q", { kind: "quota", status: 429 })), { kind: "failure" });
    assert.deepEqual(outcomeOf(new ModelError("r", { kind: "rate-limit", retryAfterSeconds: 3 })), {
      kind: "rate-limited",
      retryAfterSeconds: 3,
    });
    assert.deepEqual(outcomeOf(new Error("x")), { kind: "failure" });
  });

  test("releasing a permit twice counts once", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 2, clock: new ManualClock() });
    const permit = await limiter.acquire();
    await limiter.acquire();
    permit.release(RATE_LIMITED);
    permit.release(RATE_LIMITED);
    assert.equal(limiter.stats.inFlight, 1);
    assert.equal(limiter.stats.rateLimited, 1);
  });
});

describe("AdaptiveRateLimiter never exceeds its limit", () => {
  test("many concurrent calls through run(): peak in flight equals the max, never more", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    const calls = Array.from({ length: 40 }, (_, i) =>
      limiter.run(async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, i % 3));
        inFlight--;
        return i;
      }),
    );
    assert.deepEqual(
      await Promise.all(calls),
      Array.from({ length: 40 }, (_, i) => i),
    );
    assert.equal(peak, 3);
    assert.equal(limiter.stats.peakInFlight, 3);
    assert.equal(limiter.stats.inFlight, 0);
    assert.equal(limiter.stats.waiting, 0);
  });

  test("after a 429 lowers the limit, no new call starts until in-flight calls drop below it", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 4, clock: new ManualClock() });
    const held = await Promise.all(Array.from({ length: 4 }, () => limiter.acquire()));
    held[0]!.release(RATE_LIMITED); // limit 2, 3 in flight
    const next = track(limiter.acquire());
    await settle();
    assert.equal(next.done(), false);
    assert.deepEqual([limiter.stats.limit, limiter.stats.inFlight, limiter.stats.waiting], [2, 3, 1]);
    held[1]!.release(SUCCESS); // 2 in flight: still at the limit
    await settle();
    assert.equal(next.done(), false);
    held[2]!.release(SUCCESS); // 1 in flight: room for one
    await settle();
    assert.equal(next.done(), true);
    assert.equal(limiter.stats.inFlight, 2);
  });

  test("waiters are served first come, first served", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 1, clock: new ManualClock() });
    const first = await limiter.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      limiter.acquire().then((permit) => {
        order.push(n);
        return permit;
      }),
    );
    first.release(SUCCESS);
    for (const waiter of waiters) (await waiter).release(SUCCESS);
    assert.deepEqual(order, [1, 2, 3]);
  });
});

describe("AdaptiveRateLimiter pauses and paces", () => {
  test("a Retry-After holds new calls until it has passed, even with free slots", async () => {
    const clock = new ManualClock();
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 4, clock });
    (await limiter.acquire()).release({ kind: "rate-limited", retryAfterSeconds: 2 });
    assert.equal(limiter.stats.pausedForMs, 2000);
    const next = track(limiter.acquire());
    await clock.advance(1999);
    assert.equal(next.done(), false);
    assert.equal(limiter.stats.waiting, 1);
    await clock.advance(1);
    assert.equal(next.done(), true);
    assert.equal(limiter.stats.pausedForMs, 0);
  });

  test("the pause is capped by maxPauseMs", async () => {
    const clock = new ManualClock();
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 2, maxPauseMs: 500, clock });
    (await limiter.acquire()).release({ kind: "rate-limited", retryAfterSeconds: 3600 });
    assert.equal(limiter.stats.pausedForMs, 500);
  });

  test("by default a Retry-After pauses new calls for 60 s at most", async () => {
    const clock = new ManualClock();
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 2, clock });
    (await limiter.acquire()).release({ kind: "rate-limited", retryAfterSeconds: 299 });
    assert.equal(limiter.stats.pausedForMs, 60_000);
  });

  test("requestsPerMinute spaces starts (60/min: one a second after a one-second burst)", async () => {
    const clock = new ManualClock();
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 10, requestsPerMinute: 60, clock });
    const first = track(limiter.acquire());
    const second = track(limiter.acquire());
    const third = track(limiter.acquire());
    await settle();
    assert.deepEqual([first.done(), second.done(), third.done()], [true, false, false]);
    await clock.advance(999);
    assert.equal(second.done(), false);
    await clock.advance(1);
    assert.deepEqual([second.done(), third.done()], [true, false]);
    await clock.advance(1000);
    assert.equal(third.done(), true);
  });
});

describe("AdaptiveRateLimiter and abort signals", () => {
  test("an abort while waiting rejects with kind aborted and leaves the queue to the others", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 1, clock: new ManualClock() });
    const holder = await limiter.acquire();
    const controller = new AbortController();
    const aborted = track(limiter.acquire(controller.signal));
    const patient = track(limiter.acquire());
    await settle();
    assert.equal(limiter.stats.waiting, 2);
    controller.abort();
    await settle();
    const error = aborted.error();
    assert.ok(error instanceof ModelError && error.kind === "aborted", String(error));
    assert.equal(limiter.stats.waiting, 1);
    holder.release(SUCCESS);
    await settle();
    assert.equal(patient.done(), true);
    assert.equal(limiter.stats.inFlight, 1);
  });

  test("an abort during a Retry-After pause rejects at once", async () => {
    const clock = new ManualClock();
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 1, clock });
    (await limiter.acquire()).release({ kind: "rate-limited", retryAfterSeconds: 30 });
    const controller = new AbortController();
    const waiting = track(limiter.acquire(controller.signal));
    await clock.advance(10);
    controller.abort();
    await settle();
    assert.ok(waiting.error() instanceof ModelError);
    assert.equal(limiter.stats.waiting, 0);
  });

  test("an already aborted signal is refused without taking a slot", async () => {
    const limiter = new AdaptiveRateLimiter({ maxConcurrency: 1, clock: new ManualClock() });
    await assert.rejects(limiter.acquire(AbortSignal.abort()), (error: unknown) => error instanceof ModelError && error.kind === "aborted");
    assert.equal(limiter.stats.inFlight, 0);
  });
});

describe("RateLimiterRegistry", () => {
  test("one limiter per key, created with the registry's options", async () => {
    const registry = new RateLimiterRegistry({ maxConcurrency: 5 });
    const a = registry.get("openai-compatible:http://x/v1#m");
    assert.equal(registry.get("openai-compatible:http://x/v1#m"), a);
    const b = registry.get("anthropic#claude", { maxConcurrency: 2 });
    assert.notEqual(a, b);
    assert.equal(a.stats.limit, 5);
    assert.equal(b.stats.limit, 2);
    const permit: Permit = await a.acquire();
    assert.equal(registry.stats().get("openai-compatible:http://x/v1#m")?.inFlight, 1);
    permit.release(SUCCESS);
  });
});
