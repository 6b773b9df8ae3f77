/**
 * Training-data exports: the output records of `spri run` (JSON Lines) streamed into the formats
 * fine-tuning tools read. The SFT pair is (question, `response_final`); preference pairs take
 * `response_final` as chosen and the first draft `init_response` as rejected.
 *
 * - `messages`: OpenAI chat fine-tuning / TRL conversational, `{"messages":[system?, user, assistant]}`
 * - `prompt-completion`: TRL prompt-completion, `{"prompt", "completion"}`
 * - `preference`: DPO, `{"prompt", "chosen", "rejected"}`
 * - `sharegpt`: `{"conversations":[{"from":"system"}?, {"from":"human"}, {"from":"gpt"}]}`
 * - `alpaca`: `{"instruction", "input": "", "output"}`
 *
 * Output is JSON Lines, written as records arrive, or Parquet, written one row group at a time with
 * typed columns (strings; `messages`/`conversations` as native LIST<STRUCT<...>> columns). Records
 * that cannot make an example are skipped and counted by reason.
 */
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { InputError } from "../base/errors/errors.ts";
import { writeDatasetCard } from "./dataset-card.ts";
import { type InputFormat, checkInputFile, readInputRows } from "./input-reader.ts";
import { writeJsonlAtomically } from "./jsonl-output.ts";
import { type ParquetColumn, writeParquetRows } from "./parquet.ts";
import { ANY_QUESTION_FIELDS } from "./question-fields.ts";

export type ExportFormat = "messages" | "prompt-completion" | "preference" | "sharegpt" | "alpaca";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["messages", "prompt-completion", "preference", "sharegpt", "alpaca"];
export type ExportFileType = "jsonl" | "parquet";

export type SkipReason = "malformed" | "not-an-object" | "no-question" | "no-response" | "no-rejected" | "identical";
export const SKIP_REASONS: Record<SkipReason, string> = {
  malformed: "malformed JSON line",
  "not-an-object": "record is not a JSON object",
  "no-question": "no question (missing, empty or not a string)",
  "no-response": "no response_final",
  "no-rejected": "no init_response to reject",
  identical: "init_response equals response_final",
};

interface FormatSpec {
  description: string;
  columns: readonly ParquetColumn[];
  schema: readonly string[];
  systemPrompt: boolean;
}

const FORMATS: Record<ExportFormat, FormatSpec> = {
  messages: {
    description:
      "OpenAI chat fine-tuning and TRL conversational format: a system message (when given), the question as the user message, the SPRI response as the assistant message.",
    columns: [{ name: "messages", kind: "struct-list", fields: ["role", "content"] }],
    schema: ["`messages` (list of {`role`: string, `content`: string}): roles `system` (optional), `user`, `assistant`"],
    systemPrompt: true,
  },
  "prompt-completion": {
    description: "TRL prompt-completion format.",
    columns: [
      { name: "prompt", kind: "string" },
      { name: "completion", kind: "string" },
    ],
    schema: ["`prompt` (string): the question", "`completion` (string): the SPRI response (`response_final`)"],
    systemPrompt: false,
  },
  preference: {
    description: "DPO preference pairs (TRL standard preference format): the SPRI-refined response is chosen over the first draft.",
    columns: [
      { name: "prompt", kind: "string" },
      { name: "chosen", kind: "string" },
      { name: "rejected", kind: "string" },
    ],
    schema: ["`prompt` (string): the question", "`chosen` (string): `response_final`", "`rejected` (string): `init_response`"],
    systemPrompt: false,
  },
  sharegpt: {
    description: "ShareGPT conversations (LLaMA-Factory, Axolotl).",
    columns: [{ name: "conversations", kind: "struct-list", fields: ["from", "value"] }],
    schema: ["`conversations` (list of {`from`: string, `value`: string}): `system` (optional), `human`, `gpt`"],
    systemPrompt: true,
  },
  alpaca: {
    description: "Alpaca instruction format.",
    columns: [
      { name: "instruction", kind: "string" },
      { name: "input", kind: "string" },
      { name: "output", kind: "string" },
    ],
    schema: [
      "`instruction` (string): the question",
      "`input` (string): always empty",
      "`output` (string): the SPRI response (`response_final`)",
    ],
    systemPrompt: false,
  },
};

