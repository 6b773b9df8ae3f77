import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BudgetError } from "../../base/errors/errors.ts";
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

/** Whether `promise` has settled after the event loop has had a turn (the ledger answers within one). */
async function settledYet(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

test("a call starts only when the budget can pay its worst case; while this process's calls are in flight it waits, then refuses", async () => {
  const { store, runId } = await setup();
  try {
    const spend = new RunSpend(store, runId, { maxCostUsd: 1 });
    await spend.start();
    const worst = { costUsd: 0.3, tokens: 1 };
    const holds = [await spend.admit(worst), await spend.admit(worst), await spend.admit(worst)];
    // $0.90 is held for three calls: a fourth could take the run to $1.20, so it waits for them.
    const fourth = spend.admit(worst);
    assert.equal(await settledYet(fourth), false);
    // The first two cost their worst case, the third less: $0.70 spent, and $0.30 is left for the fourth.
    spend.finish(holds[0]!, { costUsd: 0.3, tokens: 10 });
    spend.finish(holds[1]!, { costUsd: 0.3, tokens: 10 });
    assert.equal(await settledYet(fourth), false, "$0.10 left while the third may still cost $0.30");
    spend.finish(holds[2]!, { costUsd: 0.1, tokens: 10 });
    const hold = await fourth;
    spend.finish(hold, { costUsd: 0.3, tokens: 10 });
    // $1.00 spent: nothing is in flight and nothing is left, so the next call is refused, and for good.
    await assert.rejects(spend.admit(worst), (e: unknown) => e instanceof BudgetError && /cost budget of \$1 is spent/.test(e.message));
    await assert.rejects(spend.admit({ costUsd: 0, tokens: 1 }), BudgetError);
    assert.match(spend.reason() ?? "", /cost budget of \$1 is spent/);
    // What the refusing process could not use stays taken: every other process of the run reads it spent.
    await spend.release();
    assert.equal(await new RunSpend(store, runId, { maxCostUsd: 1 }).probe(), "the cost budget of $1 is spent");
  } finally {
    await store.close();
  }
});

test("a call whose worst case is more than the whole budget is refused at once, with what it could cost", async () => {
  const { store, runId } = await setup();
  try {
    const spend = new RunSpend(store, runId, { maxCostUsd: 0.01 });
    await spend.start();
    await assert.rejects(
      spend.admit({ costUsd: 0.05, tokens: 1 }, "gpt-4o"),
      (e: unknown) => e instanceof BudgetError && /gpt-4o.*\$0\.0500/.test(e.message) && /--max-cost/.test(e.hint ?? ""),
    );
  } finally {
    await store.close();
  }
});

test("a process killed mid-run (no release): the next command continues from what it spent and held, never from zero", async () => {
  const { path, store, runId } = await setup();
  const resumed = new SqliteStore(path);
  try {
    const killed = new RunSpend(store, runId, { maxCostUsd: 1 });
    await killed.start();
    for (let i = 0; i < 4; i++) killed.finish(await killed.admit({ costUsd: 0.1, tokens: 1 }), { costUsd: 0.1, tokens: 10 });
    // A fifth call is in flight when the process dies: it may have been paid, so it stays counted.
    await killed.admit({ costUsd: 0.1, tokens: 1 });

    const next = new RunSpend(resumed, runId, { maxCostUsd: 1 });
    await next.start();
    let calls = 0;
    for (;;) {
      let hold;
      try {
        hold = await next.admit({ costUsd: 0.1, tokens: 1 });
      } catch (error) {
        assert.ok(error instanceof BudgetError, String(error));
        break;
      }
      next.finish(hold, { costUsd: 0.1, tokens: 10 });
      if (++calls > 20) break;
    }
    // $0.50 was spent or held; what is left is at most $0.50 (less what the dead process had reserved and not used).
    assert.ok(calls >= 4 && calls <= 5, `${calls} more calls of $0.10`);
  } finally {
    await resumed.close();
    await store.close();
  }
});

test("before refusing, a process asks the ledger again: what another process gave back is spent, not lost", async () => {
  const { path, store, runId } = await setup();
  const other = new SqliteStore(path);
  try {
    const a = new RunSpend(store, runId, { maxCostUsd: 1 });
    const b = new RunSpend(other, runId, { maxCostUsd: 1 });
    await Promise.all([a.start(), b.start()]);
    const held = [
      await a.admit({ costUsd: 0.3, tokens: 1 }),
      await a.admit({ costUsd: 0.3, tokens: 1 }),
      await a.admit({ costUsd: 0.3, tokens: 1 }),
    ];
    const small = await b.admit({ costUsd: 0.05, tokens: 1 });
    // B finds the ledger empty and waits for its own call in flight.
    const next = b.admit({ costUsd: 0.3, tokens: 1 });
    assert.equal(await settledYet(next), false);
    // A's calls cost nothing after all, and A stops: what it reserved goes back to the run.
    for (const hold of held) a.finish(hold, { costUsd: 0, tokens: 0 });
    await a.release();
    b.finish(small, { costUsd: 0.05, tokens: 10 });
    const hold = await next;
    assert.equal(hold.costUsd, 0.3);
  } finally {
    await other.close();
    await store.close();
  }
});
