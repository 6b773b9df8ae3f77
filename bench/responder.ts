/**
 * The bench server's answers: the same script as the tests' scripted backend (the critic
 * scores each question's first principles 3 and everything else 5, so an item costs exactly 6
 * calls), but as a pure function of the request. The test backend remembers which questions it
 * has critiqued; after a kill -9 the re-run re-sends a critique the killed run already got an
 * answer for, the stateful backend would now answer 5 instead of 3, and the item would cost fewer
 * calls, hiding repeated calls from the `total − items × 6` count in the resume benchmark. Here the
 * score depends only on which principles are under review (the first draft is always "1. Be kind.").
 */
import { type FakeReply, openaiCompletion, openaiError, type Responder, raw } from "../src/test.ts";

/** The part of a chat request the responder reads. */
interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
}

export const CALLS_PER_ITEM = 6;

/** The five possible replies, serialized once: the server should cost as little CPU as possible. */
const REPLIES = {
  draftPrinciples: serialized("1. Be kind."),
  refinedPrinciples: serialized("1. Be specific.\n2. Be kind."),
  answer: serialized("Here is a kind and specific answer."),
  vague: serialized("Feedback: too vague. [RESULT] 3"),
  fine: serialized("Feedback: clear and specific. [RESULT] 5"),
};
const NOT_JSON = openaiError(400, "the body is not JSON");

/** A chat completion as an OpenAI-compatible server sends it (10 prompt and 5 completion tokens). */
function serialized(text: string): FakeReply {
  return raw(200, JSON.stringify({ ...openaiCompletion(text), id: "chatcmpl-bench" }), "application/json");
}

/** The answer to one chat request. */
export const benchResponder: Responder = (request) => {
  const body = request.body as ChatBody | undefined;
  if (body === undefined) return NOT_JSON;
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const system = messages[0]?.content ?? "";
  const text = messages.map((m) => m.content).join("\n");
  if (text.includes("[RESULT] <score>")) {
    return text.includes("Principles to review:\n1. Be kind.\n\n") ? REPLIES.vague : REPLIES.fine;
  }
  if (system.startsWith("You improve a set of guiding principles")) return REPLIES.refinedPrinciples;
  if (system.startsWith("You write guiding principles")) return REPLIES.draftPrinciples;
  return REPLIES.answer;
};
