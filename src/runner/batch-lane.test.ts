import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { InputError, ModelError } from "../errors/errors.ts";
import type { GenerateRequest, LanguageModel } from "../models/language-model.ts";
import type { BatchApi, BatchInfo } from "../models/openai-batch.ts";
import { CachedModel, MemoryCallCache } from "../store/call-cache.ts";
import type { RunStore } from "../store/run-store.ts";
import { SqliteStore } from "../store/sqlite-store.ts";
import { BatchLane, type BatchableModel, BatchPending } from "./batch-lane.ts";
import { LANE_ARTIFACT, type LaneState, type LaneStateStore, runArtifactState } from "./batch-state.ts";

function batchable(modelId: string): BatchableModel {
  return {
    id: `openai-compatible:http://fake/v1#${modelId}`,
    modelId,
    capabilities: { constrainedOutput: false },
    requestBody: (request) => ({ model: modelId, messages: request.messages, temperature: request.sampling?.temperature }),
    generate: () => Promise.reject(new Error("a batch run must not call the model directly")),
  };
}

interface ApiBatch {
  info: BatchInfo;
  lines: { custom_id: string; body: { messages: { content: string }[] } }[];
  polls: number;
}

/** An in-memory Batch API: answers `echo <last message>`, or an error for messages containing "FAIL". */
class FakeApi implements BatchApi {
  readonly endpoint = "http://fake/v1";
  readonly files = new Map<string, string>();
  readonly batches = new Map<string, ApiBatch>();
  uploads = 0;
  creates = 0;
  hold = false;
  /** Make the next createBatch create the batch but lose the answer (a crash or a dropped reply). */
  loseNextCreate = false;
  failNext?: string;
  /** Lines with "FLAKY" fail with a 500 this many times before they are answered. */
  flakyTimes = 0;
  private readonly flaky = new Map<string, number>();
  private seq = 0;

  async uploadFile(path: string): Promise<string> {
    this.uploads++;
    const id = `file-${++this.seq}`;
    this.files.set(id, readFileSync(path, "utf8"));
    return id;
  }

  async createBatch(inputFileId: string): Promise<BatchInfo> {
    this.creates++;
    const id = `batch-${++this.seq}`;
    const lines = this.files.get(inputFileId)!.trim().split("\n").map((l) => JSON.parse(l) as ApiBatch["lines"][number]);
    const batch: ApiBatch = { info: { id, status: "validating", inputFileId, errors: [] }, lines, polls: 0 };
    this.batches.set(id, batch);
    if (this.loseNextCreate) {
      this.loseNextCreate = false;
      throw new ModelError("connection reset", { kind: "network" });
    }
    return { ...batch.info };
  }

  async retrieveBatch(batchId: string): Promise<BatchInfo> {
    const batch = this.batches.get(batchId)!;
    batch.polls++;
    if (batch.info.status === "validating" || batch.info.status === "in_progress") {
      if (this.failNext) {
        batch.info = { ...batch.info, status: "failed", errors: [this.failNext] };
        this.failNext = undefined;
      } else if (this.hold || batch.polls < 2) {
        batch.info.status = "in_progress";
      } else {
        const ok: string[] = [];
        const bad: string[] = [];
        for (const line of batch.lines) {
          const text = line.body.messages.at(-1)!.content;
          const flaky = text.includes("FLAKY") && (this.flaky.set(text, (this.flaky.get(text) ?? 0) + 1).get(text) ?? 0) <= this.flakyTimes;
          if (flaky) {
            bad.push(JSON.stringify({ custom_id: line.custom_id, response: { status_code: 500, body: { error: { message: "server_error" } } }, error: null }));
          } else if (text.includes("FAIL")) {
            bad.push(JSON.stringify({ custom_id: line.custom_id, response: { status_code: 400, body: { error: { message: "refused" } } }, error: null }));
          } else {
            ok.push(JSON.stringify({ custom_id: line.custom_id, response: { status_code: 200, body: { model: "m-2024", choices: [{ message: { content: `echo ${text}` }, finish_reason: "stop" }], usage: { prompt_tokens: 4, completion_tokens: 2 } } }, error: null }));
          }
        }
        const outputFileId = `file-${++this.seq}`;
        this.files.set(outputFileId, ok.join("\n"));
        const errorFileId = `file-${++this.seq}`;
        this.files.set(errorFileId, bad.join("\n"));
        batch.info = { ...batch.info, status: "completed", outputFileId, errorFileId };
      }
    }
    return { ...batch.info };
  }

