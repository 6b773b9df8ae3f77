/**
 * The provider batch lane of `spri run --batch`: every model call goes through the OpenAI Batch API
 * (or, offline, through `vllm run-batch`), one batch per SPRI step, driven by the call cache. The
 * lane knows the provider only through the batch port (models/batch-provider.ts): the caller injects
 * its file format and its Batch API per model (the CLI chooses OpenAI's, models/openai-batch.ts).
 *
 * Rounds. In round r the runner runs every unfinished item through its algorithm with a collecting
 * model in place of the network model, under the `CachedModel`: a cache hit answers as usual; a miss
 * writes the request as a batch line (custom_id = the request's cache key, body = exactly what
 * `OpenAICompatibleModel.requestBody` would post) and throws `BatchPending`, which stops the item for
 * this round (not done, not failed). After the pass the lane submits the lines (upload with purpose
 * "batch", create with endpoint /v1/chat/completions and a 24h window), polls with backoff until the
 * batch ends, and puts every answer into the cache under its custom_id (batch-submission.ts). The next round's pass then
 * gets one step further on every item. A round that collects nothing ends the run. Identical requests
 * within a round (same cache key) go in once. A request the batch answered with an error fails its
 * item with that error (the item goes to the rejects file; re-running the command asks again),
 * except transient errors (5xx, 429, timeouts), which go into the next round again, up to twice;
 * lines an expired or cancelled batch never ran go into the next round too.
 *
 * Files, under `<output>.batch/` (batch-files.ts): the request lines, uploaded or handed to vLLM
 *   round-<r>.jsonl                one file per round (round-<r>-<i>.jsonl when a round needs several:
 *                                  one model per file, at most 50,000 lines and ~190 MB each)
 *   round-<r>.results.jsonl        offline: where to put `vllm run-batch`'s output (a suggestion)
 * Once a part's batch is submitted its file only tells which requests it holds (to count its answers
 * as paid, and to match an offline results file): losing it loses no work.
 *
 * State. Every round's parts (file, model, input file id, batch id, status, imported) live in the
 * run store, as the run's `batch-lane` artifact (batch-state.ts), never in a side file. The state is
 * saved, atomically and in order, after each step (written, uploaded, submitted, every status
 * change, imported), and the lane goes on only once the save is done. Re-running the same command
 * first resumes every batch that was submitted but not imported (polling the same batch, never
 * submitting again); a file uploaded whose batch id was not saved is looked up among the account's
 * batches by input file id before anything is created. Answers already imported are in the cache,
 * so nothing is paid twice. An older spri's `state.json` in the directory is imported once.
 *
 * Offline (`--batch-offline`): the round's files are written and the run ends awaiting them; run each
 * with `vllm run-batch -i round-<r>.jsonl -o <results> --model <id>`, then re-run the command with
 * `--batch-results <results>` (repeatable), which imports the answers and goes on with the next round.
 *
 * Accounting. Answers that came from this output's batches are paid calls, not cache hits: an item's
 * final pass claims each such answer once (`itemModels`, batch-answers.ts), so records and the
 * run's spend show their tokens; an item that stops for a round gives its claims back.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import type { BatchApi, BatchFormat, BatchLineResult } from "../../models/batch-provider.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../../models/language-model.ts";
import type { CallCache } from "../store/call-cache.ts";
import { BatchAnswers } from "./batch-answers.ts";
import { removeTempFiles, RoundFiles, requestKeys } from "./batch-files.ts";
import { emptyState, type LaneState, type LaneStateStore, loadState, type PartState, type RoundState } from "./batch-state.ts";
import { type PartContext, settlePart, submitPart } from "./batch-submission.ts";

/** Thrown by the collecting model: the request went into this round's batch; the item waits. */
export class BatchPending extends Error {
  readonly key: string;
  constructor(key: string) {
    super("the request waits for the next batch round");
    this.name = "BatchPending";
    this.key = key;
  }
}

