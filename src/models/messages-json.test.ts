import assert from "node:assert/strict";
import { test } from "node:test";
import { canonicalJson } from "../runtime/store/canonical.ts";
import type { ChatMessage } from "./language-model.ts";
import { canonicalMessagesJson, messagesJson, storedRequestJson } from "./messages-json.ts";

const plain: ChatMessage[] = [
  { role: "system", content: "You write principles." },
  { role: "user", content: 'a "quoted"\nline \u2028 ü \ud800' },
];
const extra = [
  { role: "user", content: "x", name: "n" },
  { content: "y", role: "assistant" },
] as unknown as ChatMessage[];

test("messagesJson is JSON.stringify of the messages; canonicalMessagesJson is their canonicalJson", () => {
  for (const messages of [plain, extra, [] as ChatMessage[]]) {
    assert.equal(messagesJson(messages), JSON.stringify(messages));
    assert.equal(canonicalMessagesJson(messages), canonicalJson(messages));
  }
});

test("the JSON text is made once per messages array; the canonical text is the same when asked for again", () => {
  const messages: ChatMessage[] = [{ role: "user", content: "first" }];
  assert.equal(messagesJson(messages), messagesJson(messages));
  for (const list of [messages, extra]) {
    const first = canonicalMessagesJson(list);
    assert.equal(canonicalMessagesJson(list), first);
    assert.equal(canonicalMessagesJson(list), canonicalJson(list));
  }
  // A new array (as every call makes) gets its own text.
  assert.notEqual(messagesJson([{ role: "user", content: "second" }]), messagesJson(messages));
});

test("storedRequestJson is the stored request as before, byte for byte: messages reduced to role and content", () => {
  const rest = { sampling: { temperature: 0.5, topP: undefined, stop: ["###"] }, schema: undefined };
  for (const messages of [plain, extra]) {
    const expected = JSON.stringify({ messages: messages.map((m) => ({ role: m.role, content: m.content })), ...rest });
    assert.equal(storedRequestJson(messages, JSON.stringify(rest)), expected);
  }
  assert.equal(storedRequestJson(plain, "{}"), JSON.stringify({ messages: plain }));
});
