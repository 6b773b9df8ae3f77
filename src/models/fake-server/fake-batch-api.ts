/**
 * The OpenAI Files and Batches APIs, as a responder of the fake model server, for `spri run
 * --batch`: each batch line is answered by a chat-completions responder (e.g. `answerWith(model)`)
 * when the batch completes.
 *
 *   POST /v1/files                 multipart upload (purpose "batch")
 *   GET  /v1/files/:id/content     the file's text
 *   POST /v1/batches               create (input_file_id, endpoint, completion_window, metadata)
 *   GET  /v1/batches/:id           in_progress for the first `pollsInProgress` reads, then completed
 *   GET  /v1/batches               list, newest first
 *   POST /v1/chat/completions      answered directly too, and counted (batch runs should send none)
 *
 * Non-2xx answers go to the batch's error file, as OpenAI does. `hold = true` keeps every batch
 * in_progress until it is set back to false, and `holdFrom = n` keeps the n-th batch created and
 * later ones in_progress (to kill a client while it polls a given round).
 */
import { type FakeReply, json, raw, type RecordedRequest, type Responder } from "./fake-replies.ts";
import { startFakeModelServer } from "./fake-model-server.ts";

export interface FakeFile {
  id: string;
  purpose: string;
  filename: string;
  content: string;
}

export interface FakeBatch {
  id: string;
  object: "batch";
  endpoint: string;
  input_file_id: string;
  completion_window: string;
  status: string;
  output_file_id: string | null;
  error_file_id: string | null;
  errors: null | { object: "list"; data: { code: string; message: string; line: number | null }[] };
  created_at: number;
  metadata: Record<string, string> | null;
  request_counts: { total: number; completed: number; failed: number };
  /** Reads of this batch so far (not part of the API). */
  polls: number;
}

export interface FakeBatchApiOptions {
  /** Answers each batch line (and direct chat completions). */
  answer: Responder;
  /** Reads of a batch that answer in_progress before it completes. Default 1. */
  pollsInProgress?: number;
}

export interface FakeBatchApi {
  readonly respond: Responder;
  readonly files: Map<string, FakeFile>;
  readonly batches: Map<string, FakeBatch>;
  /** Every request, as `METHOD /path`, in arrival order. */
  readonly log: string[];
  /** Requests to /v1/chat/completions (outside any batch). */
  chatCompletions: number;
  /** While true, batches stay in_progress. */
  hold: boolean;
  /** Batches created n-th (from 1) or later stay in_progress while this is set. */
  holdFrom?: number;
}

export interface FakeBatchServer extends Omit<FakeBatchApi, "respond"> {
  /** `http://127.0.0.1:<port>`, no `/v1`. */
  readonly url: string;
  close(): Promise<void>;
}

const noSuch = (what: string) => json(404, { error: { message: `no such ${what}` } });