  async findBatchByInputFile(inputFileId: string): Promise<BatchInfo | undefined> {
    const found = [...this.batches.values()].find((b) => b.info.inputFileId === inputFileId);
    return found ? { ...found.info } : undefined;
  }

  async fileContent(fileId: string): Promise<string> {
    return this.files.get(fileId) ?? "";
  }
}

const noSleep = async (_ms: number, signal?: AbortSignal) => {
  await new Promise((r) => setImmediate(r));
  signal?.throwIfAborted();
};

/** An item algorithm of `steps` dependent calls: each asks for the previous answer plus "!". */
async function chain(model: LanguageModel, question: string, steps: number): Promise<string[]> {
  const answers: string[] = [];
  let prompt = question;
  for (let i = 0; i < steps; i++) {
    const result = await model.generate({ messages: [{ role: "user", content: prompt }], sampling: { temperature: 0.7 } });
    answers.push(result.text);
    prompt = `${result.text}!`;
  }
  return answers;
}

/** A run in a SQLite run store beside the lane's directory: where the lane keeps its state. */
interface Run {
  store: RunStore;
  runId: string;
}

const stores: RunStore[] = [];
after(() => Promise.all(stores.map((store) => store.close())));

async function newRun(dir: string): Promise<Run> {
  const store = new SqliteStore(join(dirname(dir), `spri-${stores.length}.db`));
  stores.push(store);
  const run = await store.createRun({ key: "k", task: "spri", settings: {}, inputPath: "in.jsonl", baseModel: "m" });
  return { store, runId: run.id };
}

interface Setup {
  dir: string;
  cache: MemoryCallCache;
  api: FakeApi;
  lane: BatchLane;
  model: CachedModel;
  run: Run;
}

interface SetupOptions {
  dir?: string;
  cache?: MemoryCallCache;
  api?: FakeApi;
  run?: Run;
  /** Instead of the run's artifact. */
  state?: LaneStateStore;
  offline?: boolean;
  resultsFiles?: string[];
  maxLinesPerFile?: number;
}

/** A lane over `dir` (a fresh one by default) keeping its state in `run` (a fresh one by default). */
async function setup(options: SetupOptions = {}): Promise<Setup> {
  const dir = options.dir ?? join(mkdtempSync(join(tmpdir(), "spri-lane-")), "out.jsonl.batch");
  const cache = options.cache ?? new MemoryCallCache();
  const api = options.api ?? new FakeApi();
  const run = options.run ?? (await newRun(dir));
  const inner = batchable("m");
  const lane = new BatchLane({ dir, cache, apis: new Map([[inner.id, api]]), offline: options.offline, resultsFiles: options.resultsFiles, sleep: noSleep, maxLinesPerFile: options.maxLinesPerFile });
  lane.useStateStore(options.state ?? runArtifactState(run.store, run.runId));
  const holder: { model?: CachedModel } = {};
  const model = new CachedModel(lane.collector(inner, (r: GenerateRequest) => holder.model!.keyOf(r)), cache);
  holder.model = model;
  return { dir, cache, api, lane, model, run };
}

/** The same lane directory, cache, API and run: what a re-run of the command gets. */
function rerun(s: Setup, options: SetupOptions = {}): Promise<Setup> {
  return setup({ dir: s.dir, cache: s.cache, api: s.api, run: s.run, ...options });
}

