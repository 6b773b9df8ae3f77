/**
 * UltraFeedback in its two published layouts:
 * - openbmb/UltraFeedback: `{instruction, completions: [{response, overall_score,
 *   "fine-grained_score"}]}`; the gold is the completion rated highest by its fine-grained score
 *   (the mean of the four aspect ratings, which the binarized set also ranks by), ties broken by
 *   overall_score, then by order;
 * - HuggingFaceH4/ultrafeedback_binarized: `{prompt, prompt_id, chosen: [messages], rejected}`; the
 *   gold is the chosen conversation's last assistant message.
 */
import { type CorpusLayout, kindOf, objectRow, type RowOrigin, requiredText, rowError, rowId } from "./mining-row.ts";

const LAYOUTS =
  '{"instruction", "completions": [{"response", "overall_score", "fine-grained_score"}]} (openbmb/UltraFeedback) ' +
  'or {"prompt", "prompt_id", "chosen": [{"role", "content"}]} (ultrafeedback_binarized)';

const rating = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : Number.NEGATIVE_INFINITY);

interface Rated {
  response: string;
  fineGrained: number;
  overall: number;
}

function ratedCompletions(completions: unknown[]): Rated[] {
  return completions.flatMap((completion) => {
    const c = (typeof completion === "object" && completion !== null ? completion : {}) as Record<string, unknown>;
    const response = typeof c.response === "string" ? c.response.trim() : "";
    return response === "" ? [] : [{ response, fineGrained: rating(c["fine-grained_score"]), overall: rating(c.overall_score) }];
  });
}

/** The highest-rated completion; the first of equals. */
function best(rated: readonly Rated[]): Rated | undefined {
  let top: Rated | undefined;
  for (const r of rated) {
    if (!top || r.fineGrained > top.fineGrained || (r.fineGrained === top.fineGrained && r.overall > top.overall)) top = r;
  }
  return top;
}

function fromCompletions(record: Record<string, unknown>, origin: RowOrigin) {
  const prompt = requiredText(record, "instruction", origin, LAYOUTS);
  const completions = record.completions;
  if (!Array.isArray(completions))
    throw rowError(origin, "completions", `the field holds ${kindOf(completions)}, not a list`, `expected ${LAYOUTS}`);
  const top = best(ratedCompletions(completions));
  if (!top) throw rowError(origin, "completions", "no completion has a response", "remove the row, or pass --skip-invalid");
  return { id: rowId("ultrafeedback", record.id, origin), source: "ultrafeedback", prompt, gold: top.response };
}

function lastAssistant(messages: unknown[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | null;
    if (m?.role === "assistant" && typeof m.content === "string" && m.content.trim() !== "") return m.content.trim();
  }
  return undefined;
}

function firstUser(messages: unknown[]): string | undefined {
  const m = messages.find((message) => (message as { role?: unknown } | null)?.role === "user") as { content?: unknown } | undefined;
  return typeof m?.content === "string" && m.content.trim() !== "" ? m.content.trim() : undefined;
}

function fromBinarized(record: Record<string, unknown>, chosen: unknown[], origin: RowOrigin) {
  const gold = lastAssistant(chosen);
  if (gold === undefined)
    throw rowError(origin, "chosen", "the chosen conversation has no assistant answer", "remove the row, or pass --skip-invalid");
  const prompt = record.prompt === undefined ? firstUser(chosen) : requiredText(record, "prompt", origin, LAYOUTS);
  if (prompt === undefined) throw rowError(origin, "prompt", "the field is missing and chosen has no user message", `expected ${LAYOUTS}`);
  return { id: rowId("ultrafeedback", record.prompt_id ?? record.id, origin), source: "ultrafeedback", prompt, gold };
}

function toMiningRow(row: unknown, origin: RowOrigin) {
  const record = objectRow(row, origin, LAYOUTS);
  if (record.completions !== undefined) return fromCompletions(record, origin);
  if (Array.isArray(record.chosen)) return fromBinarized(record, record.chosen, origin);
  throw rowError(origin, "completions", "the row is in neither UltraFeedback layout", `expected ${LAYOUTS}`);
}

export const ULTRAFEEDBACK: CorpusLayout = { layouts: LAYOUTS, toMiningRow };
