/**
 * The OpenAI Files and fine-tuning jobs APIs, as a responder of the fake model server, for the
 * `openai` trainer: a job runs for `pollsRunning` reads (or while `hold` is set), then succeeds
 * with a `fine_tuned_model` that the chat endpoint answers with `fineTuned` instead of `answer`,
 * so a test sees the new model answer differently.
 *
 *   POST /v1/files                          multipart upload (purpose "fine-tune")
 *   POST /v1/fine_tuning/jobs               create (model, training_file, validation_file, suffix, seed)
 *   GET  /v1/fine_tuning/jobs/:id           the job; each read advances it
 *   GET  /v1/fine_tuning/jobs               list, newest first
 *   GET  /v1/fine_tuning/jobs/:id/events    events, newest first
 *   POST /v1/chat/completions               `fineTuned` for a fine-tuned model, else `answer`
 *
 * `events` emits `job-created` (the job) once a job is created, for a test to act on it; every other
 * route goes to `otherwise` (e.g. `/v1/embeddings`), else 404.
 */
import { EventEmitter } from "node:events";
import { parseMultipart } from "./fake-batch-api.ts";
import { type FakeReply, json, type RecordedRequest, type Responder } from "./fake-replies.ts";
import { startFakeModelServer } from "./fake-model-server.ts";

export interface FakeFineTuningJob {
  id: string;
  object: "fine_tuning.job";
  model: string;
  training_file: string;
  validation_file: string | null;
  status: string;
  fine_tuned_model: string | null;
  trained_tokens: number | null;
  created_at: number;
  error: null | { code: string; message: string; param: string | null };
  seed: number;
  suffix: string | null;
}

export interface FakeFineTuningApiOptions {
  /** Answers chat completions of every model that is not fine-tuned here. */
  answer: Responder;
  /** Answers chat completions of the fine-tuned models. */
  fineTuned: Responder;
  /** Reads of a job that answer `running` before it succeeds. Default 1. */
  pollsRunning?: number;
  /** Answers the routes above do not know. */
  otherwise?: Responder;
}

export interface FakeFineTuningApi {
  readonly respond: Responder;
  /** Uploaded files by id: purpose and content. */
  readonly files: Map<string, { purpose: string; content: string }>;
  readonly jobs: Map<string, FakeFineTuningJob>;
  /** Every request, as `METHOD /path`, in arrival order. */
  readonly log: string[];
  readonly events: EventEmitter;
  /** While true, jobs stay `running`. */
  hold: boolean;
}