/** What the runner does: passes and flushes until a pass collects nothing. */
async function drive(s: Setup, questions: string[], steps: number, signal?: AbortSignal) {
  const results = new Map<number, string[] | Error>();
  await s.lane.start(signal);
  for (let round = 0; round < 50; round++) {
    s.lane.beginRound();
    await Promise.all(
      questions.map(async (q, i) => {
        if (results.has(i)) return;
        try {
          results.set(i, await chain(s.model, q, steps));
        } catch (error) {
          if (!(error instanceof BatchPending)) results.set(i, error as Error);
        }
      }),
    );
    if (s.lane.collectedCount === 0) break;
    const flushed = await s.lane.flushRound(signal);
    if (flushed.kind !== "submitted") return { results, flushed };
  }
  return { results, flushed: undefined };
}

/** The lane's state as the run store holds it; never a file in the lane's directory. */
async function state(s: Setup): Promise<LaneState> {
  assert.equal(existsSync(join(s.dir, "state.json")), false, "no state file");
  const stored = await s.run.store.getArtifact(s.run.runId, LANE_ARTIFACT);
  assert.ok(stored, "the run has the lane's state");
  return stored as LaneState;
}

describe("BatchLane rounds", () => {
  test("each step becomes one batch round; identical requests go in once; answers land in the cache", async () => {
    const s = await setup();
    const { results } = await drive(s, ["a", "b", "a"], 3);
    assert.deepEqual(results.get(0), ["echo a", "echo echo a!", "echo echo echo a!!"]);
    assert.deepEqual(results.get(2), results.get(0));
    assert.deepEqual(results.get(1), ["echo b", "echo echo b!", "echo echo echo b!!"]);
    assert.equal(s.api.creates, 3, "one batch per step");
    assert.equal(s.lane.roundsRun, 3);
    const rounds = (await state(s)).rounds;
    assert.deepEqual(rounds.map((r) => r.parts.map((p) => [p.file, p.lines, p.status, p.imported])), [
      [["round-1.jsonl", 2, "completed", true]],
      [["round-2.jsonl", 2, "completed", true]],
      [["round-3.jsonl", 2, "completed", true]],
    ]);
    const line = JSON.parse(readFileSync(join(s.dir, "round-1.jsonl"), "utf8").split("\n")[0]!);
    assert.deepEqual(Object.keys(line), ["custom_id", "method", "url", "body"]);
    assert.equal(line.method, "POST");
    assert.equal(line.url, "/v1/chat/completions");
    assert.deepEqual(line.body, { model: "m", messages: [{ role: "user", content: "a" }], temperature: 0.7 });
    const cached = await s.cache.get(line.custom_id);
    assert.deepEqual(cached, { text: "echo a", finishReason: "stop", usage: { inputTokens: 4, outputTokens: 2 }, latencyMs: 0, model: "m-2024" });
    assert.equal(s.cache.entries.get(line.custom_id)?.meta.endpoint, "openai-compatible:http://fake/v1#m");
  });

  test("a request the batch answered with an error fails its item with that error; the others go on", async () => {
    const s = await setup();
    const { results } = await drive(s, ["ok", "FAIL"], 2);
    assert.deepEqual(results.get(0), ["echo ok", "echo echo ok!"]);
    const error = results.get(1);
    assert.ok(error instanceof ModelError, String(error));
    assert.match(error.message, /batch request failed \(400\): refused/);
    assert.equal(s.api.creates, 2);
  });

  test("a line that fails transiently goes into the next round again, up to twice", async () => {
    const s = await setup();
    s.api.flakyTimes = 2;
    const { results } = await drive(s, ["FLAKY"], 1);
    assert.deepEqual(results.get(0), ["echo FLAKY"]);
    assert.equal(s.api.creates, 3);
    const t = await setup();
    t.api.flakyTimes = 3;
    const failed = (await drive(t, ["FLAKY"], 1)).results.get(0);
    assert.ok(failed instanceof ModelError && failed.kind === "server", String(failed));
    assert.equal(t.api.creates, 3);
  });

  test("a batch that fails as a whole stops with its reasons; the next run submits the round again", async () => {
    const s = await setup();
    s.api.failNext = "line 1: model_not_found: no such model";
    await assert.rejects(drive(s, ["a"], 1), /batch batch-\d+ \(round 1, round-1.jsonl\) failed: line 1: model_not_found/);
    const again = await rerun(s);
    const { results } = await drive(again, ["a"], 1);
    assert.deepEqual(results.get(0), ["echo a"]);
    assert.equal(s.api.creates, 2);
    assert.deepEqual((await state(s)).rounds.map((r) => r.round), [1, 2]);
  });

  test("a file larger than the limits is split, one batch per part", async () => {
    const s = await setup({ maxLinesPerFile: 2 });
    const { results } = await drive(s, ["a", "b", "c"], 1);
    assert.equal(results.size, 3);
    assert.deepEqual((await state(s)).rounds[0]!.parts.map((p) => [p.file, p.lines]), [["round-1-1.jsonl", 2], ["round-1-2.jsonl", 1]]);
    assert.equal(s.api.creates, 2);
  });
});

