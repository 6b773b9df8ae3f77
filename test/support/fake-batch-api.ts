/**
 * A real HTTP server on 127.0.0.1 (random port) that plays the OpenAI Files and Batches APIs for
 * `spri run --batch`: each batch line is answered by a chat-completions handler (the same
 * `FakeLlmHandler` the fake LLM server takes, e.g. `scriptedBackend()`), when the batch completes.
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
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { FakeLlmHandler, FakeReply, RecordedRequest } from "./fake-llm-server.ts";

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

export interface FakeBatchServerOptions {
  /** Answers each batch line (and direct chat completions). */
  answer: FakeLlmHandler;
  /** Reads of a batch that answer in_progress before it completes. Default 1. */
  pollsInProgress?: number;
}

export interface FakeBatchServer {
  /** `http://127.0.0.1:<port>`, no `/v1`. */
  readonly url: string;
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
  close(): Promise<void>;
}

export async function startFakeBatchServer(options: FakeBatchServerOptions): Promise<FakeBatchServer> {
  const pollsInProgress = options.pollsInProgress ?? 1;
  const sockets = new Set<Socket>();
  let seq = 0;
  const state: FakeBatchServer = {
    url: "",
    files: new Map(),
    batches: new Map(),
    log: [],
    chatCompletions: 0,
    hold: false,
    close: async () => {},
  };

  const addFile = (purpose: string, filename: string, content: string): FakeFile => {
    const file = { id: `file-${++seq}`, purpose, filename, content };
    state.files.set(file.id, file);
    return file;
  };

  const complete = async (batch: FakeBatch): Promise<void> => {
    const input = state.files.get(batch.input_file_id)!;
    const out: string[] = [];
    const errors: string[] = [];
    for (const line of input.content.split("\n").filter((l) => l.trim() !== "")) {
      const request = JSON.parse(line) as { custom_id: string; url: string; body: unknown };
      const reply = await options.answer(recorded("POST", request.url, request.body));
      const id = `batch_req_${++seq}`;
      if (reply.kind === "json" && reply.status >= 200 && reply.status < 300) {
        out.push(
          JSON.stringify({
            id,
            custom_id: request.custom_id,
            response: { status_code: reply.status, request_id: `req_${seq}`, body: reply.body },
            error: null,
          }),
        );
      } else if (reply.kind === "json") {
        errors.push(
          JSON.stringify({
            id,
            custom_id: request.custom_id,
            response: { status_code: reply.status, request_id: `req_${seq}`, body: reply.body },
            error: null,
          }),
        );
      } else {
        errors.push(
          JSON.stringify({
            id,
            custom_id: request.custom_id,
            response: null,
            error: { code: "server_error", message: "the request could not be completed" },
          }),
        );
      }
    }
    batch.status = "completed";
    batch.request_counts = { total: out.length + errors.length, completed: out.length, failed: errors.length };
    if (out.length > 0) batch.output_file_id = addFile("batch_output", "output.jsonl", `${out.join("\n")}\n`).id;
    if (errors.length > 0) batch.error_file_id = addFile("batch_output", "errors.jsonl", `${errors.join("\n")}\n`).id;
  };

  const route = async (
    method: string,
    path: string,
    headers: Record<string, string | string[] | undefined>,
    raw: string,
  ): Promise<Reply> => {
    if (method === "POST" && path === "/v1/chat/completions") {
      state.chatCompletions++;
      return fromFake(await options.answer(recorded(method, path, parseJson(raw))));
    }
    if (method === "POST" && path === "/v1/files") {
      const form = parseMultipart(raw, String(headers["content-type"] ?? ""));
      const file = form.get("file");
      if (!file) return jsonReply(400, { error: { message: "no file part" } });
      const created = addFile(form.get("purpose")?.content ?? "", file.filename ?? "upload.jsonl", file.content);
      return jsonReply(200, {
        id: created.id,
        object: "file",
        bytes: Buffer.byteLength(created.content),
        created_at: 1_700_000_000,
        filename: created.filename,
        purpose: created.purpose,
        status: "processed",
      });
    }
    const content = /^\/v1\/files\/([^/]+)\/content$/.exec(path);
    if (method === "GET" && content) {
      const file = state.files.get(content[1]!);
      return file
        ? { status: 200, type: "application/octet-stream", body: file.content }
        : jsonReply(404, { error: { message: "no such file" } });
    }
    if (method === "POST" && path === "/v1/batches") {
      const body = parseJson(raw) as {
        input_file_id?: string;
        endpoint?: string;
        completion_window?: string;
        metadata?: Record<string, string>;
      };
      const input = body.input_file_id ? state.files.get(body.input_file_id) : undefined;
      if (!input) return jsonReply(400, { error: { message: `no such file: ${String(body.input_file_id)}` } });
      const lines = input.content.split("\n").filter((l) => l.trim() !== "").length;
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
        request_counts: { total: lines, completed: 0, failed: 0 },
        polls: 0,
      };
      state.batches.set(batch.id, batch);
      return jsonReply(200, publicBatch(batch));
    }
    if (method === "GET" && path === "/v1/batches") {
      const data = [...state.batches.values()].reverse().map(publicBatch);
      return jsonReply(200, { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
    }
    const one = /^\/v1\/batches\/([^/]+)$/.exec(path);
    if (method === "GET" && one) {
      const batch = state.batches.get(one[1]!);
      if (!batch) return jsonReply(404, { error: { message: "no such batch" } });
      batch.polls++;
      if (batch.status !== "completed") {
        const nth = [...state.batches.keys()].indexOf(batch.id) + 1;
        const held = state.hold || (state.holdFrom !== undefined && nth >= state.holdFrom);
        if (held || batch.polls <= pollsInProgress) batch.status = "in_progress";
        else await complete(batch);
      }
      return jsonReply(200, publicBatch(batch));
    }
    return jsonReply(404, { error: { message: `no route for ${method} ${path}` } });
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const method = req.method ?? "";
      state.log.push(`${method} ${path}`);
      route(method, path, req.headers, Buffer.concat(chunks).toString("utf8")).then(
        (reply) => send(res, reply),
        (error: unknown) => send(res, jsonReply(500, { error: { message: `fake batch server threw: ${String(error)}` } })),
      );
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  });
}

function publicBatch(batch: FakeBatch): Omit<FakeBatch, "polls"> {
  const { polls: _polls, ...rest } = batch;
  return rest;
}

interface Reply {
  status: number;
  type: string;
  body: string;
}

function jsonReply(status: number, body: unknown): Reply {
  return { status, type: "application/json", body: JSON.stringify(body) };
}

function fromFake(reply: FakeReply): Reply {
  return reply.kind === "json"
    ? jsonReply(reply.status, reply.body)
    : jsonReply(500, { error: { message: "the fake cannot reset or hang here" } });
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { "content-type": reply.type, "content-length": Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

function recorded(method: string, path: string, body: unknown): RecordedRequest {
  return { method, path, headers: {}, body, rawBody: JSON.stringify(body) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The parts of a multipart/form-data body, by field name (text content only). */
function parseMultipart(raw: string, contentType: string): Map<string, { filename?: string; content: string }> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  const parts = new Map<string, { filename?: string; content: string }>();
  if (!boundary) return parts;
  for (const chunk of raw.split(`--${boundary[1] ?? boundary[2]}`)) {
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