export function fakeBatchApi(options: FakeBatchApiOptions): FakeBatchApi {
  const pollsInProgress = options.pollsInProgress ?? 1;
  let seq = 0;
  const api: FakeBatchApi = {
    respond: (request) => route(request),
    files: new Map(),
    batches: new Map(),
    log: [],
    chatCompletions: 0,
    hold: false,
  };

  const addFile = (purpose: string, filename: string, content: string): FakeFile => {
    const file = { id: `file-${++seq}`, purpose, filename, content };
    api.files.set(file.id, file);
    return file;
  };

  /** Answers every line of the batch's input file into an output file and an error file. */
  const complete = async (batch: FakeBatch): Promise<void> => {
    const out: string[] = [];
    const errors: string[] = [];
    for (const line of linesOf(api.files.get(batch.input_file_id)!.content)) {
      const request = JSON.parse(line) as { custom_id: string; url: string; body: unknown };
      const reply = await options.answer(lineRequest(request.url, request.body));
      const id = `batch_req_${++seq}`;
      const result = resultLine(id, request.custom_id, `req_${seq}`, reply);
      (reply.kind === "json" && reply.status >= 200 && reply.status < 300 ? out : errors).push(result);
    }
    batch.status = "completed";
    batch.request_counts = { total: out.length + errors.length, completed: out.length, failed: errors.length };
    if (out.length > 0) batch.output_file_id = addFile("batch_output", "output.jsonl", `${out.join("\n")}\n`).id;
    if (errors.length > 0) batch.error_file_id = addFile("batch_output", "errors.jsonl", `${errors.join("\n")}\n`).id;
  };

  const upload = (request: RecordedRequest): FakeReply => {
    const form = parseMultipart(request.rawBody, String(request.headers["content-type"] ?? ""));
    const file = form.get("file");
    if (!file) return json(400, { error: { message: "no file part" } });
    const created = addFile(form.get("purpose")?.content ?? "", file.filename ?? "upload.jsonl", file.content);
    const { id, filename, purpose } = created;
    return json(200, {
      id,
      object: "file",
      bytes: Buffer.byteLength(created.content),
      created_at: 1_700_000_000,
      filename,
      purpose,
      status: "processed",
    });
  };

  const create = (request: RecordedRequest): FakeReply => {
    const body = (request.body ?? {}) as {
      input_file_id?: string;
      endpoint?: string;
      completion_window?: string;
      metadata?: Record<string, string>;
    };
    const input = body.input_file_id ? api.files.get(body.input_file_id) : undefined;
    if (!input) return json(400, { error: { message: `no such file: ${String(body.input_file_id)}` } });
    const batch: FakeBatch = {
      id: `batch_${++seq}`,
      object: "batch",
      endpoint: body.endpoint ?? "",
      input_file_id: input.id,
      completion_window: body.completion_window ?? "",
      status: "validating",
      output_file_id: null,
      error_file_id: null,
      errors: null,
      created_at: 1_700_000_000 + seq,
      metadata: body.metadata ?? null,
      request_counts: { total: linesOf(input.content).length, completed: 0, failed: 0 },
      polls: 0,
    };
    api.batches.set(batch.id, batch);
    return json(200, publicBatch(batch));
  };

  /** A read of a batch: in_progress while held or for the first polls, then completed. */
  const poll = async (batch: FakeBatch): Promise<FakeReply> => {
    batch.polls++;
    if (batch.status !== "completed") {
      const nth = [...api.batches.keys()].indexOf(batch.id) + 1;
      const held = api.hold || (api.holdFrom !== undefined && nth >= api.holdFrom);
      if (held || batch.polls <= pollsInProgress) batch.status = "in_progress";
      else await complete(batch);
    }
    return json(200, publicBatch(batch));
  };

  const list = (): FakeReply => {
    const data = [...api.batches.values()].reverse().map(publicBatch);
    return json(200, { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
  };

  const route = async (request: RecordedRequest): Promise<FakeReply> => {
    const { method, path } = request;
    api.log.push(`${method} ${path}`);
    if (method === "POST" && path === "/v1/chat/completions") {
      api.chatCompletions++;
      return options.answer(request);
    }
    if (method === "POST" && path === "/v1/files") return upload(request);
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (method === "GET" && content) {
      const file = api.files.get(content[1]!);
      return file ? raw(200, file.content, "application/octet-stream") : noSuch("file");
    }
    if (method === "POST" && path === "/v1/batches") return create(request);
    if (method === "GET" && path === "/v1/batches") return list();
    const one = /^\/v1\/batches\/([^/]+)$/.exec(path);
    if (method === "GET" && one) {
      const batch = api.batches.get(one[1]!);
      return batch ? poll(batch) : noSuch("batch");
    }
    return json(404, { error: { message: `no route for ${method} ${path}` } });
  };
  return api;
}

/** A fake model server that plays the Batch API (and answers chat completions directly). */
export async function startFakeBatchServer(options: FakeBatchApiOptions): Promise<FakeBatchServer> {
  const api = fakeBatchApi(options);
  const server = await startFakeModelServer({ respond: api.respond });
  // The API's own object, so that setting `hold` or `holdFrom` on the server reaches the batches.
  return Object.assign(api, { url: server.url, close: () => server.close() });
}

function linesOf(content: string): string[] {
  return content.split("\n").filter((line) => line.trim() !== "");
}

/** One line of an output or error file: the answer when there is one, else a request that failed. */
function resultLine(id: string, customId: string, requestId: string, reply: FakeReply): string {
  const line =
    reply.kind === "json"
      ? { id, custom_id: customId, response: { status_code: reply.status, request_id: requestId, body: reply.body }, error: null }
      : { id, custom_id: customId, response: null, error: { code: "server_error", message: "the request could not be completed" } };
  return JSON.stringify(line);
}

function publicBatch(batch: FakeBatch): Omit<FakeBatch, "polls"> {
  const { polls: _polls, ...rest } = batch;
  return rest;
}

function lineRequest(path: string, body: unknown): RecordedRequest {
  return { method: "POST", path, headers: {}, body, rawBody: JSON.stringify(body) };
}

/** The parts of a multipart/form-data body, by field name (text content only). */
export function parseMultipart(rawBody: string, contentType: string): Map<string, { filename?: string; content: string }> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const parts = new Map<string, { filename?: string; content: string }>();
  if (!boundary) return parts;
  for (const chunk of rawBody.split(`--${boundary[1] ?? boundary[2]}`)) {
    const split = chunk.indexOf("\r\n\r\n");
    if (split < 0) continue;
    const head = chunk.slice(0, split);
    const name = /name="([^"]*)"/.exec(head)?.[1];
    if (name === undefined) continue;
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    parts.set(name, { filename, content: chunk.slice(split + 4).replace(/\r\n$/, "") });
  }
  return parts;
}