describe("BatchLane crash safety", () => {
  test("a batch submitted before a crash is polled again, not submitted again", async () => {
    const s = await setup();
    s.api.hold = true;
    const stop = new AbortController();
    const polling = drive(s, ["a", "b"], 2, stop.signal);
    while (s.api.creates === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    const { flushed } = await polling;
    assert.equal(flushed?.kind, "interrupted");
    const submitted = (await state(s)).rounds[0]!.parts[0]!;
    assert.equal(submitted.status, "in_progress");
    assert.ok(submitted.batchId);

    s.api.hold = false;
    const again = await rerun(s);
    const { results } = await drive(again, ["a", "b"], 2);
    assert.deepEqual(results.get(1), ["echo b", "echo echo b!"]);
    assert.equal(s.api.creates, 2, "round 1 once, round 2 once");
    assert.equal(s.api.uploads, 2);
    assert.deepEqual((await state(s)).rounds.map((r) => [r.round, r.parts[0]!.batchId]), [[1, submitted.batchId], [2, (await state(s)).rounds[1]!.parts[0]!.batchId]]);
  });

  test("a batch created whose id was never saved is found by its input file, not created twice", async () => {
    const s = await setup();
    s.api.loseNextCreate = true;
    await assert.rejects(drive(s, ["a"], 1), /connection reset/);
    const part = (await state(s)).rounds[0]!.parts[0]!;
    assert.equal(part.status, "uploaded");
    assert.equal(part.batchId, undefined);
    assert.equal(s.api.creates, 1);

    const again = await rerun(s);
    const { results } = await drive(again, ["a"], 1);
    assert.deepEqual(results.get(0), ["echo a"]);
    assert.equal(s.api.creates, 1, "the lost batch was found and used");
    assert.equal(s.api.uploads, 1, "the uploaded file was reused");
  });
});

describe("BatchLane state in the run store", () => {
  test("every save is a snapshot of its moment, saved after the one before it, one at a time", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "spri-lane-")), "out.jsonl.batch");
    const run = await newRun(dir);
    const inner = runArtifactState(run.store, run.runId);
    let inFlight = 0;
    let most = 0;
    const saved: string[] = [];
    // Each save takes a while, so the parts' settles (which run in parallel) queue theirs meanwhile.
    const slow: LaneStateStore = {
      load: () => inner.load(),
      save: async (value) => {
        most = Math.max(most, ++inFlight);
        const before = JSON.stringify(value);
        await new Promise((r) => setTimeout(r, 2));
        assert.equal(JSON.stringify(value), before, "the lane does not change a state being saved");
        await inner.save(value);
        saved.push(before);
        inFlight--;
      },
    };
    const s = await setup({ dir, run, state: slow, maxLinesPerFile: 1 });
    const { results } = await drive(s, ["a", "b", "c"], 1);
    assert.equal(results.size, 3);
    assert.equal(most, 1, "one save at a time");
    assert.ok(saved.length >= 10, `a save per step (${saved.length})`);
    const last = await state(s);
    assert.equal(JSON.stringify(last), saved.at(-1), "the last save is the final state");
    assert.deepEqual(last.rounds[0]!.parts.map((p) => [p.file, p.status, p.imported]), [1, 2, 3].map((i) => [`round-1-${i}.jsonl`, "completed", true]));
  });

  test("an older spri's state.json is imported once: the batch it was polling is polled again, never submitted again", async () => {
    // An older spri submitted round 1 and was killed while polling it: its state is in state.json
    // and its store has no lane state.
    const s = await setup();
    s.api.hold = true;
    const stop = new AbortController();
    const polling = drive(s, ["a", "b"], 2, stop.signal);
    while (s.api.creates === 0) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    stop.abort();
    await polling;
    const old = await state(s);
    const submitted = old.rounds[0]!.parts[0]!;
    assert.equal(submitted.status, "in_progress");
    const legacy = join(s.dir, "state.json");
    writeFileSync(legacy, `${JSON.stringify(old, null, 2)}\n`);
    const upgraded = await newRun(s.dir);

    s.api.hold = false;
    const again = await rerun(s, { run: upgraded });
    const { results } = await drive(again, ["a", "b"], 2);
    assert.deepEqual(results.get(0), ["echo a", "echo echo a!"]);
    assert.equal(s.api.creates, 2, "round 1 once, round 2 once");
    assert.equal(existsSync(legacy), false);
    assert.deepEqual(JSON.parse(readFileSync(`${legacy}.imported`, "utf8")), old, "left as it was, under another name");
    const imported = await state(again);
    assert.deepEqual(imported.rounds.map((r) => [r.round, r.parts[0]!.status, r.parts[0]!.imported]), [[1, "completed", true], [2, "completed", true]]);
    assert.equal(imported.rounds[0]!.parts[0]!.batchId, submitted.batchId);

    // A state.json beside a store that holds the lane's state (a crash between the import's save
    // and its rename): the store's state wins and the file is put aside.
    writeFileSync(legacy, `${JSON.stringify({ version: 1, rounds: [] })}\n`);
    const third = await rerun(again);
    await third.lane.start();
    assert.equal(existsSync(legacy), false);
    assert.deepEqual(await state(third), imported);
    assert.equal(third.lane.currentRound, 3);
  });

  test("a state.json that is no state stops the lane and stays where it is", async () => {
    const s = await setup();
    mkdirSync(s.dir, { recursive: true });
    const legacy = join(s.dir, "state.json");
    writeFileSync(legacy, "{");
    await assert.rejects(s.lane.start(), (error: Error) => error instanceof InputError && /batch state is not valid JSON/.test(error.message));
    assert.equal(existsSync(legacy), true);
    assert.equal(await s.run.store.getArtifact(s.run.runId, LANE_ARTIFACT), undefined, "nothing imported");
    writeFileSync(legacy, JSON.stringify({ version: 2, rounds: [] }));
    await assert.rejects((await rerun(s)).lane.start(), /unknown batch state format/);
    assert.equal(existsSync(legacy), true);
  });
});

