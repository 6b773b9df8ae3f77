/**
 * A request's messages as JSON text, serialised once per call and shared by everything that needs
 * them as text: the trace's repeat fingerprint (model-caller.ts), the request body
 * (openai-compatible.ts) and the stored call (both stores) use `JSON.stringify(messages)` as it is,
 * so the wire keeps the messages' own key order (replays compare requests byte for byte with the
 * reference's); the cache key (call-cache.ts) uses their canonical JSON (keys sorted, see
 * util/canonical-json.ts), written by a fast path for plain `{role, content}` messages. At hundreds
 * of calls a second each of those serialising the same messages again was measurable CPU.
 *
 * The JSON text is remembered per messages array (a WeakMap): a messages array must not be changed
 * once it has been sent. The model caller and the algorithms build a new array for every call.
 */
import { canonicalJson } from "../base/util/canonical-json.ts";
import type { ChatMessage } from "./language-model.ts";

interface Serialised {
  /** `JSON.stringify(messages)`. */
  json: string;
  /** `canonicalJson(messages)`, made with `json` for plain messages, until it is handed out. */
  canonical?: string;
  /** Every message is exactly `{role, content}`, in that order, with string values. */
  plain: boolean;
}

const memo = new WeakMap<readonly ChatMessage[], Serialised>();

function serialise(messages: readonly ChatMessage[]): Serialised {
  let found = memo.get(messages);
  if (found === undefined) {
    found = messages.every(isPlain) ? plainTexts(messages) : { json: JSON.stringify(messages), plain: false };
    memo.set(messages, found);
  }
  return found;
}

/**
 * Both texts of plain `{role, content}` messages from one serialising of each field: the same text
 * as `JSON.stringify(messages)`, and canonicalJson's (keys sorted, content first).
 */
function plainTexts(messages: readonly ChatMessage[]): Serialised {
  let json = "[";
  let canonical = "[";
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!;
    const content = JSON.stringify(message.content);
    const role = JSON.stringify(message.role);
    const comma = i > 0 ? "," : "";
    json += `${comma}{"role":${role},"content":${content}}`;
    canonical += `${comma}{"content":${content},"role":${role}}`;
  }
  return { json: `${json}]`, canonical: `${canonical}]`, plain: true };
}

function isPlain(message: ChatMessage): boolean {
  if (typeof message !== "object" || message === null || typeof message.role !== "string" || typeof message.content !== "string")
    return false;
  if (Object.getPrototypeOf(message) !== Object.prototype) return false;
  let i = 0;
  for (const key in message) {
    if (key !== (i === 0 ? "role" : "content") || ++i > 2) return false;
  }
  return i === 2;
}

/** `JSON.stringify(messages)`, computed once per messages array. */
export function messagesJson(messages: readonly ChatMessage[]): string {
  return serialise(messages).json;
}

/**
 * `canonicalJson(messages)` (for cache keys). It is not kept: the messages (and their memo) live as
 * long as the item's trace, while a call's key is usually made once (batch mode makes it again).
 * The text made with `json` for plain messages is handed out the first time; later asks make it
 * again.
 */
export function canonicalMessagesJson(messages: readonly ChatMessage[]): string {
  const found = serialise(messages);
  const canonical = found.canonical ?? (found.plain ? plainTexts(messages).canonical! : canonicalJson(messages));
  found.canonical = undefined;
  return canonical;
}

/**
 * A stored call's request as JSON text: `JSON.stringify({messages, ...rest})` with each message
 * reduced to `{role, content}` (what stores keep), reusing the messages' text when it is already
 * that. `restJson` is `JSON.stringify(rest)` (made once by callers that send many requests alike);
 * `rest` must not hold `messages`.
 */
export function storedRequestJson(messages: readonly ChatMessage[], restJson: string): string {
  const found = serialise(messages);
  const json = found.plain ? found.json : JSON.stringify(messages.map((m) => ({ role: m.role, content: m.content })));
  return `{"messages":${json}${restJson === "{}" ? "}" : `,${restJson.slice(1)}`}`;
}
