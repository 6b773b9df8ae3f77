import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { anySignal, onAbort } from "./abort.ts";

describe("onAbort", () => {
  test("calls every live subscriber once, in order; unsubscribed ones are not called", () => {
    const controller = new AbortController();
    const seen: string[] = [];
    onAbort(controller.signal, () => seen.push("a"));
    const offB = onAbort(controller.signal, () => seen.push("b"));
    onAbort(controller.signal, () => seen.push("c"));
    offB();
    controller.abort();
    controller.abort();
    assert.deepEqual(seen, ["a", "c"]);
  });

  test("one listener on the signal however many subscribe", () => {
    const controller = new AbortController();
    let added = 0;
    const add = controller.signal.addEventListener.bind(controller.signal);
    controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      return add(...args);
    }) as typeof add;
    const offs = Array.from({ length: 500 }, () => onAbort(controller.signal, () => {}));
    for (const off of offs) off();
    onAbort(controller.signal, () => {});
    assert.equal(added, 1);
  });

  test("a subscriber that throws does not stop the others; the error is reported as uncaught", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const uncaught: unknown[] = [];
    const listener = (error: unknown) => uncaught.push(error);
    // node:test reports uncaught exceptions as failures unless something else handles them.
    const previous = process.listeners("uncaughtException");
    process.removeAllListeners("uncaughtException");
    process.on("uncaughtException", listener);
    try {
      onAbort(controller.signal, () => {
        throw new Error("boom");
      });
      onAbort(controller.signal, () => seen.push("after"));
      controller.abort();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.removeListener("uncaughtException", listener);
      for (const l of previous) process.on("uncaughtException", l);
    }
    assert.deepEqual(seen, ["after"]);
    assert.equal((uncaught[0] as Error).message, "boom");
  });

  test("a signal aborted after all unsubscribed calls nobody; a later subscription on another signal is independent", () => {
    const a = new AbortController();
    const b = new AbortController();
    let calls = 0;
    const off = onAbort(a.signal, () => calls++);
    onAbort(b.signal, () => calls++);
    off();
    a.abort();
    assert.equal(calls, 0);
    b.abort();
    assert.equal(calls, 1);
  });
});

describe("anySignal", () => {
  test("aborts with the reason of whichever signal aborts first; later aborts change nothing", () => {
    const run = new AbortController();
    const lease = new AbortController();
    const { signal } = anySignal([run.signal, lease.signal]);
    assert.equal(signal.aborted, false);
    lease.abort("lease lost");
    run.abort("stopped");
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, "lease lost");
  });

  test("is aborted at once when a signal already is", () => {
    const done = new AbortController();
    done.abort("early");
    const { signal } = anySignal([new AbortController().signal, done.signal]);
    assert.equal(signal.aborted, true);
    assert.equal(signal.reason, "early");
  });

  test("after dispose it no longer follows its signals, and holds no subscription on them", () => {
    const run = new AbortController();
    const kept = anySignal([run.signal]);
    const disposed = anySignal([run.signal]);
    disposed.dispose();
    run.abort("stopped");
    assert.equal(kept.signal.aborted, true);
    assert.equal(disposed.signal.aborted, false);
  });
});