/** A model whose requests can go into a batch file: OpenAI-compatible models. */
export interface BatchableModel extends LanguageModel {
  requestBody(request: GenerateRequest): Record<string, unknown>;
}

export function isBatchable(model: LanguageModel): model is BatchableModel {
  return typeof (model as Partial<BatchableModel>).requestBody === "function";
}

export interface BatchLaneOptions {
  /** `<output>.batch`. */
  dir: string;
  cache: CallCache;
  /** How requests become lines of a file and results are read back: the provider's, chosen by the caller (e.g. OpenAI's). */
  format: BatchFormat;
  /** Write the files and stop; never submit. */
  offline?: boolean;
  /** The Batch API serving each model, by `LanguageModel.id`. Needed unless offline. */
  apis?: ReadonlyMap<string, BatchApi>;
  /** Seconds before the first poll of a batch; later polls back off up to 10 times this. Default 30. */
  pollSeconds?: number;
  /** Results files (OpenAI batch output JSONL) to import before the first round. */
  resultsFiles?: readonly string[];
  log?: (line: string) => void;
  /** For tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** For tests; default the format's limits. */
  maxLinesPerFile?: number;
  maxBytesPerFile?: number;
}

export interface OfflinePart {
  /** Absolute or as-given path of the request file. */
  file: string;
  /** Where the command suggests the results go. */
  results: string;
  model: string;
  lines: number;
}

export type FlushResult =
  | { kind: "submitted"; round: number; parts: number; lines: number; answered: number; failed: number }
  | { kind: "offline"; round: number; parts: OfflinePart[] }
  | { kind: "interrupted"; round: number };

export class BatchLane {
  readonly dir: string;
  /** Rounds submitted (or written, offline) by this process. */
  roundsRun = 0;
  private readonly options: BatchLaneOptions;
  private state: LaneState = emptyState();
  private stateStore: LaneStateStore | undefined;
  /** The last save queued: saves run one after another, so a later state is never overwritten by an earlier one. */
  private saving: Promise<void> = Promise.resolve();
  private round = 1;
  private readonly models = new Map<string, BatchableModel>();
  private collected = new Set<string>();
  private readonly files: RoundFiles<BatchableModel>;
  /** What the batches answered: fresh (paid) answers, failures, transient retries. */
  private readonly answers: BatchAnswers;
  private started = false;

  constructor(options: BatchLaneOptions) {
    this.options = options;
    this.dir = options.dir;
    this.answers = new BatchAnswers(options.cache);
    this.files = new RoundFiles(options.dir, {
      maxLines: options.maxLinesPerFile ?? options.format.maxLines,
      maxBytes: options.maxBytesPerFile ?? options.format.maxBytes,
    });
  }

  /**
   * Where the lane's state lives (the run's artifact, see `runArtifactState`). Set it before
   * `start`; it is separate from the constructor so that a lane can check its configuration before
   * the run it belongs to exists.
   */
  useStateStore(store: LaneStateStore): void {
    this.stateStore = store;
  }

  /** The round the next pass collects for. */
  get currentRound(): number {
    return this.round;
  }

  /** Requests collected in the current round. */
  get collectedCount(): number {
    return this.collected.size;
  }

  /** The model to put under the `CachedModel` in place of `model`: misses become batch lines. */
  collector(model: BatchableModel, keyOf: (request: GenerateRequest) => string): LanguageModel {
    this.models.set(model.id, model);
    return {
      id: model.id,
      modelId: model.modelId,
      capabilities: model.capabilities,
      generate: async (request: GenerateRequest): Promise<GenerateResult> => {
        const key = keyOf(request);
        const failure = this.answers.failure(key);
        if (failure) throw failure;
        this.collect(key, model, request);
        throw new BatchPending(key);
      },
    };
  }

