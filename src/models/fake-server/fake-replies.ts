/**
 * What the fake model server receives and what it answers: the recorded request, the reply kinds
 * (JSON, raw bytes, a reset, a hang, an endless body) and builders for OpenAI and Anthropic
 * answers and errors in the shapes those APIs send.
 */
import type { IncomingHttpHeaders } from "node:http";

export interface RecordedRequest {
  method: string;
  /** The request target without the query string, e.g. `/v1/messages` (a whole URL when sent to a proxy). */
  path: string;
  /** The query string without its `?` ("" when there is none). */
  query?: string;
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
  /** Any status with a body sent as is (pre-serialized JSON, proxies' HTML or text errors, files). */
  | { kind: "raw"; status: number; body: string | Uint8Array; contentType: string; headers?: Record<string, string> }
  /**
   * A download that breaks off: the headers announce all of `body`, the first `sendBytes` are written,
   * then the socket is destroyed (the client sees a body cut short).
   */
  | { kind: "cut"; status: number; body: Uint8Array; sendBytes: number; headers?: Record<string, string> }
  /** Destroy the socket without answering (the client sees a connection reset). */
  | { kind: "reset" }
  /** Never answer; the socket stays open until the client gives up or the server closes. */
  | { kind: "hang" }
  /**
   * A 200 whose body is `chunk` again and again (chunked, no length), `bytes` in all, or without end
   * until the client goes away; the server's `streamedBytes` counts what was written.
   */
  | { kind: "stream"; chunk: string; bytes?: number };

/** Answers one request; a throw (or rejection) becomes a 500 that says what was thrown. */
export type Responder = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

/** Any status with any JSON body. */
export function json(status: number, body: unknown, headers?: Record<string, string>): FakeReply {
  return { kind: "json", status, body, headers };
}

/** Any status with a body that is sent byte for byte. */
export function raw(status: number, body: string | Uint8Array, contentType = "text/plain", headers?: Record<string, string>): FakeReply {
  return { kind: "raw", status, body, contentType, headers };
}

/** `body` announced in full, `sendBytes` of it sent, then the connection dropped. */
export function cutBody(body: Uint8Array, sendBytes: number, headers?: Record<string, string>): FakeReply {
  return { kind: "cut", status: 200, body, sendBytes, headers };
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

/** The body of a successful OpenAI chat completion with one choice. */
export function openaiCompletion(text: string, options: OpenAITextOptions = {}): Record<string, unknown> {
  const promptTokens = options.promptTokens ?? 10;
  const completionTokens = options.completionTokens ?? 5;
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1_700_000_000,
    model: options.model ?? "fake-model",
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: options.finishReason ?? "stop", logprobs: null }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

/** A successful OpenAI chat completion with one choice. */
export function openaiText(text: string, options: OpenAITextOptions = {}): FakeReply {
  return json(200, openaiCompletion(text, options));
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

/** Answers `text` in the shape the request's path expects (OpenAI chat or Anthropic Messages); 404 elsewhere. */
export function textReply(text: string): Responder {
  return (request) => {
    if (request.path.endsWith("/chat/completions")) return openaiText(text);
    if (request.path.endsWith("/messages")) return anthropicText(text);
    return json(404, { error: { message: `no route for ${request.method} ${request.path}` } });
  };
}

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