export function fakeFineTuningApi(options: FakeFineTuningApiOptions): FakeFineTuningApi {
  const pollsRunning = options.pollsRunning ?? 1;
  const jobEvents = new Map<
    string,
    { id: string; object: string; created_at: number; level: string; message: string; type: string; data: unknown }[]
  >();
  const polls = new Map<string, number>();
  let seq = 0;
  const api: FakeFineTuningApi = {
    respond: (request) => route(request),
    files: new Map(),
    jobs: new Map(),
    log: [],
    events: new EventEmitter(),
    hold: false,
  };
  const addEvent = (job: FakeFineTuningJob, message: string, data: unknown = {}) => {
    const list = jobEvents.get(job.id) ?? [];
    list.push({
      id: `ftevent-${++seq}`,
      object: "fine_tuning.job.event",
      created_at: 1_700_000_000 + seq,
      level: "info",
      message,
      type: "message",
      data,
    });
    jobEvents.set(job.id, list);
  };
  const fineTunedModels = () => new Set([...api.jobs.values()].map((j) => j.fine_tuned_model).filter(Boolean));

  const upload = (request: RecordedRequest): FakeReply => {
    const form = parseMultipart(request.rawBody, String(request.headers["content-type"] ?? ""));
    const file = form.get("file");
    if (!file) return json(400, { error: { message: "no file part" } });
    const id = `file-${++seq}`;
    const purpose = form.get("purpose")?.content ?? "";
    api.files.set(id, { purpose, content: file.content });
    return json(200, {
      id,
      object: "file",
      bytes: Buffer.byteLength(file.content),
      created_at: 1_700_000_000,
      filename: file.filename ?? "upload.jsonl",
      purpose,
      status: "processed",
    });
  };

  const create = (request: RecordedRequest): FakeReply => {
    const body = (request.body ?? {}) as {
      model?: string;
      training_file?: string;
      validation_file?: string;
      suffix?: string;
      seed?: number;
    };
    if (!body.training_file || !api.files.has(body.training_file))
      return json(400, { error: { message: `no such file: ${String(body.training_file)}` } });
    if (body.validation_file && !api.files.has(body.validation_file))
      return json(400, { error: { message: `no such file: ${body.validation_file}` } });
    const job: FakeFineTuningJob = {
      id: `ftjob-${++seq}`,
      object: "fine_tuning.job",
      model: body.model ?? "",
      training_file: body.training_file,
      validation_file: body.validation_file ?? null,
      status: "validating_files",
      fine_tuned_model: null,
      trained_tokens: null,
      created_at: 1_700_000_000 + seq,
      error: null,
      seed: body.seed ?? 0,
      suffix: body.suffix ?? null,
    };
    api.jobs.set(job.id, job);
    addEvent(job, `Created fine-tuning job: ${job.id}`);
    api.events.emit("job-created", job);
    return json(200, job);
  };

  /** A read of a job: running while held or for the first reads, then succeeded. */
  const poll = (job: FakeFineTuningJob): FakeReply => {
    const reads = (polls.get(job.id) ?? 0) + 1;
    polls.set(job.id, reads);
    if (job.status === "succeeded") return json(200, job);
    if (api.hold || reads <= pollsRunning) {
      if (job.status !== "running") addEvent(job, "Fine-tuning job started");
      job.status = "running";
      return json(200, job);
    }
    const lines = api.files
      .get(job.training_file)!
      .content.split("\n")
      .filter((l) => l.trim() !== "");
    addEvent(job, `Step ${lines.length}/${lines.length}: training loss=0.5`, { step: lines.length, total_steps: lines.length });
    job.status = "succeeded";
    job.trained_tokens = 1000 * lines.length;
    job.fine_tuned_model = `ft:${job.model}:spri:${job.suffix ?? "model"}:${job.id}`;
    addEvent(job, "The job has successfully completed");
    return json(200, job);
  };

  const route = async (request: RecordedRequest): Promise<FakeReply> => {
    const { method, path } = request;
    api.log.push(`${method} ${path}`);
    if (method === "POST" && path === "/v1/chat/completions") {
      const model = (request.body as { model?: string } | undefined)?.model;
      return fineTunedModels().has(model ?? "") ? options.fineTuned(request) : options.answer(request);
    }
    if (method === "POST" && path === "/v1/files") return upload(request);
    if (method === "POST" && path === "/v1/fine_tuning/jobs") return create(request);
    if (method === "GET" && path === "/v1/fine_tuning/jobs") {
      const data = [...api.jobs.values()].reverse();
      return json(200, { object: "list", data, has_more: false });
    }
    const events = /^\/v1\/fine_tuning\/jobs\/([^/]+)\/events$/.exec(path);
    if (method === "GET" && events) {
      const list = jobEvents.get(events[1]!);
      return list
        ? json(200, { object: "list", data: [...list].reverse(), has_more: false })
        : json(404, { error: { message: "no such job" } });
    }
    const one = /^\/v1\/fine_tuning\/jobs\/([^/]+)$/.exec(path);
    if (method === "GET" && one) {
      const job = api.jobs.get(one[1]!);
      return job ? poll(job) : json(404, { error: { message: "no such job" } });
    }
    return options.otherwise ? options.otherwise(request) : json(404, { error: { message: `no route for ${method} ${path}` } });
  };
  return api;
}

export interface FakeFineTuningServer extends Omit<FakeFineTuningApi, "respond"> {
  /** `http://127.0.0.1:<port>`, no `/v1`. */
  readonly url: string;
  /** Every request received, with its body, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/** A fake model server that plays the fine-tuning API and answers chat completions per model. */
export async function startFakeFineTuningServer(options: FakeFineTuningApiOptions): Promise<FakeFineTuningServer> {
  const api = fakeFineTuningApi(options);
  const server = await startFakeModelServer({ respond: api.respond });
  return Object.assign(api, { url: server.url, requests: server.requests, close: () => server.close() });
}
