import assert from "node:assert/strict";
import { test } from "node:test";
import { interruptSignal } from "./interrupt.ts";

test("interruptSignal: SIGINT or SIGTERM aborts it; release takes its handlers away", () => {
  const listeners = () => process.listenerCount("SIGINT") + process.listenerCount("SIGTERM");
  const before = listeners();
  for (const name of ["SIGINT", "SIGTERM"] as const) {
    const interrupt = interruptSignal();
    assert.equal(interrupt.signal.aborted, false);
    process.emit(name);
    assert.equal(interrupt.signal.aborted, true);
    interrupt.release();
    assert.equal(listeners(), before);
  }
});
