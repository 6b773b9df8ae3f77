import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { StoredCall } from "../store/run-store.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { emptySpend } from "./cost.ts";
import { RunSpend } from "./run-spend.ts";

function paid(runId: string, costUsd: number): StoredCall {
  return {
    runId,
    itemId: "q",
    step: "principle.generate",
    iteration: 0,
    role: "base",
    model: "m",
    endpoint: "e",
    request: { messages: [{ role: "user", content: "q" }] },
    response: "a",
    usage: { inputTokens: 10, outputTokens: 10 },
    latencyMs: 1,
    cacheHit: false,
    startedAt: new Date().toISOString(),
    costUsd,
  } as StoredCall;
}

test("the budget belongs to the run: what others committed counts, this process's own calls are not counted twice", async () => {
  const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), "spri-spend-")), "spri.db"));
  try {
    const run = await store.createRun({ key: "k", task: "spri/sft", settings: {}, inputPath: "in.jsonl", baseModel: "m" });
    await store.recordCalls([paid(run.id, 0.6)]); // an earlier command, or another worker
    const spend = new RunSpend(store, run.id);
    await spend.refresh();
    const mine = { ...emptySpend(), costUsd: 0.3 };
    assert.equal(spend.exceeded({ maxCostUsd: 1 }, mine), undefined);
    assert.match(spend.exceeded({ maxCostUsd: 0.8 }, mine) ?? "", /cost budget of \$0.8 is spent \(\$0.9000\)/);
    // This process's call reaches the store: after a refresh it is still counted once.
    const call = paid(run.id, 0.3);
    await store.recordCalls([call]);
    spend.committed([call]);
    await spend.refresh();
    assert.equal(spend.exceeded({ maxCostUsd: 0.95 }, mine), undefined);
    await store.recordCalls([paid(run.id, 0.2)]); // another worker spends more
    await spend.refresh();
    assert.match(spend.exceeded({ maxCostUsd: 0.95 }, mine) ?? "", /\$1\.1000/);
  } finally {
    await store.close();
  }
});
