/**
 * The playground: one question through SPRI from the browser, saved as a run of one item. The
 * models come from a factory that `spri view` builds from its own settings (flags, environment,
 * config file): a request chooses the task, model ids, τ and n_max, never an endpoint or a key.
 * Each run's events (every call as it ends, then done or error) are kept in memory and streamed.
 */
import { randomUUID } from "node:crypto";
import { SpriError } from "../errors/errors.ts";
import type { CallRecord, ItemRecord } from "../io/records.ts";
import type { SpriModels } from "../algorithm/item-algorithm.ts";
import { Heartbeat } from "../runner/heartbeat.ts";
import type { RunStore, StoredCall } from "../store/run-store.ts";
import { thisWorker } from "../store/work-queue.ts";
import type { PreparedTask } from "../tasks/prepare.ts";
import { toTaskItem } from "../tasks/task-item.ts";
import type { PlaygroundEvent, PlaygroundInfo, PlaygroundRequest } from "./api-types.ts";

/** What the factory gets: the request's choices, validated. */
export interface PlaygroundChoice {
  task: string;
  baseModel?: string;
  criticModel?: string;
  threshold: number;
  maxCritiques: number;
}

export interface PlaygroundSetup {
  prepared: PreparedTask;
  models: SpriModels;
  /** The run's settings as stored (redacted: no keys). */
  settings: Record<string, unknown>;
  close(): Promise<void>;
}

export interface PlaygroundOptions {
  info: PlaygroundInfo;
  factory: (choice: PlaygroundChoice) => Promise<PlaygroundSetup>;
  /** Playground runs at once (default 2). */
  maxActive?: number;
}

/** A request the server refuses with 400 (bad input) or 429 (too many at once). */
export class PlaygroundRequestError extends Error {
  readonly status: 400 | 429;
  constructor(message: string, status: 400 | 429 = 400) {
    super(message);
    this.status = status;
  }
}

interface Session {
  events: PlaygroundEvent[];
  finished: boolean;
  listeners: Set<() => void>;
}

const MAX_QUESTION = 20_000;
/** The playground's worker proves itself alive every third of this (see runner/heartbeat.ts). */
const WORKER_LEASE_MS = 30_000;
const KEPT_SESSIONS = 50;

function describe(error: unknown): string {
  if (error instanceof SpriError) return error.describe();
  return error instanceof Error ? error.message : String(error);
}

export class Playground {
  readonly info: PlaygroundInfo;
  private readonly factory: PlaygroundOptions["factory"];
  private readonly maxActive: number;
  private readonly sessions = new Map<string, Session>();
  private readonly store: RunStore;
  private active = 0;
  /** Runs in flight, so a server closing can wait for them. */
  private readonly running = new Set<Promise<void>>();

  constructor(store: RunStore, options: PlaygroundOptions) {
    this.store = store;
    this.info = options.info;
    this.factory = options.factory;
    this.maxActive = options.maxActive ?? 2;
  }

