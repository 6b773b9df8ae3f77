/**
 * A real OpenAI-compatible HTTP server answering `POST /v1/chat/completions` from recorded traces
 * (a ReplayBook), for end-to-end replays of the CLI. Requests are handled one at a time, in arrival
 * order. A request with no recording left gets HTTP 404 and a JSON error body, so the client fails
 * loudly instead of carrying on with a made-up answer.
 *
 * One book can serve every model (base and critic prompts differ anyway), or a map from model id to
 * book routes each request by its `model` field, which also checks that critic prompts reach the
 * critic and base prompts the base model.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ChatMessage } from "../../src/models/language-model.ts";
import { ReplayBook, type ReplayEntry } from "../../src/models/replay-model.ts";

export interface ReceivedRequest {
  /** 0-based arrival index. */
  index: number;
  model: string;
  messages: ChatMessage[];
  /** The recording that answered it; undefined when unmatched. */
  entry?: ReplayEntry;
}

export interface ReplayServerStats {
  requests: number;
  answered: number;
  unmatched: number;
  /** Requests that were not chat completions (wrong path or method, bad JSON). */
  rejected: number;
}

export interface ReplayServer {
  /** Base URL ending in `/v1`, for `--base-url` / `--critic-url`. */
  url: string;
  stats: ReplayServerStats;
  /** Every chat-completion request received, in arrival order. */
  requests: ReceivedRequest[];
  /** The unmatched ones, in arrival order. */
  unmatched: ReceivedRequest[];
  close(): Promise<void>;
}

export type ReplayBooks = ReplayBook | Readonly<Record<string, ReplayBook>>;

export async function startReplayServer(books: ReplayBooks): Promise<ReplayServer> {
  const stats: ReplayServerStats = { requests: 0, answered: 0, unmatched: 0, rejected: 0 };
  const requests: ReceivedRequest[] = [];
  const unmatched: ReceivedRequest[] = [];
  const bookFor = (model: string): ReplayBook | undefined => (books instanceof ReplayBook ? books : books[model]);

  // Serialize: each request waits for the previous one to be answered, in arrival order.
  let queue: Promise<void> = Promise.resolve();

  const handle = async (req: IncomingMessage, res: ServerResponse, bodyPromise: Promise<string>): Promise<void> => {
    const body = await bodyPromise;
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      stats.rejected++;
      return send(res, 404, {
        error: { message: `replay server: no route ${req.method} ${req.url}`, type: "invalid_request_error", code: "no_route" },
      });
    }
    let parsed: { model?: unknown; messages?: unknown };
    try {
      parsed = JSON.parse(body) as typeof parsed;
    } catch {
      stats.rejected++;
      return send(res, 400, { error: { message: "replay server: the body is not JSON", type: "invalid_request_error", code: "bad_json" } });
    }
    const model = typeof parsed.model === "string" ? parsed.model : "";
    const messages = Array.isArray(parsed.messages) ? (parsed.messages as ChatMessage[]) : [];
    const received: ReceivedRequest = { index: requests.length, model, messages };
    requests.push(received);
    stats.requests++;

    const book = bookFor(model);
    const entry = book?.take(messages);
    if (!entry) {
      stats.unmatched++;
      unmatched.push(received);
      return send(res, 404, {
        error: {
          message: book
            ? `replay server: request #${received.index} for model "${model}" matches no recording left`
            : `replay server: no recordings for model "${model}"`,
          type: "invalid_request_error",
          code: "replay_unmatched",
        },
      });
    }
    received.entry = entry;
    stats.answered++;
    return send(res, 200, {
      id: `chatcmpl-replay-${received.index}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: "assistant", content: entry.response }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  };

  const server = createServer((req, res) => {
    const bodyPromise = readBody(req);
    queue = queue.then(() =>
      handle(req, res, bodyPromise).catch((error: unknown) => {
        stats.rejected++;
        if (!res.headersSent) send(res, 500, { error: { message: `replay server: ${String(error)}`, type: "server_error" } });
      }),
    );
  });
  server.keepAliveTimeout = 1000;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    stats,
    requests,
    unmatched,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
