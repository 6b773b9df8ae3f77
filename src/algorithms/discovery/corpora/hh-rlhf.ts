/**
 * Anthropic HH-RLHF: each row is `{chosen, rejected}`, two dialogues written as
 * `\n\nHuman: …\n\nAssistant: …` that differ only in the last Assistant turn. The prompt is the
 * dialogue before that turn; the gold is the chosen dialogue's last Assistant turn.
 */
import { type ChatMessage, type CorpusLayout, objectRow, type RowOrigin, requiredText, rowError, rowId } from "./mining-row.ts";

const LAYOUTS = '{"chosen", "rejected"}: dialogues of "\\n\\nHuman: …" and "\\n\\nAssistant: …" turns';
const TURN = /(?:^|\n\n)(Human|Assistant):[ \t]?/g;

/** The dialogue's turns in order; text before the first speaker tag is dropped. */
export function dialogueTurns(text: string): ChatMessage[] {
  const marks = [...text.matchAll(TURN)];
  return marks.map((mark, i) => ({
    role: mark[1] === "Human" ? "user" : "assistant",
    content: text.slice(mark.index + mark[0].length, marks[i + 1]?.index ?? text.length).trim(),
  }));
}

/** A transcript in the corpus's own wording, without its leading blank lines. */
function transcript(turns: readonly ChatMessage[]): string {
  return turns.map((turn) => `${turn.role === "user" ? "Human" : "Assistant"}: ${turn.content}`).join("\n\n");
}

function toMiningRow(row: unknown, origin: RowOrigin) {
  const record = objectRow(row, origin, LAYOUTS);
  const chosen = requiredText(record, "chosen", origin, LAYOUTS);
  const turns = dialogueTurns(chosen);
  const last = turns.findLastIndex((turn) => turn.role === "assistant");
  if (last < 0) throw rowError(origin, "chosen", "the dialogue has no Assistant turn", `expected ${LAYOUTS}`);
  const gold = turns[last]!.content;
  if (gold === "") throw rowError(origin, "chosen", "the last Assistant turn is empty", "remove the row, or pass --skip-invalid");
  const messages = turns.slice(0, last);
  if (messages.length === 0) throw rowError(origin, "chosen", "the dialogue has no Human turn before the answer", `expected ${LAYOUTS}`);
  const prompt = messages.length === 1 ? messages[0]!.content : transcript(messages);
  return { id: rowId("hh-rlhf", record.id, origin), source: "hh-rlhf", prompt, gold, messages };
}

export const HH_RLHF: CorpusLayout = { layouts: LAYOUTS, toMiningRow };
