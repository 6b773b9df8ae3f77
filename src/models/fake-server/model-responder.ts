/**
 * A responder that answers OpenAI chat completions with a LanguageModel: a `ScriptedModel` (rules,
 * a function), a `ReplayModel` (a replay book) or any other. A ModelError it throws goes back as
 * the HTTP error a provider sends for that kind (with `Retry-After` when it says how long to wait);
 * any other throw is the server's 500.
 */
import { ModelError, type ModelErrorKind } from "../../base/errors/errors.ts";
import type { ChatMessage, FinishReason, LanguageModel, SamplingOptions } from "../language-model.ts";
import { type FakeReply, openaiError, openaiText, type Responder } from "./fake-replies.ts";

/** The part of a chat completion request the responder reads. */
interface ChatBody {
  model?: string;
  messages?: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  max_completion_tokens?: number;
  seed?: number;
  stop?: string[];
}

const STATUS_OF_KIND: Partial<Record<ModelErrorKind, number>> = {
  "bad-request": 400,
  auth: 401,
  quota: 429,
  "not-found": 404,
  timeout: 408,
  "rate-limit": 429,
};

const WIRE_FINISH: Record<FinishReason, string> = {
  stop: "stop",
  length: "length",
  "content-filter": "content_filter",
  "tool-calls": "tool_calls",
  unknown: "stop",
};

export function answerWith(model: LanguageModel): Responder {
  return async (request) => {
    if (!request.path.endsWith("/chat/completions")) {
      return openaiError(404, `fake model server: no route for ${request.method} ${request.path}`, { code: "no_route" });
    }
    const body = request.body as ChatBody | undefined;
    if (!Array.isArray(body?.messages)) {
      return openaiError(400, "fake model server: the body is not a chat completion (JSON with `messages`)", { code: "bad_json" });
    }
    try {
      const result = await model.generate({ messages: body.messages, sampling: samplingOf(body) });
      return openaiText(result.text, {
        model: body.model ?? result.model,
        finishReason: WIRE_FINISH[result.finishReason],
        promptTokens: result.usage.inputTokens,
        completionTokens: result.usage.outputTokens,
      });
    } catch (error) {
      if (error instanceof ModelError) return errorReply(error);
      throw error;
    }
  };
}

function samplingOf(body: ChatBody): SamplingOptions {
  const sampling: SamplingOptions = {
    temperature: body.temperature,
    topP: body.top_p,
    maxTokens: body.max_completion_tokens ?? body.max_tokens,
    seed: body.seed,
    stop: body.stop,
  };
  return Object.fromEntries(Object.entries(sampling).filter(([, value]) => value !== undefined));
}

function errorReply(error: ModelError): FakeReply {
  const headers = error.retryAfterSeconds === undefined ? undefined : { "retry-after": String(error.retryAfterSeconds) };
  const code = error.kind === "quota" ? "insufficient_quota" : error.kind;
  return openaiError(error.status ?? STATUS_OF_KIND[error.kind] ?? 500, error.message, { code, headers });
}
