/**
 * Answering `POST /v1/chat/completions` from recorded traces (a ReplayBook), for end-to-end
 * replays of the CLI. A request with no recording left gets HTTP 404 and a JSON error body, so the
 * client fails loudly instead of carrying on with a made-up answer.
 *
 * One book can serve every model (base and critic prompts differ anyway), or a map from model id to
 * book routes each request by its `model` field, which also checks that critic prompts reach the
 * critic and base prompts the base model. `startReplayServer` serves one in arrival order.
 */
import type { ChatMessage } from "../language-model.ts";
import { ReplayBook, type ReplayEntry } from "../replay-model.ts";
import { type FakeReply, json, openaiError, type RecordedRequest, type Responder } from "./fake-replies.ts";
import { startFakeModelServer } from "./fake-model-server.ts";

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

export type ReplayBooks = ReplayBook | Readonly<Record<string, ReplayBook>>;

export interface ReplayResponder {
  respond: Responder;
  stats: ReplayServerStats;
  /** Every chat-completion request received, in arrival order. */
  requests: ReceivedRequest[];
  /** The unmatched ones, in arrival order. */
  unmatched: ReceivedRequest[];
}

export interface ReplayServer extends Omit<ReplayResponder, "respond"> {
  /** Base URL ending in `/v1`, for `--base-url` / `--critic-url`. */
  url: string;
  close(): Promise<void>;
}

export function replayResponder(books: ReplayBooks): ReplayResponder {
  const replay: ReplayResponder = {
    respond: (request) => answer(request),
    stats: { requests: 0, answered: 0, unmatched: 0, rejected: 0 },
    requests: [],
    unmatched: [],
  };
  const { stats } = replay;
  const bookFor = (model: string): ReplayBook | undefined => (books instanceof ReplayBook ? books : books[model]);

  const answer = (request: RecordedRequest): FakeReply => {
    if (request.method !== "POST" || request.path !== "/v1/chat/completions") {
      stats.rejected++;
      return openaiError(404, `replay server: no route ${request.method} ${request.path}`, { code: "no_route" });
    }
    const body = request.body as { model?: unknown; messages?: unknown } | undefined;
    if (body === undefined) {
      stats.rejected++;
      return openaiError(400, "replay server: the body is not JSON", { code: "bad_json" });
    }
    const model = typeof body.model === "string" ? body.model : "";
    const messages = Array.isArray(body.messages) ? (body.messages as ChatMessage[]) : [];
    const received: ReceivedRequest = { index: replay.requests.length, model, messages };
    replay.requests.push(received);
    stats.requests++;

    const book = bookFor(model);
    const entry = book?.take(messages);
    if (!entry) {
      stats.unmatched++;
      replay.unmatched.push(received);
      const why = book
        ? `replay server: request #${received.index} for model "${model}" matches no recording left`
        : `replay server: no recordings for model "${model}"`;
      return openaiError(404, why, { code: "replay_unmatched" });
    }
    received.entry = entry;
    stats.answered++;
    return json(200, {
      id: `chatcmpl-replay-${received.index}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, message: { role: "assistant", content: entry.response }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  };
  return replay;
}

/** A fake model server answering from `books`, one request at a time in arrival order. */
export async function startReplayServer(books: ReplayBooks): Promise<ReplayServer> {
  const { respond, ...replay } = replayResponder(books);
  const server = await startFakeModelServer({ respond, serial: true, keepAliveMs: 1000 });
  return { ...replay, url: `${server.url}/v1`, close: () => server.close() };
}
