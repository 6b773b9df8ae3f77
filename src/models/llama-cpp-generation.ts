/**
 * One generation on a local model (llama-cpp.ts), in node-llama-cpp's terms: spri's chat as its
 * history, spri's sampling as its options, its stop reason as spri's finish reason, and a Stopper
 * that ends the generation when the caller aborts, the model closes or the time runs out.
 */
import type { ChatHistoryItem, LlamaChatResponse, LLamaChatGenerateResponseOptions, LlamaGrammar } from "node-llama-cpp";
import { ModelError } from "../base/errors/errors.ts";
import type { ChatMessage, FinishReason, GenerateRequest } from "./language-model.ts";

/** The chat ends with an empty model turn: the slot the model writes its reply into. */
export function toHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "model", response: [m.content] };
  });
  history.push({ type: "model", response: [] });
  return history;
}

export function generationOptions(
  request: GenerateRequest,
  grammar: LlamaGrammar | undefined,
  signal: AbortSignal,
): LLamaChatGenerateResponseOptions {
  const s = request.sampling ?? {};
  const stop = s.stop?.filter((trigger) => trigger.length > 0);
  return {
    signal,
    grammar,
    maxTokens: s.maxTokens,
    temperature: s.temperature,
    topP: s.topP,
    topK: s.topK,
    seed: s.seed,
    customStopTriggers: stop && stop.length > 0 ? stop : undefined,
  };
}

export function finishReasonOf(reason: LlamaChatResponse["metadata"]["stopReason"]): FinishReason {
  switch (reason) {
    case "maxTokens":
      return "length";
    case "eogToken":
    case "stopGenerationTrigger":
    case "customStopTrigger":
      return "stop";
    case "functionCalls":
      return "tool-calls";
    default:
      return "unknown";
  }
}

/** Aborts when any source signal does or when `timeoutMs` passes, remembering whether time ran out. */
export class Stopper {
  readonly signal: AbortSignal;
  timedOut = false;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly unlink: () => void;

  constructor(sources: Array<AbortSignal | undefined>, timeoutMs: number | undefined) {
    this.signal = this.controller.signal;
    const linked = sources.filter((s): s is AbortSignal => s !== undefined);
    const onAbort = () => this.controller.abort(linked.find((s) => s.aborted)?.reason);
    for (const s of linked) s.addEventListener("abort", onAbort, { once: true });
    this.unlink = () => linked.forEach((s) => s.removeEventListener("abort", onAbort));
    if (linked.some((s) => s.aborted)) onAbort();
    if (timeoutMs !== undefined && timeoutMs > 0) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.unlink();
  }
}

export function abortedError(cause: unknown): ModelError {
  return new ModelError("local generation was aborted", { kind: "aborted", cause });
}
