/**
 * A real HTTP server on 127.0.0.1 (random port) that plays an LLM backend for adapter tests:
 * OpenAI chat completions (`POST /v1/chat/completions`) and Anthropic Messages (`POST /v1/messages`).
 *
 * Every request is recorded before the handler runs, so a test can inspect what the adapter sent
 * even when the reply is an error, a reset or a hang. `close()` destroys open sockets first, so a
 * server that was told to hang still shuts down at once.
 *
 *   const server = await startFakeLlmServer(() => openaiText("hi"));
 *   ... new OpenAICompatibleModel({ baseURL: `${server.url}/v1`, ... }) ...
 *   server.requests[0].body  // the parsed JSON the adapter sent
 *   await server.close();
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/messages`. */
  path: string;
  /** Lower-cased header names, as node:http gives them. */
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; undefined when the body is empty or not JSON. */
  body: unknown;
  rawBody: string;
  /** The client's address (which test host sent it). */
  remoteAddress?: string;
}

/** What the server does with one request. Build these with the helpers below. */
export type FakeReply =
  | { kind: "json"; status: number; body: unknown; headers?: Record<string, string> }
  /** Any status with a body sent as is (proxies' HTML or text errors, broken JSON). */
  | { kind: "raw"; status: number; body: string; contentType: string }
  /** Destroy the socket without answering (the client sees a connection reset). */
  | { kind: "reset" }
  /** Never answer; the socket stays open until the client gives up or the server closes. */
  | { kind: "hang" }
  /**
   * A 200 whose body is `chunk` again and again (chunked, no length), `bytes` in all, or without end
   * until the client goes away; `streamedBytes` counts what was written.
   */
  | { kind: "stream"; chunk: string; bytes?: number };

export type FakeLlmHandler = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeLlmServer {
  /** `http://<host>:<port>` (host 127.0.0.1 unless given), no trailing slash and no `/v1`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order. */
  readonly requests: RecordedRequest[];
  /** Bytes written by `stream` replies so far. */
  readonly streamedBytes: number;
  /** Replace the handler for later requests. */
  setHandler(handler: FakeLlmHandler): void;
  /** Destroys open sockets (hanging requests included) and stops listening. Safe to call twice. */
  close(): Promise<void>;
}

/** `host`: the address to listen on (default 127.0.0.1; a test host's address in a network namespace test). */
export async function startFakeLlmServer(
  handler: FakeLlmHandler = defaultHandler,
  options: { host?: string } = {},
): Promise<FakeLlmServer> {
  const host = options.host ?? "127.0.0.1";
  let current = handler;
  const requests: RecordedRequest[] = [];
  const streamed = { bytes: 0 };
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const rawBody = Buffer.concat(chunks).toString("utf8");
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: (req.url ?? "/").split("?")[0] ?? "/",
        headers: req.headers,
        body: parseJson(rawBody),
        rawBody,
        remoteAddress: req.socket.remoteAddress ?? "",
      };
      requests.push(recorded);
      Promise.resolve()
        .then(() => current(recorded))
        .then(
          (reply) => send(res, reply, streamed),
          (error: unknown) => send(res, json(500, { error: { message: `fake server handler threw: ${String(error)}` } }), streamed),
        );
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    get streamedBytes() {
      return streamed.bytes;
    },
    setHandler(next) {
      current = next;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, reply: FakeReply, streamed: { bytes: number }): void {
  switch (reply.kind) {
    case "stream":
      stream(res, reply.chunk, reply.bytes ?? Infinity, streamed);
      return;
    case "reset":
      res.socket?.destroy();
      return;
    case "hang":
      return;
    case "raw":
      res.writeHead(reply.status, { "content-type": reply.contentType, "content-length": Buffer.byteLength(reply.body) });
      res.end(reply.body);
      return;
    case "json": {
      const payload = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(payload),
        ...reply.headers,
      });
      res.end(payload);
    }
  }
}

