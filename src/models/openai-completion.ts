/**
 * The part of an OpenAI chat completion spri reads, from the online call (openai-compatible.ts) and
 * from batch result lines (openai-batch.ts) alike.
 */
import type { FinishReason } from "./language-model.ts";

/** The subset of a chat completion spri reads; anything else in the body is ignored. */
export interface Completion {
  model?: string;
  choices?: { message?: { content?: unknown }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

/** OpenAI finish_reason → FinishReason. */
export function finishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case "stop":
    case "length":
    case "content_filter":
      return reason === "content_filter" ? "content-filter" : reason;
    case "tool_calls":
      return "tool-calls";
    default:
      return "unknown";
  }
}