describe("BatchLane offline", () => {
  test("writes the round's file and stops; a results file continues with the next round", async () => {
    const s = await setup({ offline: true });
    const first = await drive(s, ["a", "b"], 2);
    assert.equal(first.flushed?.kind, "offline");
    if (first.flushed?.kind !== "offline") return;
    assert.deepEqual(first.flushed.parts.map((p) => [p.file, p.results, p.model, p.lines]), [[join(s.dir, "round-1.jsonl"), join(s.dir, "round-1.results.jsonl"), "m", 2]]);
    assert.equal(s.api.uploads + s.api.creates, 0, "offline never submits");

    // Run it "with vLLM": a string error for b, an answer for a.
    const lines = readFileSync(join(s.dir, "round-1.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { custom_id: string; body: { messages: { content: string }[] } });
    const results = lines.map((l) =>
      l.body.messages[0]!.content === "a"
        ? { id: "vllm-1", custom_id: l.custom_id, response: { status_code: 200, request_id: "r", body: { model: "m", choices: [{ message: { content: "echo a" }, finish_reason: "stop" }], usage: { prompt_tokens: 1, completion_tokens: 1 } } }, error: null }
        : { id: "vllm-2", custom_id: l.custom_id, response: { status_code: 400, request_id: "r" }, error: "model crashed" },
    );
    const resultsFile = join(s.dir, "round-1.results.jsonl");
    writeFileSync(resultsFile, results.map((r) => JSON.stringify(r)).join("\n"));

    const again = await rerun(s, { offline: true, resultsFiles: [resultsFile] });
    const second = await drive(again, ["a", "b"], 2);
    assert.equal(second.flushed?.kind, "offline");
    assert.equal(second.flushed?.round, 2);
    const b = second.results.get(1);
    assert.ok(b instanceof ModelError && /model crashed/.test(b.message));
    assert.equal(readFileSync(join(s.dir, "round-2.jsonl"), "utf8").trim().split("\n").length, 1, "only a goes on");
    assert.deepEqual((await state(s)).rounds[0]!.parts[0]!.resultsFile, resultsFile);
  });

  test("a results file that answers none of the rounds' requests is refused", async () => {
    const s = await setup({ offline: true });
    await drive(s, ["a"], 1);
    const stray = join(s.dir, "stray.jsonl");
    writeFileSync(stray, JSON.stringify({ custom_id: "not-ours", response: { status_code: 200, body: { choices: [{ message: { content: "x" } }] } }, error: null }));
    const again = await rerun(s, { cache: new MemoryCallCache(), offline: true, resultsFiles: [stray] });
    await assert.rejects(again.lane.start(), /none of the 1 results answers a request/);
    await assert.rejects((await rerun(s, { cache: new MemoryCallCache(), offline: true, resultsFiles: [join(s.dir, "missing.jsonl")] })).lane.start(), /does not exist/);
  });

  test("re-running before the results come rewrites the same round", async () => {
    const s = await setup({ offline: true });
    await drive(s, ["a"], 1);
    const again = await rerun(s, { offline: true });
    const { flushed } = await drive(again, ["a"], 1);
    assert.equal(flushed?.round, 1);
    assert.equal((await state(s)).rounds.length, 1);
    assert.equal(existsSync(join(s.dir, "round-2.jsonl")), false);
  });
});

describe("BatchLane accounting", () => {
  test("an answer from this output's batches counts as paid once, on the pass that finishes; pending passes give it back", async () => {
    const s = await setup();
    await drive(s, ["a"], 2);
    // A later pass (as after a crash) over the same item: both answers are hits from the batches.
    const fresh = await rerun(s);
    await fresh.lane.start();
    const pending = fresh.lane.itemModels({ base: fresh.model });
    const first = await pending.models.base.generate({ messages: [{ role: "user", content: "a" }], sampling: { temperature: 0.7 } });
    assert.equal(first.cached, false, "paid: it came from a batch");
    pending.settle(false);

    const final = fresh.lane.itemModels({ base: fresh.model });
    const texts = await chain(final.models.base, "a", 2);
    assert.deepEqual(texts, ["echo a", "echo echo a!"]);
    final.settle(true);
    const other = fresh.lane.itemModels({ base: fresh.model });
    const again = await other.models.base.generate({ messages: [{ role: "user", content: "a" }], sampling: { temperature: 0.7 } });
    assert.equal(again.cached, true, "a second item sharing the request gets it from the cache");
  });
});