  /** See `BatchAnswers.itemModels`: an item's pass claims the answers this output's batches produced. */
  itemModels<M extends Record<string, LanguageModel & { keyOf(request: GenerateRequest): string }>>(
    models: M,
  ): { models: M; settle(final: boolean): void } {
    return this.answers.itemModels(models);
  }

  /**
   * Loads the state, resumes batches submitted by an earlier process (polling them, never
   * submitting again), and imports the given results files. Call once, after `collector` and
   * `useStateStore`.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.started) return;
    if (!this.stateStore) throw new Error("BatchLane.start needs useStateStore first");
    this.started = true;
    mkdirSync(this.dir, { recursive: true });
    this.state = await loadState(this.stateStore, this.dir);
    for (const round of this.state.rounds) {
      for (const part of round.parts) {
        if (part.imported && (part.batchId || part.resultsFile)) this.answers.addFresh(this.keysOf(part));
      }
    }
    const waiting = this.state.rounds.flatMap((round) =>
      round.parts.filter((part) => part.batchId && !part.imported).map((part) => ({ round: round.round, part })),
    );
    if (waiting.length > 0) {
      this.log(
        `resuming ${waiting.length} batch(es) submitted earlier: ${waiting.map((w) => `${w.part.batchId} (round ${w.round})`).join(", ")}`,
      );
      await Promise.all(waiting.map(async (w) => settlePart(this.onApi(w.round, w.part), signal)));
    }
    for (const file of this.options.resultsFiles ?? []) await this.importResultsFile(file);
    const last = this.state.rounds.at(-1);
    this.round = last === undefined ? 1 : last.parts.some((part) => part.imported) ? last.round + 1 : last.round;
  }

  /** Starts collecting a round. */
  beginRound(): void {
    this.files.close(true);
    this.collected = new Set();
    mkdirSync(this.dir, { recursive: true });
    removeTempFiles(this.dir);
  }

  /**
   * Ends the round: writes its files and, unless offline, submits them, waits for the batches and
   * imports their answers into the cache. Rejects with a ModelError when a batch fails as a whole.
   */
  async flushRound(signal?: AbortSignal): Promise<FlushResult> {
    const round = this.round;
    const writers = this.files.close(false);
    const previous = this.state.rounds.find((r) => r.round === round);
    if (previous?.parts.some((p) => p.batchId || p.imported)) throw new Error(`batch round ${round} was already submitted`);
    const names = writers.length === 1 ? [`round-${round}.jsonl`] : writers.map((_, i) => `round-${round}-${i + 1}.jsonl`);
    for (const old of previous?.parts ?? []) if (!names.includes(old.file)) rmSync(join(this.dir, old.file), { force: true });
    const parts: PartState[] = writers.map((writer, i) => {
      renameSync(writer.tmp, join(this.dir, names[i]!));
      const digest = createHash("sha256")
        .update([...writer.keys].sort().join("\n"))
        .digest("hex");
      const part: PartState = {
        file: names[i]!,
        endpoint: writer.model.id,
        model: writer.model.modelId,
        lines: writer.lines,
        digest,
        status: "written",
        imported: false,
      };
      // The same requests as an upload an earlier process made: reuse that file (and find its batch).
      const same = previous?.parts.find((p) => p.endpoint === part.endpoint && p.digest === digest && p.inputFileId);
      if (same?.inputFileId && !this.options.offline) Object.assign(part, { inputFileId: same.inputFileId, status: "uploaded" });
      return part;
    });
    const entry: RoundState = { round, parts };
    if (previous) this.state.rounds[this.state.rounds.indexOf(previous)] = entry;
    else this.state.rounds.push(entry);
    await this.saveState();
    this.roundsRun++;
    const lines = parts.reduce((sum, p) => sum + p.lines, 0);

    if (this.options.offline) {
      this.log(`batch round ${round}: ${lines} request(s) written to ${parts.map((p) => join(this.dir, p.file)).join(", ")}`);
      return {
        kind: "offline",
        round,
        parts: parts.map((p) => ({
          file: join(this.dir, p.file),
          results: join(this.dir, p.file.replace(/\.jsonl$/, ".results.jsonl")),
          model: p.model,
          lines: p.lines,
        })),
      };
    }

    try {
      for (const part of parts) await submitPart(this.onApi(round, part), signal);
      const settled = await Promise.all(parts.map(async (part) => settlePart(this.onApi(round, part), signal)));
      this.round++;
      return {
        kind: "submitted",
        round,
        parts: parts.length,
        lines,
        answered: settled.reduce((sum, s) => sum + s.answered, 0),
        failed: settled.reduce((sum, s) => sum + s.failed, 0),
      };
    } catch (error) {
      if (signal?.aborted) return { kind: "interrupted", round };
      throw error;
    }
  }

