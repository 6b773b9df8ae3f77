/**
 * Reddit TL;DR summarization, in the layouts it is published in:
 * - `{prompt, label}` (CarperAI/openai_summarize_tldr) and `{prompt, completion}` (trl-lib/tldr):
 *   the prompt as published, the reference summary as gold;
 * - `{id, subreddit, title, post, summary}` (OpenAI's filtered TL;DR, summarize-from-feedback);
 * - `{info: {id, subreddit, title, post}, summaries: [{text}], choice}` (summarize_from_feedback
 *   comparisons): the summary the labeller chose is the gold.
 * A post becomes the prompt in the same SUBREDDIT / TITLE / POST / TL;DR: form the first layout uses.
 */
import { type CorpusLayout, kindOf, type MiningRow, objectRow, type RowOrigin, requiredText, rowError, rowId } from "./mining-row.ts";

const LAYOUTS =
  '{"prompt", "label"}, {"prompt", "completion"}, {"subreddit", "title", "post", "summary"} ' +
  'or {"info": {"post", …}, "summaries": [{"text"}], "choice"}';

/** A Reddit post as the summarization prompt. */
export function postPrompt(post: Record<string, unknown>, origin: RowOrigin): string {
  const lines: string[] = [];
  if (typeof post.subreddit === "string" && post.subreddit.trim() !== "") lines.push(`SUBREDDIT: r/${post.subreddit.trim()}`);
  if (typeof post.title === "string" && post.title.trim() !== "") lines.push(`TITLE: ${post.title.trim()}`);
  lines.push(`POST: ${requiredText(post, "post", origin, LAYOUTS)}`);
  return `${lines.join("\n")}\n\nTL;DR:`;
}

function fromComparison(record: Record<string, unknown>, origin: RowOrigin): MiningRow {
  const info = objectRow(record.info, origin, LAYOUTS);
  const summaries = record.summaries;
  if (!Array.isArray(summaries))
    throw rowError(origin, "summaries", `the field holds ${kindOf(summaries)}, not a list`, `expected ${LAYOUTS}`);
  const choice = record.choice;
  const chosen = typeof choice === "number" ? (summaries[choice] as { text?: unknown } | undefined) : undefined;
  if (typeof chosen?.text !== "string" || chosen.text.trim() === "") {
    throw rowError(
      origin,
      "choice",
      `there is no summary ${String(choice)} with text`,
      `choice indexes summaries (0 to ${summaries.length - 1})`,
    );
  }
  return { id: rowId("tldr", info.id ?? record.id, origin), source: "tldr", prompt: postPrompt(info, origin), gold: chosen.text.trim() };
}

function toMiningRow(row: unknown, origin: RowOrigin): MiningRow {
  const record = objectRow(row, origin, LAYOUTS);
  if (record.info !== undefined) return fromComparison(record, origin);
  const id = rowId("tldr", record.id, origin);
  if (record.post !== undefined) {
    return { id, source: "tldr", prompt: postPrompt(record, origin), gold: requiredText(record, "summary", origin, LAYOUTS) };
  }
  const prompt = requiredText(record, "prompt", origin, LAYOUTS);
  const goldField = ["label", "completion", "summary"].find((field) => record[field] !== undefined);
  if (goldField === undefined)
    throw rowError(origin, "label", "the row has no reference summary (label, completion or summary)", `expected ${LAYOUTS}`);
  return { id, source: "tldr", prompt, gold: requiredText(record, goldField, origin, LAYOUTS) };
}

export const TLDR: CorpusLayout = { layouts: LAYOUTS, toMiningRow };
