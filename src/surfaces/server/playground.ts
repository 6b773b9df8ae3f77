/**
 * The playground: one question through SPRI from the browser. Each question is a run of its own,
 * worked in this process by the runner (runner/single-item-run.ts), so it is cached, retried, traced
 * and stored like any `spri run` item, and the same question with the same settings again costs
 * nothing. The run comes from a factory that `spri view` builds from its own settings (flags,
 * environment, config file): a request chooses the task, model ids, τ and n_max, never an endpoint
 * or a key. Each run's events (every call as it ends, then done or error) are kept in memory and
 * streamed.
 */
import { randomUUID } from "node:crypto";
import { describeError } from "../../base/errors/errors.ts";
import type { CallRecord } from "../../io/records.ts";
import { type SingleItemEnd, type SingleItemRun, startSingleItemRun } from "../../runtime/runner/single-item-run.ts";
import type { WorkerRun } from "../../runtime/runner/worker.ts";
import type { RunStore } from "../../runtime/store/run-store.ts";
import type { FieldMapping } from "../../presets/tasks/task-item.ts";
import type { PlaygroundEvent, PlaygroundInfo, PlaygroundRequest } from "./api-types.ts";

/** What the factory gets: the request's choices, validated, and how its row is read. */
export interface PlaygroundChoice {
  task: string;
  baseModel?: string;
  criticModel?: string;
  threshold: number;
  maxCritiques: number;
  /** The fields of the question's row (recorded with the run, for `spri worker`). */
  mapping: FieldMapping;
}

export interface PlaygroundSetup {
  /** The algorithm, models and runner settings (cache, retries, budget, rate limits); closed when the run ends. */
  run: WorkerRun;
  /** The run's settings as stored (redacted: no keys). */
  settings: Record<string, unknown>;
  /** What `spri worker` needs to rebuild the run elsewhere (keyless); none: only this process can work it. */
  command?: unknown;
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
const KEPT_SESSIONS = 50;
const INPUT = "<playground>";

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

  /** Validates the request, creates the run and starts it; resolves once the run exists and has its worker. */
  async start(body: unknown): Promise<{ runId: string; itemId: string }> {
    const request = this.validate(body);
    if (this.active >= this.maxActive)
      throw new PlaygroundRequestError(`${this.maxActive} playground runs are already going; wait for one to finish`, 429);
    this.active++;
    let started: SingleItemRun;
    let session: Session;
    try {
      [started, session] = await this.begin(request);
    } catch (error) {
      this.active--;
      throw error;
    }
    const job = started.ended
      .then((end) => this.end(session, started, end))
      .finally(() => {
        this.active--;
        this.running.delete(job);
      });
    this.running.add(job);
    return { runId: started.runId, itemId: started.itemId };
  }

  /** The request's run, created and started, with its session (whose first event is `start`). */
  private async begin(request: PlaygroundRequest): Promise<[SingleItemRun, Session]> {
    const mapping: FieldMapping = {
      questionField: "question",
      idField: "id",
      goalField: request.goal === undefined ? undefined : "goal",
      referenceField: request.reference === undefined ? undefined : "reference",
    };
    let setup: PlaygroundSetup;
    try {
      setup = await this.factory({
        task: request.task ?? this.info.defaults.task,
        baseModel: request.baseModel,
        criticModel: request.criticModel,
        threshold: request.threshold ?? this.info.defaults.threshold,
        maxCritiques: request.maxCritiques ?? this.info.defaults.maxCritiques,
        mapping,
      });
    } catch (error) {
      throw new PlaygroundRequestError(describeError(error));
    }
    const row: Record<string, unknown> = { id: "1", question: request.question };
    if (request.goal !== undefined) row.goal = request.goal;
    if (request.reference !== undefined) row.reference = request.reference;
    const session: Session = { events: [], finished: false, listeners: new Set() };
    const { run } = setup;
    let index = 0;
    try {
      const started = await startSingleItemRun({
        store: this.store,
        key: `playground:${randomUUID()}`,
        inputPath: INPUT,
        row,
        mapping,
        run,
        settings: { ...setup.settings, playground: true },
        command: setup.command,
        onCreated: (runId, itemId) => {
          this.keep(runId, session);
          this.emit(session, {
            type: "start",
            runId,
            itemId,
            task: run.prepared.algorithm.name,
            baseModel: run.models.base.modelId,
            criticModel: run.models.critic.modelId,
            threshold: run.prepared.spri.threshold,
            maxCritiques: run.prepared.spri.maxCritiques,
          });
        },
        onCall: (call) => this.emit(session, callEvent(index++, call)),
      });
      return [started, session];
    } catch (error) {
      await run.close().catch(() => {});
      throw new PlaygroundRequestError(describeError(error));
    }
  }

  /** The last event (`done` or `error`), and the listeners told that the run is over. */
  private end(session: Session, started: SingleItemRun, end: SingleItemEnd): void {
    if (end.status === "done") {
      const { record } = end;
      this.emit(session, {
        type: "done",
        runId: started.runId,
        itemId: started.itemId,
        ...(typeof record.principle_final === "string" ? { principleFinal: record.principle_final } : {}),
        ...(typeof record.response_final === "string" ? { responseFinal: record.response_final } : {}),
      });
    } else {
      this.emit(session, { type: "error", message: end.reason });
    }
    session.finished = true;
    for (const listener of session.listeners) listener();
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

/** A call as the page shows it while the run goes on. */
function callEvent(index: number, call: CallRecord): PlaygroundEvent {
  return {
    type: "call",
    index,
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
  };
}
