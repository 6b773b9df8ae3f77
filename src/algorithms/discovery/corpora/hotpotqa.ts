/**
 * HotpotQA: `{id | _id, question, answer, context}`. The gold is the (short) answer. The context
 * comes as `{title: [...], sentences: [[...]]}` in the Hub's Parquet files and as
 * `[[title, [sentences]]]` in the original JSON; either way its paragraphs go before the question
 * unless `context: false`, since without them the distractor setting's questions cannot be answered.
 */
import {
  type CorpusLayout,
  type LayoutOptions,
  type MiningRow,
  objectRow,
  type RowOrigin,
  requiredText,
  rowError,
  rowId,
} from "./mining-row.ts";

const LAYOUTS =
  '{"id", "question", "answer", "context": {"title": [...], "sentences": [[...]]}} or the original {"_id", …, "context": [[title, [sentences]]]}';

interface Paragraph {
  title: string;
  sentences: unknown[];
}

function paragraphs(context: unknown, origin: RowOrigin): Paragraph[] {
  if (context === undefined || context === null) return [];
  if (Array.isArray(context)) {
    return context.map((entry) => {
      if (!Array.isArray(entry) || typeof entry[0] !== "string" || !Array.isArray(entry[1])) {
        throw rowError(origin, "context", "a context entry is not [title, [sentences]]", `expected ${LAYOUTS}`);
      }
      return { title: entry[0], sentences: entry[1] };
    });
  }
  const { title, sentences } = context as { title?: unknown; sentences?: unknown };
  if (!Array.isArray(title) || !Array.isArray(sentences) || title.length !== sentences.length) {
    throw rowError(origin, "context", "the context's title and sentences lists do not pair up", `expected ${LAYOUTS}`);
  }
  return title.map((t, i) => ({ title: String(t), sentences: Array.isArray(sentences[i]) ? (sentences[i] as unknown[]) : [] }));
}

/** The sentences carry their own leading spaces, as the corpus writes them. */
const paragraphText = (p: Paragraph) => `${p.title}: ${p.sentences.map(String).join("").trim()}`;

function toMiningRow(row: unknown, origin: RowOrigin, options: LayoutOptions): MiningRow {
  const record = objectRow(row, origin, LAYOUTS);
  const question = requiredText(record, "question", origin, LAYOUTS);
  const gold = requiredText(record, "answer", origin, LAYOUTS);
  const context = options.context === false ? [] : paragraphs(record.context, origin);
  const prompt = context.length === 0 ? question : `${context.map(paragraphText).join("\n\n")}\n\nQuestion: ${question}`;
  return { id: rowId("hotpotqa", record.id ?? record._id, origin), source: "hotpotqa", prompt, gold };
}

export const HOTPOTQA: CorpusLayout = { layouts: LAYOUTS, toMiningRow };
