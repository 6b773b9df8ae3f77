import assert from "node:assert/strict";
import { test } from "node:test";
import { emptySpend } from "./cost.ts";
import { formatDuration, snapshot } from "./run-progress.ts";

test("durations read as seconds, minutes or hours", () => {
  assert.equal(formatDuration(23), "23s");
  assert.equal(formatDuration(125), "2m05s");
  assert.equal(formatDuration(3725), "1h02m");
});

test("the ETA is what is left of the total at the rate so far; none without a total", () => {
  const known = snapshot({ done: 20, failed: 0, skipped: 50, total: 100 }, emptySpend(), 5_000, undefined, 15_000);
  assert.equal(known.itemsPerSecond, 2);
  assert.equal(known.etaSeconds, 15);
  assert.equal(snapshot({ done: 20, failed: 0, skipped: 0 }, emptySpend(), 5_000, undefined, 15_000).etaSeconds, undefined);
});
