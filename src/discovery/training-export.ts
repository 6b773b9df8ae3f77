/**
 * The training hand-off (STaPLe's M-step runs in an external trainer; stape-spec §2.4, §7): accepted
 * mining trajectories as SFT data. The model learns, given the prompt x and its own first answer y1,
 * to write a principle, a critique and the refined answer; y1 is context and is never trained on.
 *
 * Formats (one example per accepted record):
 * - `trl`: TRL conversational prompt-completion. `prompt` = [user x, assistant y1, user trigger],
 *   `completion` = [assistant target]. SFTTrainer computes the loss on the completion only for
 *   prompt-completion data (`completion_only_loss`, on by default in recent TRL), so y1 is masked.
 * - `openai`: OpenAI chat fine-tuning messages with per-message weights: y1 has `"weight": 0`, the
 *   target `"weight": 1`. JSON Lines only (Parquet columns here are strings).
 * - `star`: the STaR baseline (refinements without principles): prompt [user x], completion
 *   [assistant y2].
 *
 * Target text (stable delimiters; `parseSelfCorrection` reads them back at inference):
 *   [Principle] z
 *   [Critique] c          (left out with includeCritique: false)
 *   [Revised response]
 *   y2
 *
 * Label replacement (stape-spec §2.3 R, "Constrained STaPLe"): a record that carries `zCanonical`
 * (the labelled copy `spri discover cluster` writes, `<constitution>.labelled.jsonl`) trains on that
 * representative. Otherwise, with a constitution, the principle is replaced by the representative
 * whose example members contain it (normalised), else by the one nearest to it by Rouge-L F1 (the
 * constitution keeps only a few example members per cluster, so prefer the labelled copy).
 *
 * Beside the data: a dataset card (`<output>.README.md`) and, on request, a training request (JSON)
 * naming the data file (with its sha256), the base model and suggested settings.
 */
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, relative, resolve } from "node:path";
import { InputError } from "../errors/errors.ts";
import { datasetCardPath, safeSettings } from "../io/dataset-card.ts";
import { checkInputFile, readInputRows } from "../io/input-reader.ts";
import { writeFileAtomic, writeJsonFile } from "../io/json-file.ts";
import { writeJsonlAtomically } from "../io/jsonl-output.ts";
import { type ParquetColumn, writeParquetRows } from "../io/parquet.ts";
import { recordQuestion } from "../io/exports.ts";
import { DISCOVERY_PROMPTS, TARGET_MARKERS } from "../prompts/builtin-discovery.ts";
import { principleKey } from "./principle-set.ts";
import type { BestCandidate } from "./mining.ts";
import { normalisePrinciple } from "./mined-principle.ts";
import { rougeL } from "./rouge-l.ts";

export type DiscoveryExportFormat = "trl" | "openai" | "star";
export const DISCOVERY_EXPORT_FORMATS: readonly DiscoveryExportFormat[] = ["trl", "openai", "star"];

export function parseDiscoveryExportFormat(value: string): DiscoveryExportFormat {
  if ((DISCOVERY_EXPORT_FORMATS as readonly string[]).includes(value)) return value as DiscoveryExportFormat;
  throw new InputError(`unknown export format "${value}"`, { field: "format", hint: `use one of ${DISCOVERY_EXPORT_FORMATS.join(", ")}` });
}

// ---- the target text ------------------------------------------------------------------------

export interface SelfCorrection {
  principle: string;
  critique?: string;
  revised: string;
}

export function formatTarget(correction: SelfCorrection, includeCritique = true): string {
  const lines = [`${TARGET_MARKERS.principle} ${correction.principle.trim()}`];
  if (includeCritique && correction.critique !== undefined && correction.critique.trim() !== "") {
    lines.push(`${TARGET_MARKERS.critique} ${correction.critique.trim()}`);
  }
  lines.push(TARGET_MARKERS.revised, correction.revised.trim());
  return lines.join("\n");
}