/** Writes `chunk` while the socket drains, until `bytes` are out or the client has gone. */
function stream(res: ServerResponse, chunk: string, bytes: number, streamed: { bytes: number }): void {
  res.writeHead(200, { "content-type": "application/json" });
  const data = Buffer.from(chunk);
  let left = bytes;
  const pump = () => {
    while (left > 0 && !res.destroyed) {
      const piece = left >= data.length ? data : data.subarray(0, left);
      left -= piece.length;
      streamed.bytes += piece.length;
      if (!res.write(piece)) return void res.once("drain", pump);
    }
    if (left <= 0) res.end();
  };
  res.on("error", () => undefined);
  pump();
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// ---- reply helpers -------------------------------------------------------------------------

/** Any status with any JSON body. */
export function json(status: number, body: unknown, headers?: Record<string, string>): FakeReply {
  return { kind: "json", status, body, headers };
}

/** Any status with a body that is sent byte for byte. */
export function raw(status: number, body: string, contentType = "text/plain"): FakeReply {
  return { kind: "raw", status, body, contentType };
}

export function resetConnection(): FakeReply {
  return { kind: "reset" };
}

export function hang(): FakeReply {
  return { kind: "hang" };
}

/** A body of `chunk` repeated, `bytes` in all, or endless (until the client goes away). */
export function streamBody(chunk: string, bytes?: number): FakeReply {
  return { kind: "stream", chunk, bytes };
}

export interface OpenAITextOptions {
  model?: string;
  finishReason?: string;
  promptTokens?: number;
  completionTokens?: number;
}

/** A successful OpenAI chat completion with one choice. */
export function openaiText(text: string, options: OpenAITextOptions = {}): FakeReply {
  const promptTokens = options.promptTokens ?? 10;
  const completionTokens = options.completionTokens ?? 5;
  return json(200, {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1_700_000_000,
    model: options.model ?? "fake-model",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: text },
        finish_reason: options.finishReason ?? "stop",
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  });
}

/** An OpenAI-style error: `{"error": {message, type, code, param}}`. */
export function openaiError(
  status: number,
  message: string,
  options: { type?: string; code?: string | null; headers?: Record<string, string> } = {},
): FakeReply {
  return json(
    status,
    { error: { message, type: options.type ?? "invalid_request_error", code: options.code ?? null, param: null } },
    options.headers,
  );
}

export interface AnthropicTextOptions {
  model?: string;
  stopReason?: "end_turn" | "max_tokens" | "stop_sequence" | (string & {});
  inputTokens?: number;
  outputTokens?: number;
}

/** A successful Anthropic Messages reply with one text block. */
export function anthropicText(text: string, options: AnthropicTextOptions = {}): FakeReply {
  return json(200, {
    id: "msg_fake",
    type: "message",
    role: "assistant",
    model: options.model ?? "fake-claude",
    content: [{ type: "text", text }],
    stop_reason: options.stopReason ?? "end_turn",
    stop_sequence: null,
    usage: { input_tokens: options.inputTokens ?? 10, output_tokens: options.outputTokens ?? 5 },
  });
}

/** An Anthropic-style error: `{"type": "error", "error": {type, message}}`. */
export function anthropicError(status: number, type: string, message: string, headers?: Record<string, string>): FakeReply {
  return json(status, { type: "error", error: { type, message } }, headers);
}

/** Answers text in the shape the request's path expects; 404 elsewhere. */
export function textReply(text: string): FakeLlmHandler {
  return (request) => {
    if (request.path.endsWith("/chat/completions")) return openaiText(text);
    if (request.path.endsWith("/messages")) return anthropicText(text);
    return json(404, { error: { message: `no route for ${request.method} ${request.path}` } });
  };
}

const defaultHandler: FakeLlmHandler = textReply("ok");

/**
 * The words of `text` as a test tokenizer splits them: each run of non-space characters with the
 * spaces before it, and trailing spaces as a token of their own. Offsets count code points, as a
 * Python server's `text_offset` does.
 */
export function wordTokens(text: string): { token: string; offset: number }[] {
  const tokens: { token: string; offset: number }[] = [];
  let offset = 0;
  for (const match of text.matchAll(/\s*\S+|\s+$/gu)) {
    tokens.push({ token: match[0], offset });
    offset += [...match[0]].length;
  }
  return tokens;
}

/**
 * A vLLM-style `/v1/completions` answer to `echo: true, max_tokens: 0`: one choice per prompt, each
 * prompt split by `wordTokens`, each token's log-probability from `logprobOf` except the first
 * one's, which is null as vLLM sends it.
 */
export function openaiEchoLogprobs(body: unknown, logprobOf: (token: string) => number): FakeReply {
  const prompt = (body as { prompt?: unknown }).prompt;
  const prompts = Array.isArray(prompt) ? (prompt as string[]) : [String(prompt)];
  let promptTokens = 0;
  const choices = prompts.map((text, index) => {
    const tokens = wordTokens(text);
    promptTokens += tokens.length;
    return {
      index,
      text,
      finish_reason: "length",
      logprobs: {
        tokens: tokens.map((t) => t.token),
        token_logprobs: tokens.map((t, i) => (i === 0 ? null : logprobOf(t.token))),
        text_offset: tokens.map((t) => t.offset),
        top_logprobs: tokens.map((t, i) => (i === 0 ? null : { [t.token]: logprobOf(t.token) })),
      },
    };
  });
  return json(200, {
    id: "cmpl-fake",
    object: "text_completion",
    model: (body as { model?: string }).model ?? "fake-model",
    choices,
    usage: { prompt_tokens: promptTokens, completion_tokens: 0, total_tokens: promptTokens },
  });
}
