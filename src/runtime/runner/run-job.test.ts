import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { ItemAlgorithm } from "../../algorithms/contract/item-algorithm.ts";
import { ModelCaller } from "../../algorithms/contract/model-caller.ts";
import { ModelError } from "../../base/errors/errors.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import { PriceTable } from "./cost.ts";
import { type RunJobOptions, runJob } from "./run-job.ts";
import { RunStop } from "./run-stop.ts";

const dir = mkdtempSync(join(tmpdir(), "spri-run-job-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let runs = 0;

/** One base-model call per item: its answer is the record's `answer`. */
const answerOnce: ItemAlgorithm = {
  name: "test/answer-once",
  async run(item, models, context) {
    const caller = new ModelCaller(context);
    const { text } = await caller.call({
      model: models.base,
      role: "base",
      step: "answer",
      iteration: 0,
      messages: [{ role: "user", content: item.question }],
      sampling: { temperature: 0 },
    });
    return { fields: { answer: text }, calls: caller.calls };
  },
};

/** The runner reads only the task name (to map fields) and the algorithm of a prepared task. */
const prepared = { task: "sft", algorithm: answerOnce } as unknown as PreparedTask;

function setUp(items: number, base: ScriptedModel): { options: RunJobOptions; output: string; close: () => Promise<void> } {
  const at = join(dir, `run-${runs++}`);
  const input = `${at}.jsonl`;
  writeFileSync(input, Array.from({ length: items }, (_, i) => JSON.stringify({ id: `q${i}`, instruction: `question ${i}` })).join("\n"));
  const store = new SqliteStore(`${at}.db`);
  const options: RunJobOptions = {
    input,
    output: `${at}.out.jsonl`,
    prepared,
    models: { base, critic: base },
    mapping: {},
    concurrency: 4,
    store,
    cacheMode: "use",
    runSettings: { model: "scripted" },
    budget: {},
    prices: new PriceTable(),
    retry: { maxAttempts: 1 },
  };
  return { options, output: options.output, close: () => store.close() };
}

const records = (path: string) =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test("every item is run once and written once; running the command again pays nothing", async () => {
  const base = new ScriptedModel({ fallback: (request) => `answer to ${request.messages[0]!.content}` });
  const { options, output, close } = setUp(12, base);
  const first = await runJob(options);
  assert.equal(first.outcome, "completed");
  assert.equal(first.done, 12);
  assert.equal(base.requests.length, 12);
  const written = records(output);
  assert.deepEqual(written.map((r) => r.id).sort(), Array.from({ length: 12 }, (_, i) => `q${i}`).sort());
  assert.equal(written.find((r) => r.id === "q3")?.answer, "answer to question 3");

  const again = await runJob(options);
  assert.equal(again.outcome, "completed");
  assert.equal(again.skipped, 12);
  assert.equal(again.done, 0);
  assert.equal(base.requests.length, 12, "a finished run is not paid twice");
  assert.equal(records(output).length, 12);
  await close();
});

test("a provider's hard refusal stops the run; the next command retries what it left", async () => {
  const refusing = new ScriptedModel({
    fallback: () => {
      throw new ModelError("invalid API key", { kind: "auth", status: 401 });
    },
  });
  const { options, output, close } = setUp(6, refusing);
  const stopped = await runJob(options);
  assert.equal(stopped.outcome, "stopped");
  assert.equal(stopped.stopKind, "provider");
  assert.match(stopped.stopReason ?? "", /invalid API key/);
  assert.equal(stopped.done, 0);
  assert.ok(refusing.requests.length <= 8, `${refusing.requests.length} calls: no new item starts once the run is stopping`);

  const fine = new ScriptedModel({ fallback: () => "ok" });
  const resumed = await runJob({ ...options, models: { base: fine, critic: fine } });
  assert.equal(resumed.outcome, "completed");
  assert.equal(resumed.done, 6);
  assert.equal(records(output).length, 6);
  await close();
});

test("an item whose call fails is written to the rejects file and retried by the next command", async () => {
  let failing = true;
  const flaky = new ScriptedModel({
    fallback: (request) => {
      if (failing && request.messages[0]!.content === "question 2") throw new Error("the model broke");
      return "fine";
    },
  });
  const { options, output, close } = setUp(4, flaky);
  const first = await runJob(options);
  assert.equal(first.outcome, "completed-with-failures");
  assert.deepEqual([first.done, first.failed], [3, 1]);
  const [reject] = records(first.rejects);
  assert.equal(reject?.id, "q2");

  failing = false;
  const second = await runJob(options);
  assert.equal(second.outcome, "completed");
  assert.deepEqual([second.done, second.failed, second.skipped], [1, 0, 3]);
  assert.equal(records(output).length, 4);
  await close();
});

test("RunStop: the first reason wins; a cancel also aborts the calls in flight, a request does not", () => {
  const stop = new RunStop();
  stop.request("budget spent", "budget");
  stop.cancel("interrupted", "interrupted");
  assert.deepEqual([stop.reason, stop.kind], ["budget spent", "budget"]);
  assert.equal(stop.signal.aborted, true);
  assert.equal(stop.cancelling.signal.aborted, true);

  const soft = new RunStop();
  soft.request("budget spent", "budget");
  assert.equal(soft.cancelling.signal.aborted, false);
});