export function parseExportFormat(value: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(value)) return value as ExportFormat;
  throw new InputError(`unknown export format "${value}"`, { field: "format", hint: `use one of ${EXPORT_FORMATS.join(", ")}` });
}

/** `parquet` for a `.parquet` output, else `jsonl`. */
export function exportFileTypeOf(output: string): ExportFileType {
  return /\.(parquet|pq)$/i.test(output) ? "parquet" : "jsonl";
}

export interface ExampleOptions {
  questionField?: string;
  /** messages and sharegpt only: a system message put first in every example. */
  systemPrompt?: string;
}

export type ExampleResult = { example: Record<string, unknown>; skip?: undefined } | { skip: SkipReason; example?: undefined };

function nonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/** The record's question: the named field, else the first present of ANY_QUESTION_FIELDS. */
export function recordQuestion(record: Record<string, unknown>, questionField?: string): string | undefined {
  const field = questionField ?? ANY_QUESTION_FIELDS.find((name) => record[name] !== undefined && record[name] !== null);
  const value = field === undefined ? undefined : record[field];
  return nonEmptyString(value) ? value : undefined;
}

/** One output record as one training example of `format`, or why it cannot be one. */
export function toTrainingExample(record: unknown, format: ExportFormat, options: ExampleOptions = {}): ExampleResult {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return { skip: "not-an-object" };
  const row = record as Record<string, unknown>;
  const response = row.response_final;
  if (!nonEmptyString(response)) return { skip: "no-response" };
  const question = recordQuestion(row, options.questionField);
  if (question === undefined) return { skip: "no-question" };
  const system = options.systemPrompt ? options.systemPrompt : undefined;
  switch (format) {
    case "messages":
      return {
        example: {
          messages: [
            ...(system === undefined ? [] : [{ role: "system", content: system }]),
            { role: "user", content: question },
            { role: "assistant", content: response },
          ],
        },
      };
    case "prompt-completion":
      return { example: { prompt: question, completion: response } };
    case "preference": {
      const rejected = row.init_response;
      if (!nonEmptyString(rejected)) return { skip: "no-rejected" };
      if (rejected.trim() === response.trim()) return { skip: "identical" };
      return { example: { prompt: question, chosen: response, rejected } };
    }
    case "sharegpt":
      return {
        example: {
          conversations: [
            ...(system === undefined ? [] : [{ from: "system", value: system }]),
            { from: "human", value: question },
            { from: "gpt", value: response },
          ],
        },
      };
    case "alpaca":
      return { example: { instruction: question, input: "", output: response } };
  }
}

export interface ExportOptions extends ExampleOptions {
  /** The records file (`spri run` output, JSON Lines; `.json`, `.csv`, `.parquet` are read too). */
  input: string;
  output: string;
  format: ExportFormat;
  /** Default: from the output's extension (`.parquet` → parquet, else jsonl). */
  fileType?: ExportFileType;
  /** Overrides the records file's format, inferred from its extension. */
  inputFormat?: InputFormat;
  /** Skip (and count) malformed JSONL lines instead of failing on the first. Default false. */
  skipMalformed?: boolean;
  /** Write `<output>.README.md` (default true). */
  card?: boolean;
  /** Run settings for the card, as a plain object; secret-looking fields are dropped. */
  settings?: Record<string, unknown>;
  /** Parquet rows per row group (default 10,000). */
  rowGroupSize?: number;
}

export interface ExportSummary {
  input: string;
  output: string;
  format: ExportFormat;
  fileType: ExportFileType;
  /** Records read (malformed lines included). */
  read: number;
  exported: number;
  skipped: Record<SkipReason, number>;
  skippedTotal: number;
  /** The dataset card's path, when written. */
  card?: string;
}

