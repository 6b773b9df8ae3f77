/**
 * The hand-off to the external trainer (STaPLe's M-step; stape-spec §2.4, §7): a JSON request naming
 * the data file (with its sha256 and count), the model to start from and suggested settings, and a
 * `trl sft --config` YAML beside it.
 */
import { basename, dirname, relative } from "node:path";
import { DISCOVERY_PROMPTS, TARGET_MARKERS } from "../../io/prompts/builtin-discovery.ts";
import type { TrainingExportSummary } from "./training-card.ts";

export interface TrainingRequestOptions {
  /** Where the request goes (JSON). */
  file: string;
  /** The model to train: the current policy M_t (checkpoint or hub id). */
  baseModel: string;
  iter?: number;
  seed?: number;
  /**
   * Train M_0 on the union of all iterations' data instead of continuing from M_t: `baseModel` is
   * then M_0, and `previous` lists the earlier iterations' training files.
   */
  restartFromBase?: boolean;
  /** With `restartFromBase`: the earlier iterations' training files (absolute paths), oldest first. */
  previous?: readonly TrainingDataFile[];
}

/** One training file as the request names it (`file` absolute until the request makes it relative). */
export interface TrainingDataFile {
  file: string;
  format: string;
  n: number;
  sha256: string;
  fileType: "jsonl" | "parquet";
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
  /** Every file trained on (with `restartFromBase`, the earlier iterations' first), relative to the request. */
  train: { file: string; format: string; n: number; sha256: string }[];
  /** The held-out examples of this iteration's export, when it was split. */
  validation: { file: string; format: string; n: number; sha256: string } | null;
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

/** A request and the TRL config beside it (`<request>.trl.yaml`; none for the openai format). */
export interface TrainingRequestFiles {
  request: { file: string; body: TrainingRequest };
  trlConfig?: { file: string; text: string };
}

export interface TrainingRequestInput {
  /** `file` is absolute: the data and constitution paths are written relative to its directory. */
  request: TrainingRequestOptions;
  /** The export: its absolute `output` path, format, example count and digest. */
  summary: Pick<TrainingExportSummary, "output" | "format" | "exported" | "sha256" | "validation"> &
    Partial<Pick<TrainingExportSummary, "fileType">>;
  trainFormat: string;
  includeCritique?: boolean;
  trigger?: string;
  /** Absolute path of the constitution used for label replacement. */
  constitutionFile?: string;
}

/** The training request for an export, and the TRL config it names, as texts to write. */
export function trainingRequest(input: TrainingRequestInput): TrainingRequestFiles {
  const { request, summary } = input;
  const file = request.file;
  const relativePath = (path: string) => relative(dirname(file), path) || basename(path);
  const fileType = summary.fileType ?? fileTypeOf(summary.output);
  const current: TrainingDataFile = {
    file: summary.output,
    format: input.trainFormat,
    n: summary.exported,
    sha256: summary.sha256,
    fileType,
  };
  // Restarting from M_0 only makes sense on the union of the iterations' data (stape-spec §2.4).
  const data = [...(request.restartFromBase ? (request.previous ?? []) : []), current].map((d) => ({ ...d, file: relativePath(d.file) }));
  const validation = summary.validation
    ? { ...summary.validation, file: relativePath(summary.validation.file), format: input.trainFormat, fileType }
    : undefined;
  const seed = request.seed ?? 0;
  const body: TrainingRequest = {
    schema: "spri.discovery.mstep.v1",
    iter: request.iter ?? null,
    createdAt: new Date().toISOString(),
    initFrom: { model: request.baseModel },
    restartFromBase: request.restartFromBase ?? false,
    train: data.map(({ file, format, n, sha256 }) => ({ file, format, n, sha256 })),
    validation: validation ? { file: validation.file, format: validation.format, n: validation.n, sha256: validation.sha256 } : null,
    lossOn: summary.format === "openai" ? "weighted-messages" : "completion",
    target: {
      markers: TARGET_MARKERS,
      includeCritique: input.includeCritique ?? true,
      trigger: input.trigger ?? DISCOVERY_PROMPTS.selfCorrectTrigger,
    },
    constitution: input.constitutionFile ? relative(dirname(file), input.constitutionFile) : null,
    suggestedHparams: SUGGESTED_HPARAMS,
    seed,
    trlConfig: null,
    exampleCommand: "",
  };
  if (summary.format === "openai") {
    body.exampleCommand = "upload the file to a chat fine-tuning service that reads per-message weights; TRL: export --format trl instead";
    return { request: { file, body } };
  }
  const yaml = `${file}.trl.yaml`;
  const outputDir = `out/mstep${request.iter === undefined ? "" : `-iter${request.iter}`}`;
  body.trlConfig = basename(yaml);
  body.exampleCommand = `trl sft --config ${basename(yaml)}`;
  const text = trlConfigYaml({ model: request.baseModel, data, validation, seed, outputDir });
  return { request: { file, body }, trlConfig: { file: yaml, text } };
}

export function fileTypeOf(path: string): "jsonl" | "parquet" {
  return /\.(parquet|pq)$/i.test(path) ? "parquet" : "jsonl";
}

/** A float PyYAML reads as a float (it needs a dot before an exponent: `1.0e-5`, not `1e-5`). */
function yamlFloat(x: number): string {
  const [mantissa, exponent] = x.toExponential().split("e");
  return `${mantissa!.includes(".") ? mantissa : `${mantissa}.0`}e${exponent}`;
}

/** What a TRL config trains: the model, its data files (relative to where `trl` runs), a validation file. */
export interface TrlConfigInput {
  model: string;
  data: readonly Pick<TrainingDataFile, "file" | "fileType">[];
  validation?: Pick<TrainingDataFile, "file" | "fileType">;
  seed?: number;
  outputDir?: string;
}

/**
 * A `trl sft --config` YAML over local data files (TRL's dataset mixture `datasets:` list, TRL
 * 0.20 or later): one entry per file, loaded by the `datasets` builder of its type (`json` or
 * `parquet`); a validation file becomes the entry's `test` split, evaluated each epoch. Check flags
 * against your version.
 */
export function trlConfigYaml(input: TrlConfigInput): string {
  const h = SUGGESTED_HPARAMS;
  const entry = (d: Pick<TrainingDataFile, "file" | "fileType">, split?: Pick<TrainingDataFile, "file">) => [
    `  - path: ${d.fileType === "parquet" ? "parquet" : "json"}`,
    split
      ? `    data_files: {"train": ${JSON.stringify(d.file)}, "test": ${JSON.stringify(split.file)}}`
      : `    data_files: ${JSON.stringify(d.file)}`,
  ];
  const last = input.data.length - 1;
  return [
    `model_name_or_path: ${JSON.stringify(input.model)}`,
    "datasets:",
    ...input.data.flatMap((d, i) => entry(d, i === last ? input.validation : undefined)),
    ...(input.validation ? ["eval_strategy: epoch"] : []),
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
    `seed: ${input.seed ?? 0}`,
    `output_dir: ${JSON.stringify(input.outputDir ?? "out/mstep")}`,
    "",
  ].join("\n");
}
