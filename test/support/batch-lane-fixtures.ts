/**
 * Fixtures of the batch lane's unit tests (src/runtime/runner/batch-lane.test.ts, batch-state.test.ts): an
 * in-memory Batch API, a lane over a temporary directory that keeps its state in a run of a SQLite
 * run store, and `drive`, which runs items through rounds as the runner does.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after } from "node:test";
import { ModelError } from "../../src/base/errors/errors.ts";
import type { GenerateRequest, LanguageModel } from "../../src/models/language-model.ts";
import type { BatchApi, BatchFormat, BatchInfo } from "../../src/models/batch-provider.ts";
import { OPENAI_BATCH_FORMAT } from "../../src/models/openai-batch.ts";
import { CachedModel, MemoryCallCache } from "../../src/runtime/store/call-cache.ts";
import type { RunStore } from "../../src/runtime/store/run-store.ts";
import { SqliteStore } from "../../src/runtime/store/sqlite-store.ts";
import { BatchLane, type BatchableModel, BatchPending } from "../../src/runtime/runner/batch-lane.ts";
import { LANE_ARTIFACT, type LaneState, type LaneStateStore, runArtifactState } from "../../src/runtime/runner/batch-state.ts";

export function batchable(modelId: string): BatchableModel {
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
export class FakeApi implements BatchApi {
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
    const lines = this.files
      .get(inputFileId)!
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ApiBatch["lines"][number]);
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
            bad.push(
              JSON.stringify({
                custom_id: line.custom_id,
                response: { status_code: 500, body: { error: { message: "server_error" } } },
                error: null,
              }),
            );
          } else if (text.includes("FAIL")) {
            bad.push(
              JSON.stringify({
                custom_id: line.custom_id,
                response: { status_code: 400, body: { error: { message: "refused" } } },
                error: null,
              }),
            );
          } else {
            ok.push(
              JSON.stringify({
                custom_id: line.custom_id,
                response: {
                  status_code: 200,
                  body: {
                    model: "m-2024",
                    choices: [{ message: { content: `echo ${text}` }, finish_reason: "stop" }],
                    usage: { prompt_tokens: 4, completion_tokens: 2 },
                  },
                },
                error: null,
              }),
            );
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

export const noSleep = async (_ms: number, signal?: AbortSignal) => {
  await new Promise((r) => setImmediate(r));
  signal?.throwIfAborted();
};

/** An item algorithm of `steps` dependent calls: each asks for the previous answer plus "!". */
export async function chain(model: LanguageModel, question: string, steps: number): Promise<string[]> {
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
export interface Run {
  store: RunStore;
  runId: string;
}

const stores: RunStore[] = [];
after(() => Promise.all(stores.map((store) => store.close())));

export async function newRun(dir: string): Promise<Run> {
  const store = new SqliteStore(join(dirname(dir), `spri-${stores.length}.db`));
  stores.push(store);
  const run = await store.createRun({ key: "k", task: "spri", settings: {}, inputPath: "in.jsonl", baseModel: "m" });
  return { store, runId: run.id };
}

export interface Setup {
  dir: string;
  cache: MemoryCallCache;
  api: FakeApi;
  lane: BatchLane;
  model: CachedModel;
  run: Run;
}

export interface SetupOptions {
  dir?: string;
  cache?: MemoryCallCache;
  api?: FakeApi;
  run?: Run;
  /** Instead of the run's artifact. */
  state?: LaneStateStore;
  offline?: boolean;
  resultsFiles?: string[];
  maxLinesPerFile?: number;
  /** The provider's batch format; default OpenAI's. */
  format?: BatchFormat;
}

/** A lane over `dir` (a fresh one by default) keeping its state in `run` (a fresh one by default). */
export async function setup(options: SetupOptions = {}): Promise<Setup> {
  const dir = options.dir ?? join(mkdtempSync(join(tmpdir(), "spri-lane-")), "out.jsonl.batch");
  const cache = options.cache ?? new MemoryCallCache();
  const api = options.api ?? new FakeApi();
  const run = options.run ?? (await newRun(dir));
  const inner = batchable("m");
  const lane = new BatchLane({
    dir,
    cache,
    format: options.format ?? OPENAI_BATCH_FORMAT,
    apis: new Map([[inner.id, api]]),
    offline: options.offline,
    resultsFiles: options.resultsFiles,
    sleep: noSleep,
    maxLinesPerFile: options.maxLinesPerFile,
  });
  lane.useStateStore(options.state ?? runArtifactState(run.store, run.runId));
  const holder: { model?: CachedModel } = {};
  const model = new CachedModel(
    lane.collector(inner, (r: GenerateRequest) => holder.model!.keyOf(r)),
    cache,
  );
  holder.model = model;
  return { dir, cache, api, lane, model, run };
}

/** The same lane directory, cache, API and run: what a re-run of the command gets. */
export function rerun(s: Setup, options: SetupOptions = {}): Promise<Setup> {
  return setup({ dir: s.dir, cache: s.cache, api: s.api, run: s.run, ...options });
}

/** What the runner does: passes and flushes until a pass collects nothing. */
export async function drive(s: Setup, questions: string[], steps: number, signal?: AbortSignal) {
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
export async function state(s: Setup): Promise<LaneState> {
  assert.equal(existsSync(join(s.dir, "state.json")), false, "no state file");
  const stored = await s.run.store.getArtifact(s.run.runId, LANE_ARTIFACT);
  assert.ok(stored, "the run has the lane's state");
  return stored as LaneState;
}