/** Streams the records in `input` into `output` as training examples; see the module comment. */
export async function exportRecords(options: ExportOptions): Promise<ExportSummary> {
  const { input, output, format } = options;
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) parseExportFormat(String(format));
  checkInputFile(input);
  if (resolve(output) === resolve(input)) throw new InputError("--output must differ from --input", { file: output });
  const spec = FORMATS[format];
  if (options.systemPrompt && !spec.systemPrompt) {
    throw new InputError(`a system prompt does not fit the ${format} format`, {
      field: "systemPrompt",
      hint: "use --system-prompt with --format messages or sharegpt",
    });
  }
  const fileType = options.fileType ?? exportFileTypeOf(output);
  if (fileType !== "jsonl" && fileType !== "parquet") {
    throw new InputError(`unknown export file type "${String(fileType)}"`, { hint: "use jsonl or parquet" });
  }
  mkdirSync(dirname(resolve(output)), { recursive: true });

  const skipped: Record<SkipReason, number> = {
    malformed: 0,
    "not-an-object": 0,
    "no-question": 0,
    "no-response": 0,
    "no-rejected": 0,
    identical: 0,
  };
  let read = 0;
  let exported = 0;

  async function* examples(): AsyncGenerator<Record<string, unknown>> {
    const rows = readInputRows(input, { format: options.inputFormat, onMalformed: options.skipMalformed ? "yield" : "throw" });
    for await (const row of rows) {
      read++;
      if (row.error) {
        skipped.malformed++;
        continue;
      }
      const result = toTrainingExample(row.value, format, options);
      if (result.skip) {
        skipped[result.skip]++;
        continue;
      }
      exported++;
      yield result.example;
    }
  }

  await writeExampleFile(output, fileType, examples(), {
    columns: spec.columns,
    metadata: { "spri.export.format": format },
    rowGroupSize: options.rowGroupSize,
  });

  const summary: ExportSummary = {
    input,
    output,
    format,
    fileType,
    read,
    exported,
    skipped,
    skippedTotal: Object.values(skipped).reduce((a, b) => a + b, 0),
  };
  if (options.card !== false) {
    summary.card = writeDatasetCard({
      output,
      source: input,
      format,
      formatDescription: spec.description,
      fileType,
      schema: spec.schema,
      read,
      exported,
      skipped: (Object.keys(skipped) as SkipReason[]).map((reason) => ({ reason: SKIP_REASONS[reason], count: skipped[reason] })),
      questionField: options.questionField,
      autoQuestionFields: ANY_QUESTION_FIELDS,
      systemPrompt: spec.systemPrompt ? options.systemPrompt || undefined : undefined,
      settings: options.settings,
    });
  }
  return summary;
}

/**
 * Writes training examples to `file` as JSON Lines, or as Parquet with `parquet.columns` and its
 * metadata in the footer (a format whose examples have no columns cannot be Parquet).
 */
export async function writeExampleFile(
  file: string,
  fileType: ExportFileType,
  examples: AsyncIterable<Record<string, unknown>>,
  parquet: { columns: readonly ParquetColumn[] | undefined; metadata: Record<string, string>; rowGroupSize?: number },
): Promise<void> {
  if (fileType === "jsonl") return writeJsonlAtomically(file, examples);
  if (parquet.columns === undefined) {
    throw new InputError("these examples have no Parquet columns", { file, field: "format", hint: "write JSON Lines (.jsonl)" });
  }
  await writeParquetRows(file, parquet.columns, examples, { rowGroupSize: parquet.rowGroupSize, metadata: parquet.metadata });
}

/** "12 without response_final, 3 identical ..." for messages; empty when nothing was skipped. */
export function describeSkipped(skipped: Record<SkipReason, number>): string {
  return (Object.keys(skipped) as SkipReason[])
    .filter((reason) => skipped[reason] > 0)
    .map((reason) => `${skipped[reason]} ${SKIP_REASONS[reason]}`)
    .join(", ");
}