  /** Validates the request, creates the run and starts it; resolves once the run exists. */
  async start(body: unknown): Promise<{ runId: string; itemId: string }> {
    const request = this.validate(body);
    if (this.active >= this.maxActive)
      throw new PlaygroundRequestError(`${this.maxActive} playground runs are already going; wait for one to finish`, 429);
    this.active++;
    let setup: PlaygroundSetup;
    try {
      setup = await this.factory({
        task: request.task ?? this.info.defaults.task,
        baseModel: request.baseModel,
        criticModel: request.criticModel,
        threshold: request.threshold ?? this.info.defaults.threshold,
        maxCritiques: request.maxCritiques ?? this.info.defaults.maxCritiques,
      });
    } catch (error) {
      this.active--;
      throw new PlaygroundRequestError(describe(error));
    }
    const itemId = "1";
    const workerId = randomUUID();
    const row: Record<string, unknown> = { id: itemId, question: request.question };
    if (request.goal !== undefined) row.goal = request.goal;
    if (request.reference !== undefined) row.reference = request.reference;
    let runId: string;
    try {
      const item = toTaskItem(
        setup.prepared.task,
        row,
        {
          questionField: "question",
          idField: "id",
          goalField: request.goal === undefined ? undefined : "goal",
          referenceField: request.reference === undefined ? undefined : "reference",
        },
        { file: "<playground>", line: 1 },
      );
      const run = await this.store.createRun({
        key: `playground:${randomUUID()}`,
        task: setup.prepared.algorithm.name,
        settings: { ...setup.settings, playground: true },
        inputPath: "<playground>",
        baseModel: setup.models.base.id,
        criticModel: setup.models.critic.id,
      });
      runId = run.id;
      // This process works the run: with a worker of its own it is never taken for an interrupted one.
      await this.store.registerWorker(thisWorker(workerId, runId));
      await this.store.setItemStatus(runId, itemId, "pending");
      const session: Session = { events: [], finished: false, listeners: new Set() };
      this.keep(runId, session);
      this.emit(session, {
        type: "start",
        runId,
        itemId,
        task: setup.prepared.algorithm.name,
        baseModel: setup.models.base.modelId,
        criticModel: setup.models.critic.modelId,
        threshold: setup.prepared.spri.threshold,
        maxCritiques: setup.prepared.spri.maxCritiques,
      });
      const job = this.execute(runId, workerId, item, row, setup, session).finally(() => {
        this.active--;
        this.running.delete(job);
      });
      this.running.add(job);
    } catch (error) {
      this.active--;
      await setup.close().catch(() => {});
      throw new PlaygroundRequestError(describe(error));
    }
    return { runId, itemId };
  }

