/**
 * An OpenAI-compatible backend that plays SPRI's base model and critic over spri's built-in prompts:
 * the critic scores each question's first principles 3 and everything else 5, so an item costs
 * exactly 6 calls (draft, critique, refine, critique; draft, critique). With `vary`, it samples like
 * a model above temperature 0: each base-model answer ends with the number of the request, so no
 * two answers are alike.
 */
import { type FakeReply, openaiError, openaiText, type RecordedRequest } from "../../src/test.ts";

export interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
}

export const CALLS_PER_ITEM = 6;

export function scriptedBackend(options: { vary?: boolean } = {}): (request: RecordedRequest) => FakeReply {
  const critiqued = new Set<string>();
  let served = 0;
  const drawn = (text: string) => openaiText(options.vary ? `${text} (draw ${served})` : text);
  return (request) => {
    served++;
    const body = request.body as ChatBody;
    const system = body.messages[0]?.content ?? "";
    const text = body.messages.map((m) => m.content).join("\n");
    if (body.model === "missing-model") return openaiError(404, `The model 'missing-model' does not exist`, { code: "model_not_found" });
    if (/\[RESULT\] <score>/.test(text)) {
      const question = /Question:\n(.*)\n/.exec(text)?.[1] ?? "";
      const isPrinciples = /Principles to review/.test(text);
      const first = isPrinciples && !critiqued.has(question);
      if (isPrinciples) critiqued.add(question);
      return openaiText(first ? "Feedback: too vague. [RESULT] 3" : "Feedback: clear and specific. [RESULT] 5");
    }
    if (system.startsWith("You improve a set of guiding principles")) return drawn("1. Be specific.\n2. Be kind.");
    if (system.startsWith("You write guiding principles")) return drawn("1. Be kind.");
    return drawn("Here is a kind and specific answer.");
  };
}