/** A trained model's self-correction, or null when it has no `[Revised response]` block. */
export function parseSelfCorrection(text: string): SelfCorrection | null {
  const revisedAt = text.indexOf(TARGET_MARKERS.revised);
  if (revisedAt < 0) return null;
  const revised = text.slice(revisedAt + TARGET_MARKERS.revised.length).trim();
  if (revised === "") return null;
  const head = text.slice(0, revisedAt);
  const principleAt = head.indexOf(TARGET_MARKERS.principle);
  const critiqueAt = head.indexOf(TARGET_MARKERS.critique);
  const principleEnd = critiqueAt > principleAt ? critiqueAt : head.length;
  const principle = principleAt < 0 ? "" : head.slice(principleAt + TARGET_MARKERS.principle.length, principleEnd).trim();
  const critique = critiqueAt < 0 ? undefined : head.slice(critiqueAt + TARGET_MARKERS.critique.length).trim();
  return { principle, ...(critique === undefined ? {} : { critique }), revised };
}

// ---- label replacement ----------------------------------------------------------------------

/** What label replacement needs of a constitution (src/discovery/constitution.ts). */
export interface ConstitutionLike {
  principles: readonly { id: string | number; text: string; members?: readonly unknown[] }[];
}

export interface LabelMap {
  /** The representative of a principle, and how it was found. */
  lookup(principle: string): { text: string; id: string; how: "member" | "nearest" };
}

function memberText(member: unknown): string | undefined {
  if (typeof member === "string") return member;
  if (member && typeof member === "object") {
    const m = member as Record<string, unknown>;
    for (const key of ["text", "principle", "z"]) if (typeof m[key] === "string") return m[key] as string;
  }
  return undefined;
}

function key(text: string): string {
  return principleKey(normalisePrinciple(text));
}

export function labelMap(constitution: ConstitutionLike): LabelMap {
  if (constitution.principles.length === 0)
    throw new InputError("the constitution holds no principles", { hint: "cluster a non-empty set of principles first" });
  const byMember = new Map<string, { text: string; id: string }>();
  for (const p of constitution.principles) {
    const rep = { text: p.text, id: String(p.id) };
    byMember.set(key(p.text), rep);
    for (const m of p.members ?? []) {
      const text = memberText(m);
      if (text !== undefined && !byMember.has(key(text))) byMember.set(key(text), rep);
    }
  }
  return {
    lookup(principle) {
      const hit = byMember.get(key(principle));
      if (hit) return { ...hit, how: "member" };
      let best = constitution.principles[0]!;
      let bestScore = -1;
      for (const p of constitution.principles) {
        const score = rougeL(p.text, principle).fmeasure;
        if (score > bestScore) {
          bestScore = score;
          best = p;
        }
      }
      return { text: best.text, id: String(best.id), how: "nearest" };
    },
  };
}

// ---- examples -------------------------------------------------------------------------------

/** How a principle was replaced: the record's own `zCanonical`, constitution membership, nearest representative. */
export type RelabelKind = "canonical" | "member" | "nearest";

export type TrainingSkipReason = "malformed" | "not-an-object" | "not-accepted" | "no-question" | "incomplete";
export const TRAINING_SKIP_REASONS: Record<TrainingSkipReason, string> = {
  malformed: "malformed JSON line",
  "not-an-object": "record is not a JSON object",
  "not-accepted": "no accepted trajectory",
  "no-question": "no prompt (missing, empty or not a string)",
  incomplete: "accepted but y1 or the best candidate is incomplete",
};

export interface TrainingExampleOptions {
  format: DiscoveryExportFormat;
  questionField?: string;
  /** Put the critique into the target (default true). */
  includeCritique?: boolean;
  /** The user turn after y1 (default DISCOVERY_PROMPTS.selfCorrectTrigger). */
  trigger?: string;
  labels?: LabelMap;
  /** Use a record's `zCanonical` when it has one (default true). */
  useCanonical?: boolean;
}

export type TrainingExampleResult =
  | { example: Record<string, unknown>; relabelled?: RelabelKind; skip?: undefined }
  | { skip: TrainingSkipReason; example?: undefined };

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value.trim() !== "";
}