  /** Imports one results file (OpenAI batch output JSONL, e.g. from `vllm run-batch`) into the cache. */
  async importResultsFile(file: string): Promise<{ answered: number; failed: number; unmatched: number }> {
    if (!existsSync(file))
      throw new InputError("batch results file does not exist", {
        file,
        hint: "give the -o file of `vllm run-batch` (or a batch's output file)",
      });
    const owners = new Map<string, PartState>();
    for (const round of this.state.rounds) for (const part of round.parts) for (const key of this.keysOf(part)) owners.set(key, part);
    const results = this.options.format.parseResults(readFileSync(file, "utf8"), file);
    const touched = new Set<PartState>();
    let unmatched = 0;
    const owned: { result: BatchLineResult; part: PartState }[] = [];
    for (const result of results) {
      const part = owners.get(result.customId);
      if (part) owned.push({ result, part });
      else unmatched++;
    }
    if (results.length > 0 && owned.length === 0) {
      throw new InputError(`none of the ${results.length} results answers a request of the batch rounds in ${this.dir}`, {
        file,
        hint: "give the output of `vllm run-batch` for a round file this command wrote",
      });
    }
    const counts = await this.answers.import(
      owned.map((o) => o.result),
      (key) => owners.get(key)!,
    );
    for (const { part } of owned) touched.add(part);
    for (const part of touched) {
      if (part.imported) continue;
      Object.assign(part, { imported: true, status: "imported", resultsFile: file });
    }
    await this.saveState();
    this.log(
      `imported ${counts.answered} answer(s) and ${counts.failed} error(s) from ${file}${unmatched ? `; ${unmatched} result(s) matched no request and were ignored` : ""}`,
    );
    return { ...counts, unmatched };
  }

  private collect(key: string, model: BatchableModel, request: GenerateRequest): void {
    if (this.collected.has(key)) return;
    this.collected.add(key);
    this.files.add(this.round, model, key, `${this.options.format.requestLine(key, model.requestBody(request))}\n`);
  }

  /** What handling `part` of `round` on its Batch API needs. */
  private onApi(round: number, part: PartState): PartContext {
    const { format, pollSeconds, sleep } = this.options;
    const api = this.apiFor(part.endpoint);
    return {
      round,
      part,
      api,
      format,
      answers: this.answers,
      dir: this.dir,
      save: () => this.saveState(),
      log: (line) => this.log(line),
      pollSeconds,
      sleep,
    };
  }

  private apiFor(endpoint: string): BatchApi {
    const api = this.options.apis?.get(endpoint);
    if (!api) {
      throw new ConfigError(`no Batch API for ${endpoint}`, {
        hint: "submit with --batch and an OpenAI-compatible endpoint, or use --batch-offline",
      });
    }
    return api;
  }

  private keysOf(part: PartState): string[] {
    return requestKeys(join(this.dir, part.file), this.options.format);
  }

  /** Saves a snapshot of the state as it is now, after every save queued before it. */
  private saveState(): Promise<void> {
    const store = this.stateStore!;
    const snapshot = structuredClone(this.state);
    const saved = this.saving.then(() => store.save(snapshot));
    this.saving = saved.catch(() => {});
    return saved;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}
