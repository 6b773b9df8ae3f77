import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SqliteStore } from "../store/sqlite-store.ts";
import { RunSpend } from "./run-spend.ts";

async function setup() {
  const path = join(mkdtempSync(join(tmpdir(), "spri-spend-")), "spri.db");
  const store = new SqliteStore(path);
  const run = await store.createRun({ key: "k", task: "spri/sft", settings: {}, inputPath: "in.jsonl", baseModel: "m" });
  return { path, store, runId: run.id };
}

/** Charges $1 calls until the budget says stop; returns how many were charged. */
async function spendUntilStopped(spend: RunSpend): Promise<number> {
  let calls = 0;
  for (;;) {
    calls++;
    const reason = spend.charge(1, 10);
    await spend.settle();
    if (reason ?? spend.reason()) return calls;
    if (calls > 1000) throw new Error("the budget never stopped");
  }
}

test("two processes share one cost budget: together they stop at it, not at twice it", async () => {
  const { path, store, runId } = await setup();
  const other = new SqliteStore(path);
  try {
    const a = new RunSpend(store, runId, { maxCostUsd: 20 });
    const b = new RunSpend(other, runId, { maxCostUsd: 20 });
    await Promise.all([a.start(), b.start()]);
    const [byA, byB] = await Promise.all([spendUntilStopped(a), spendUntilStopped(b)]);
    // Each stops on the call that found the budget gone: at most one call over, each.
    assert.ok(byA + byB >= 20 && byA + byB <= 22, `charged ${byA} + ${byB}`);
    assert.match(a.reason() ?? "", /cost budget of \$20 is spent/);
  } finally {
    await other.close();
    await store.close();
  }
});

test("the budget belongs to the run: a resumed command continues from what was spent, and unspent allowances come back", async () => {
  const { store, runId } = await setup();
  try {
    const first = new RunSpend(store, runId, { maxTokens: 1000 });
    await first.start();
    for (let i = 0; i < 60; i++) assert.equal(first.charge(0, 10), undefined);
    await first.settle();
    await first.release();
    const second = new RunSpend(store, runId, { maxTokens: 1000 });
    await second.start();
    let calls = 0;
    while (!second.charge(0, 10)) {
      await second.settle();
      if (++calls > 100) break;
    }
    // 600 tokens were spent before; the rest is 400 tokens: 40 calls of 10 (the 41st stops).
    assert.ok(calls >= 39 && calls <= 41, `${calls} more calls`);
    assert.equal(await new RunSpend(store, runId, { maxTokens: 1000 }).probe(), "the token budget of 1000 is spent");
  } finally {
    await store.close();
  }
});

test("without a budget nothing is reserved or stopped", async () => {
  const { store, runId } = await setup();
  try {
    const spend = new RunSpend(store, runId, {});
    await spend.start();
    assert.equal(spend.charge(100, 1_000_000), undefined);
    assert.equal(await spend.probe(), undefined);
  } finally {
    await store.close();
  }
});