/** One mining record as one SFT example, or why it cannot be one. */
export function toDiscoveryExample(record: unknown, options: TrainingExampleOptions): TrainingExampleResult {
  if (typeof record !== "object" || record === null || Array.isArray(record)) return { skip: "not-an-object" };
  const row = record as Record<string, unknown>;
  if (row.accepted !== true) return { skip: "not-accepted" };
  const question = recordQuestion(row, options.questionField);
  if (question === undefined) return { skip: "no-question" };
  const best = row.best as Partial<BestCandidate> | null | undefined;
  const y1 = row.y1;
  if (!best || !nonEmpty(best.z) || !nonEmpty(best.y2) || !nonEmpty(y1)) return { skip: "incomplete" };
  const user = (content: string) => ({ role: "user", content });
  const assistant = (content: string) => ({ role: "assistant", content });
  if (options.format === "star") return { example: { prompt: [user(question)], completion: [assistant(best.y2)] } };

  let principle = best.z;
  let relabelled: RelabelKind | undefined;
  if (options.useCanonical !== false && nonEmpty(row.zCanonical)) {
    principle = row.zCanonical;
    relabelled = "canonical";
  } else if (options.labels) {
    const label = options.labels.lookup(best.z);
    principle = label.text;
    relabelled = label.how;
  }
  const target = formatTarget({ principle, critique: best.critique, revised: best.y2 }, options.includeCritique ?? true);
  const trigger = options.trigger ?? DISCOVERY_PROMPTS.selfCorrectTrigger;
  const example =
    options.format === "trl"
      ? { prompt: [user(question), assistant(y1), user(trigger)], completion: [assistant(target)] }
      : {
          messages: [
            user(question),
            { role: "assistant", content: y1, weight: 0 },
            user(trigger),
            { role: "assistant", content: target, weight: 1 },
          ],
        };
  return { example, ...(relabelled ? { relabelled } : {}) };
}

// ---- the export -----------------------------------------------------------------------------

export interface TrainingRequestOptions {
  /** Where the request goes (JSON). */
  file: string;
  /** The model to train: the current policy M_t (checkpoint or hub id). */
  baseModel: string;
  iter?: number;
  seed?: number;
  /** Train M_0 on the union of all iterations' data instead of continuing from M_t. */
  restartFromBase?: boolean;
}

export interface TrainingExportOptions extends Omit<TrainingExampleOptions, "labels"> {
  /** Mining records (`spri discover mine` output). */
  input: string;
  output: string;
  /** Default: `parquet` for a `.parquet` output, else `jsonl`. */
  fileType?: "jsonl" | "parquet";
  /** A constitution file for label replacement (principles → cluster representatives). */
  constitution?: ConstitutionLike;
  constitutionFile?: string;
  skipMalformed?: boolean;
  /** Write `<output>.README.md` (default true). */
  card?: boolean;
  settings?: Record<string, unknown>;
  request?: TrainingRequestOptions;
}

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
  card?: string;
  request?: string;
}

const FORMAT_INFO: Record<
  DiscoveryExportFormat,
  { description: string; schema: string[]; trainFormat: string; columns?: ParquetColumn[] }
> = {
  trl: {
    description:
      "TRL conversational prompt-completion: the prompt holds the request, the model's first answer and the self-correction request; the completion holds the principle, critique and refined answer (loss on the completion only).",
    schema: [
      "`prompt` (list of {`role`, `content`}): user request, assistant first answer (y1, not trained on), user self-correction request",
      "`completion` (list of {`role`, `content`}): one assistant message, `[Principle] …`, `[Critique] …`, `[Revised response]` and the refined answer",
    ],
    trainFormat: "trl.conversational.prompt_completion",
    columns: [
      { name: "prompt", kind: "struct-list", fields: ["role", "content"] },
      { name: "completion", kind: "struct-list", fields: ["role", "content"] },
    ],
  },
  openai: {
    description:
      "OpenAI chat fine-tuning messages with weights: the first answer (y1) has weight 0 and is not trained on; the self-correction has weight 1.",
    schema: [
      "`messages` (list of {`role`, `content`, `weight`?}): user request, assistant y1 (`weight` 0), user self-correction request, assistant self-correction (`weight` 1)",
    ],
    trainFormat: "openai.chat.weighted",
  },
  star: {
    description: "STaR baseline, TRL conversational prompt-completion: the request and the refined answer, without principle or critique.",
    schema: [
      "`prompt` (list of {`role`, `content`}): the user request",
      "`completion` (list of {`role`, `content`}): the refined answer (y2)",
    ],
    trainFormat: "trl.conversational.prompt_completion",
    columns: [
      { name: "prompt", kind: "struct-list", fields: ["role", "content"] },
      { name: "completion", kind: "struct-list", fields: ["role", "content"] },
    ],
  },
};