  private validate(body: unknown): PlaygroundRequest {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new PlaygroundRequestError("send a JSON object");
    const b = body as Record<string, unknown>;
    const optionalString = (name: string, max = 200): string | undefined => {
      const value = b[name];
      if (value === undefined || value === null || value === "") return undefined;
      if (typeof value !== "string" || value.length > max)
        throw new PlaygroundRequestError(`${name} must be a string of at most ${max} characters`);
      return value;
    };
    const optionalNumber = (name: string, min: number, max: number, integer: boolean): number | undefined => {
      const value = b[name];
      if (value === undefined || value === null || value === "") return undefined;
      const n = typeof value === "number" ? value : Number(value);
      if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
        throw new PlaygroundRequestError(`${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
      }
      return n;
    };
    const question = b.question;
    if (typeof question !== "string" || question.trim() === "") throw new PlaygroundRequestError("question must be a non-empty string");
    if (question.length > MAX_QUESTION) throw new PlaygroundRequestError(`question must be at most ${MAX_QUESTION} characters`);
    const task = optionalString("task");
    if (task !== undefined && !this.info.tasks.includes(task))
      throw new PlaygroundRequestError(`task must be one of ${this.info.tasks.join(", ")}`);
    const model = /^[\w.:/@+-]+$/;
    const baseModel = optionalString("baseModel");
    const criticModel = optionalString("criticModel");
    for (const [name, value] of [
      ["baseModel", baseModel],
      ["criticModel", criticModel],
    ] as const) {
      if (value !== undefined && (!model.test(value) || value.endsWith(".gguf") || value.startsWith("hf:") || value.startsWith("gguf:"))) {
        throw new PlaygroundRequestError(`${name} must be a model id (letters, digits and . : / @ + - _), not a file`);
      }
    }
    return {
      question,
      task,
      baseModel,
      criticModel,
      threshold: optionalNumber("threshold", 1, 5, false),
      maxCritiques: optionalNumber("maxCritiques", 1, 10, true),
      goal: optionalString("goal", MAX_QUESTION),
      reference: optionalString("reference", MAX_QUESTION),
    };
  }

  private async execute(
    runId: string,
    workerId: string,
    item: ReturnType<typeof toTaskItem>,
    row: Record<string, unknown>,
    setup: PlaygroundSetup,
    session: Session,
  ): Promise<void> {
    const heartbeat = new Heartbeat({ store: this.store, workerId, leaseMs: WORKER_LEASE_MS });
    heartbeat.start();
    const calls: CallRecord[] = [];
    let index = 0;
    // Calls are stored as they end (the item page shows them while the run goes on), in order.
    let writes = Promise.resolve();
    const store = (call: CallRecord) => {
      writes = writes.then(() => this.store.recordCalls([{ ...call, runId } as StoredCall])).catch(() => {});
    };
    try {
      const outcome = await setup.prepared.algorithm.run(item, setup.models, {
        itemId: item.id,
        runId,
        onCall: (call) => {
          calls.push(call);
          // The critic's score is attached to the record right after the call returns: report it
          // once the microtasks that do that have run.
          setImmediate(() => {
            store(call);
            this.emit(session, {
              type: "call",
              index: index++,
              step: call.step,
              iteration: call.iteration,
              attempt: call.attempt,
              role: call.role,
              model: call.model,
              response: call.response,
              ...(call.parsed ? { score: call.parsed.score ?? null } : {}),
              latencyMs: call.latencyMs,
              inputTokens: call.usage.inputTokens,
              outputTokens: call.usage.outputTokens,
              ...(call.error !== undefined ? { error: call.error } : {}),
            });
          });
        },
      });
      await new Promise<void>((resolve) => setImmediate(resolve));
      await writes;
      const record: ItemRecord = { ...row, ...outcome.fields, spri_usage: usageOf(calls) };
      await this.store.setItemStatus(runId, item.id, "done", { record });
      await this.store.updateRun(runId, { status: "completed" });
      this.emit(session, {
        type: "done",
        runId,
        itemId: item.id,
        ...(typeof record.principle_final === "string" ? { principleFinal: record.principle_final } : {}),
        ...(typeof record.response_final === "string" ? { responseFinal: record.response_final } : {}),
      });
    } catch (error) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      await writes;
      const reason = describe(error);
      await this.store.setItemStatus(runId, item.id, "failed", { reason }).catch(() => {});
      await this.store.updateRun(runId, { status: "failed" }).catch(() => {});
      this.emit(session, { type: "error", message: reason });
    } finally {
      await heartbeat.stop();
      await this.store.stopWorker(workerId).catch(() => {});
      session.finished = true;
      for (const listener of session.listeners) listener();
      await setup.close().catch(() => {});
    }
  }

  private keep(runId: string, session: Session): void {
    this.sessions.set(runId, session);
    for (const [id, old] of this.sessions) {
      if (this.sessions.size <= KEPT_SESSIONS) break;
      if (old.finished) this.sessions.delete(id);
    }
  }

  private emit(session: Session, event: PlaygroundEvent): void {
    session.events.push(event);
    for (const listener of session.listeners) listener();
  }

  has(runId: string): boolean {
    return this.sessions.has(runId);
  }

  /**
   * The run's events from the first, then live ones, until it finishes or `signal` aborts.
   */
  async *events(runId: string, signal?: AbortSignal): AsyncGenerator<PlaygroundEvent> {
    const session = this.sessions.get(runId);
    if (!session) return;
    let next = 0;
    while (true) {
      while (next < session.events.length) yield session.events[next++]!;
      if (session.finished || signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          session.listeners.delete(wake);
          signal?.removeEventListener("abort", wake);
          resolve();
        };
        session.listeners.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /** Waits for the runs in flight (for tests and a clean shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

function usageOf(calls: readonly CallRecord[]): Record<string, number | null> {
  let inputTokens = 0;
  let outputTokens = 0;
  let cached = 0;
  for (const call of calls) {
    if (call.cacheHit) cached++;
    else {
      inputTokens += call.usage.inputTokens;
      outputTokens += call.usage.outputTokens;
    }
  }
  return { calls: calls.length, cached_calls: cached, input_tokens: inputTokens, output_tokens: outputTokens, cost_usd: null };
}
