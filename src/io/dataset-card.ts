/**
 * A short dataset card (Markdown) for an export: what the file holds, how many examples were
 * exported and skipped and why, where they came from, the run settings when the caller passes them
 * (secrets removed), and the SPRI citation.
 *
 * The card is written beside the export as `<output>.README.md` (e.g. `train.jsonl.README.md`):
 * one card per export file, and never over an unrelated `README.md` in the output directory. To
 * publish on the Hugging Face Hub, upload it as the dataset's `README.md`; its YAML header is
 * already in the Hub's format.
 */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";

export const SPRI_CITATION = `@InProceedings{pmlr-v267-zhan25a,
  title     = {{SPRI}: Aligning Large Language Models with Context-Situated Principles},
  author    = {Zhan, Hongli and Azmat, Muneeza and Horesh, Raya and Li, Junyi Jessy and Yurochkin, Mikhail},
  booktitle = {Proceedings of the 42nd International Conference on Machine Learning},
  series    = {Proceedings of Machine Learning Research},
  volume    = {267},
  pages     = {74370--74405},
  year      = {2025}
}`;

export interface DatasetCardInput {
  /** The export file the card describes. */
  output: string;
  /** The records file it was exported from. */
  source: string;
  format: string;
  /** One sentence on the format (who reads it). */
  formatDescription: string;
  fileType: "jsonl" | "parquet";
  /** One line per field or column, e.g. "`prompt` (string): the question". */
  schema: readonly string[];
  read: number;
  exported: number;
  skipped: readonly { reason: string; count: number }[];
  /** The question field named by the caller; undefined means auto-detected. */
  questionField?: string;
  autoQuestionFields?: readonly string[];
  systemPrompt?: string;
  /** Run settings as a plain object; secret-looking fields and values are dropped. */
  settings?: Record<string, unknown>;
  createdAt?: Date;
}

/** Where the card for an export goes: `<output>.README.md`. */
export function datasetCardPath(output: string): string {
  return `${output}.README.md`;
}

const SECRET_NAME = /key|secret|passw|pwd|credential|auth|cookie|bearer|signature/i;
const SECRET_VALUE =
  /\bsk-[A-Za-z0-9_-]{12,}|\bsk-ant-|\bgh[pousr]_[A-Za-z0-9]{16,}|\bgithub_pat_|\bxox[abprs]-|\bAKIA[0-9A-Z]{12,}|\bhf_[A-Za-z0-9]{16,}|\bAIza[0-9A-Za-z_-]{20,}|\bBearer\s+\S|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|[?&](?:api[_-]?key|key|token|access[_-]?token|secret|sig|signature)=|:\/\/[^/\s:@]+:[^/\s@]+@|-----BEGIN [A-Z ]*PRIVATE KEY/i;

/** True for a field name that may hold a credential. Numeric `...Tokens` fields are counts, not secrets. */
function secretName(name: string, value: unknown): boolean {
  if (SECRET_NAME.test(name)) return true;
  if (/token/i.test(name)) return !(/tokens$/i.test(name) && typeof value === "number");
  return false;
}

/**
 * A copy of `settings` safe to publish: fields whose name suggests a credential (key, token,
 * secret, password, auth, ...) and string values that look like one (API-key prefixes, bearer
 * tokens, JWTs, URLs with a password or a key in the query) are dropped, at any depth.
 */
export function safeSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(settings)) {
    if (secretName(name, value)) continue;
    const safe = safeValue(value);
    if (safe !== undefined) out[name] = safe;
  }
  return out;
}

function safeValue(value: unknown): unknown {
  if (value === null || typeof value === "number" || typeof value === "boolean") return value;
  if (typeof value === "string") return SECRET_VALUE.test(value) ? undefined : value;
  if (typeof value === "bigint") return value.toString();
  if (Array.isArray(value)) return value.map(safeValue).filter((v) => v !== undefined);
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return safeSettings(value as Record<string, unknown>);
  return undefined;
}

/** Inline code that survives backticks in the text. */
function code(text: string): string {
  const longest = Math.max(0, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return longest > 0 ? `${fence} ${text} ${fence}` : `${fence}${text}${fence}`;
}

function block(text: string, language = ""): string {
  const longest = Math.max(2, ...Array.from(text.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

export function renderDatasetCard(input: DatasetCardInput): string {
  const createdAt = input.createdAt ?? new Date();
  const skippedTotal = input.skipped.reduce((sum, s) => sum + s.count, 0);
  const tags = ["spri", "synthetic", input.format === "preference" ? "dpo" : "sft"];
  const lines: string[] = [
    "---",
    `pretty_name: ${JSON.stringify(`SPRI ${input.format} export: ${basename(input.output)}`)}`,
    "tags:",
    ...tags.map((tag) => `  - ${tag}`),
    "---",
    "",
    `# ${basename(input.output)}`,
    "",
    `Training data exported by ${code("spri export")} from the output records of SPRI (Zhan et al., *SPRI: Aligning Large Language Models with Context-Situated Principles*, ICML 2025): each example pairs an input's question with ${input.format === "preference" ? "the SPRI-refined response (chosen) and the first draft (rejected)" : "the response SPRI refined under its context-situated principles"} (${code("response_final")}).`,
    "",
    "## Contents",
    "",
    `- Format: ${code(input.format)}. ${input.formatDescription}`,
    `- File: ${code(basename(input.output))} (${input.fileType === "parquet" ? "Parquet" : "JSON Lines, one example per line"})`,
    `- Source records: ${code(input.source)}`,
    `- Question field: ${
      input.questionField !== undefined
        ? code(input.questionField)
        : `auto-detected per record (first present of ${(input.autoQuestionFields ?? []).map(code).join(", ")})`
    }`,
    `- System prompt: ${input.systemPrompt ? "the one below, on every example" : "none"}`,
    `- Created: ${createdAt.toISOString()}`,
    "",
    "### Fields",
    "",
    ...input.schema.map((line) => `- ${line}`),
    "",
  ];
  if (input.systemPrompt) lines.push("### System prompt", "", block(input.systemPrompt, "text"), "");
  lines.push("## Counts", "", "| | count |", "|---|---:|", `| records read | ${input.read} |`, `| exported | ${input.exported} |`);
  lines.push(`| skipped | ${skippedTotal} |`);
  for (const skip of input.skipped) if (skip.count > 0) lines.push(`| skipped: ${skip.reason} | ${skip.count} |`);
  lines.push("");
  if (input.settings !== undefined) {
    lines.push(
      "## Run settings",
      "",
      "API keys and other secret-looking settings are left out.",
      "",
      block(JSON.stringify(safeSettings(input.settings), null, 2), "json"),
      "",
    );
  }
  lines.push("## Citation", "", block(SPRI_CITATION, "bibtex"), "");
  return lines.join("\n");
}

/** Writes the card to `datasetCardPath(input.output)` and returns that path. */
export function writeDatasetCard(input: DatasetCardInput): string {
  const path = datasetCardPath(input.output);
  writeFileSync(path, renderDatasetCard(input), "utf8");
  return path;
}