export async function exportTrainingData(options: TrainingExportOptions): Promise<TrainingExportSummary> {
  const { input, output, format } = options;
  parseDiscoveryExportFormat(String(format));
  checkInputFile(input);
  if (resolve(output) === resolve(input)) throw new InputError("--output must differ from --input", { file: output });
  const fileType = options.fileType ?? (/\.(parquet|pq)$/i.test(output) ? "parquet" : "jsonl");
  const info = FORMAT_INFO[format];
  if (fileType === "parquet" && !info.columns) {
    throw new InputError(`the ${format} format cannot be written as Parquet (its messages carry numeric weights)`, {
      field: "format",
      hint: "write JSON Lines (.jsonl)",
    });
  }
  mkdirSync(dirname(resolve(output)), { recursive: true });
  const labels = options.constitution && format !== "star" ? labelMap(options.constitution) : undefined;
  const skipped: Record<TrainingSkipReason, number> = {
    malformed: 0,
    "not-an-object": 0,
    "not-accepted": 0,
    "no-question": 0,
    incomplete: 0,
  };
  const relabelled: Record<RelabelKind, number> = { canonical: 0, member: 0, nearest: 0 };
  let read = 0;
  let exported = 0;

  async function* examples(): AsyncGenerator<Record<string, unknown>> {
    for await (const row of readInputRows(input, { onMalformed: options.skipMalformed ? "yield" : "throw" })) {
      read++;
      if ("error" in row && row.error) {
        skipped.malformed++;
        continue;
      }
      const result = toDiscoveryExample(row.value, { ...options, labels });
      if (result.skip) {
        skipped[result.skip]++;
        continue;
      }
      if (result.relabelled) relabelled[result.relabelled]++;
      exported++;
      yield result.example;
    }
  }

  if (fileType === "parquet") {
    await writeParquetRows(output, info.columns!, examples(), { metadata: { "spri.discovery.export.format": format } });
  } else {
    await writeJsonlAtomically(output, examples());
  }

  const summary: TrainingExportSummary = {
    input,
    output,
    format,
    fileType,
    read,
    exported,
    skipped,
    relabelled,
    sha256: await sha256File(output),
  };
  if (options.card !== false) summary.card = writeCard(summary, options, info.description, info.schema);
  if (options.request) summary.request = writeTrainingRequest(summary, options, info.trainFormat, options.request);
  return summary;
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
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

function writeCard(summary: TrainingExportSummary, options: TrainingExportOptions, description: string, schema: string[]): string {
  const path = datasetCardPath(summary.output);
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
  writeFileSync(path, lines.join("\n"), "utf8");
  return path;
}

/** Suggested SFT settings (stape-spec §5; the paper's are unknown). */
export const SUGGESTED_HPARAMS = Object.freeze({
  trainer: "trl.SFTTrainer",
  finetuning: "full",
  dtype: "bfloat16",
  learningRate: 1e-5,
  epochs: 2,
  lrScheduler: "cosine",
  warmupRatio: 0.03,
  effectiveBatchSize: 64,
  maxLength: 4096,
  completionOnlyLoss: true,
  lora: { r: 64, alpha: 128, learningRate: 1e-4, note: "if GPU-limited" },
});

export interface TrainingRequest {
  schema: "spri.discovery.mstep.v1";
  iter: number | null;
  createdAt: string;
  initFrom: { model: string };
  restartFromBase: boolean;
  train: { file: string; format: string; n: number; sha256: string }[];
  lossOn: "completion" | "weighted-messages";
  target: { markers: typeof TARGET_MARKERS; includeCritique: boolean; trigger: string };
  constitution: string | null;
  suggestedHparams: typeof SUGGESTED_HPARAMS;
  seed: number;
  /** A `trl sft` config written beside the request (`<request>.trl.yaml`), relative to the request. */
  trlConfig: string | null;
  /** An example TRL command line, run from the request's directory (check it against the TRL version used). */
  exampleCommand: string;
}

function writeTrainingRequest(
  summary: TrainingExportSummary,
  options: TrainingExportOptions,
  trainFormat: string,
  request: TrainingRequestOptions,
): string {
  const file = resolve(request.file);
  mkdirSync(dirname(file), { recursive: true });
  const dataPath = relative(dirname(file), resolve(summary.output)) || basename(summary.output);
  const seed = request.seed ?? 0;
  const body: TrainingRequest = {
    schema: "spri.discovery.mstep.v1",
    iter: request.iter ?? null,
    createdAt: new Date().toISOString(),
    initFrom: { model: request.baseModel },
    restartFromBase: request.restartFromBase ?? false,
    train: [{ file: dataPath, format: trainFormat, n: summary.exported, sha256: summary.sha256 }],
    lossOn: summary.format === "openai" ? "weighted-messages" : "completion",
    target: {
      markers: TARGET_MARKERS,
      includeCritique: options.includeCritique ?? true,
      trigger: options.trigger ?? DISCOVERY_PROMPTS.selfCorrectTrigger,
    },
    constitution: options.constitutionFile ? relative(dirname(file), resolve(options.constitutionFile)) : null,
    suggestedHparams: SUGGESTED_HPARAMS,
    seed,
    trlConfig: null,
    exampleCommand: "",
  };
  if (summary.format === "openai") {
    body.exampleCommand = "upload the file to a chat fine-tuning service that reads per-message weights; TRL: export --format trl instead";
  } else {
    const yaml = `${file}.trl.yaml`;
    const outputDir = `out/mstep${request.iter === undefined ? "" : `-iter${request.iter}`}`;
    writeFileAtomic(yaml, trlConfigYaml(request.baseModel, dataPath, seed, outputDir));
    body.trlConfig = basename(yaml);
    body.exampleCommand = `trl sft --config ${basename(yaml)}`;
  }
  writeJsonFile(file, body);
  return file;
}

/** A float PyYAML reads as a float (it needs a dot before an exponent: `1.0e-5`, not `1e-5`). */
function yamlFloat(x: number): string {
  const [mantissa, exponent] = x.toExponential().split("e");
  return `${mantissa!.includes(".") ? mantissa : `${mantissa}.0`}e${exponent}`;
}

/**
 * A `trl sft --config` YAML over the local data file (TRL's dataset mixture `datasets:` list, TRL
 * 0.20 or later; paths relative to the directory `trl` runs in). Check flags against your version.
 */
export function trlConfigYaml(model: string, data: string, seed = 0, outputDir = "out/mstep"): string {
  const h = SUGGESTED_HPARAMS;
  return [
    `model_name_or_path: ${JSON.stringify(model)}`,
    "datasets:",
    "  - path: json",
    `    data_files: ${JSON.stringify(data)}`,
    `learning_rate: ${yamlFloat(h.learningRate)}`,
    `num_train_epochs: ${h.epochs}`,
    `lr_scheduler_type: ${h.lrScheduler}`,
    `warmup_ratio: ${h.warmupRatio}`,
    "per_device_train_batch_size: 4",
    `gradient_accumulation_steps: ${h.effectiveBatchSize / 4}`,
    `max_length: ${h.maxLength}`,
    "bf16: true",
    "completion_only_loss: true",
    "gradient_checkpointing: true",
    `seed: ${seed}`,
    `output_dir: ${JSON.stringify(outputDir)}`,
    "",
  ].join("\n");
}
