/**
 * The dataset card of a `spri discover export` file (`<output>.README.md`): what the examples hold,
 * the counts read, exported and skipped, how principles were relabelled, the settings (secrets
 * removed) and the STaPLe citation.
 */
import { basename } from "node:path";
import { safeSettings } from "../../io/dataset-card.ts";
import { type RelabelKind, TRAINING_SKIP_REASONS, type TrainingSkipReason } from "./training-example.ts";
import { type DiscoveryExportFormat, TRAINING_FORMATS } from "./training-formats.ts";

export interface TrainingExportSummary {
  input: string;
  output: string;
  format: DiscoveryExportFormat;
  fileType: "jsonl" | "parquet";
  read: number;
  exported: number;
  skipped: Record<TrainingSkipReason, number>;
  /** Principles replaced by a record's zCanonical, by the cluster listing them, or by the nearest one. */
  relabelled: Record<RelabelKind, number>;
  sha256: string;
  /** The held-out examples (`--validation`), written beside the output. */
  validation?: { file: string; n: number; sha256: string };
  card?: string;
  /** The training request written beside the data, and the TRL config written beside it (every format but openai). */
  request?: string;
  trlConfig?: string;
}

/** What the card says beyond the summary: the export's own choices. */
export interface TrainingCardOptions {
  includeCritique?: boolean;
  constitutionFile?: string;
  settings?: Record<string, unknown>;
}

export const STAPLE_CITATION = `@inproceedings{ramji2025latent,
  title     = {Latent Principle Discovery for Language Model Self-Improvement},
  author    = {Ramji, Keshav and Naseem, Tahira and Fernandez Astudillo, Ram{\\'o}n},
  booktitle = {Advances in Neural Information Processing Systems},
  year      = {2025},
  note      = {arXiv:2505.16927}
}`;

function describeRelabelling(r: Record<RelabelKind, number>, exported: number, constitution: string | undefined): string {
  const replaced = r.canonical + r.member + r.nearest;
  if (replaced === 0) return "as mined";
  const parts = [
    r.canonical > 0 ? `${r.canonical} by the record's \`zCanonical\`` : "",
    r.member > 0 ? `${r.member} by constitution membership` : "",
    r.nearest > 0 ? `${r.nearest} by the nearest representative (Rouge-L)` : "",
  ].filter(Boolean);
  return `${replaced} of ${exported} replaced by cluster representatives${constitution ? ` (\`${constitution}\`)` : ""}: ${parts.join(", ")}`;
}

export function renderTrainingCard(summary: TrainingExportSummary, options: TrainingCardOptions): string {
  const { description, schema } = TRAINING_FORMATS[summary.format];
  const skippedTotal = Object.values(summary.skipped).reduce((a, b) => a + b, 0);
  const lines = [
    "---",
    `pretty_name: ${JSON.stringify(`Principle discovery ${summary.format} export: ${basename(summary.output)}`)}`,
    "tags:",
    "  - spri",
    "  - synthetic",
    "  - sft",
    "  - self-correction",
    "---",
    "",
    `# ${basename(summary.output)}`,
    "",
    "Self-correction training data exported by `spri discover export` from principle-mining trajectories (STaPLe, Ramji et al. 2025): given a request and the model's own first answer, the target is a principle, a critique and the refined answer, which scored higher against the gold response than the first answer did.",
    "",
    "## Contents",
    "",
    `- Format: \`${summary.format}\`. ${description}`,
    `- File: \`${basename(summary.output)}\` (${summary.fileType === "parquet" ? "Parquet" : "JSON Lines, one example per line"}), sha256 \`${summary.sha256}\``,
    `- Source records: \`${summary.input}\``,
    ...(summary.validation
      ? [`- Validation: \`${basename(summary.validation.file)}\`, ${summary.validation.n} examples held out (not in the training file)`]
      : []),
    `- Critique in the target: ${options.includeCritique === false ? "no" : "yes"}`,
    `- Principles: ${describeRelabelling(summary.relabelled, summary.exported, options.constitutionFile)}`,
    "",
    "### Fields",
    "",
    ...schema.map((line) => `- ${line}`),
    "",
    "## Counts",
    "",
    "| | count |",
    "|---|---:|",
    `| records read | ${summary.read} |`,
    `| exported | ${summary.exported} |`,
    `| skipped | ${skippedTotal} |`,
    ...(Object.keys(summary.skipped) as TrainingSkipReason[])
      .filter((r) => summary.skipped[r] > 0)
      .map((r) => `| skipped: ${TRAINING_SKIP_REASONS[r]} | ${summary.skipped[r]} |`),
    "",
  ];
  if (options.settings) lines.push("## Settings", "", "```json", JSON.stringify(safeSettings(options.settings), null, 2), "```", "");
  lines.push("## Citation", "", "```bibtex", STAPLE_CITATION, "```", "");
  return lines.join("\n");
}
