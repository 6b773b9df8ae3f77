/**
 * The hand-off to the external trainer (STaPLe's M-step; stape-spec §2.4, §7): a JSON request naming
 * the data file (with its sha256 and count), the model to start from and suggested settings, and a
 * `trl sft --config` YAML beside it.
 */
import { basename, dirname, relative } from "node:path";
import { DISCOVERY_PROMPTS, TARGET_MARKERS } from "../prompts/builtin-discovery.ts";
import type { TrainingExportSummary } from "./training-card.ts";

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

/** A request and the TRL config beside it (`<request>.trl.yaml`; none for the openai format). */
export interface TrainingRequestFiles {
  request: { file: string; body: TrainingRequest };
  trlConfig?: { file: string; text: string };
}

export interface TrainingRequestInput {
  /** `file` is absolute: the data and constitution paths are written relative to its directory. */
  request: TrainingRequestOptions;
  /** The export: its absolute `output` path, format, example count and digest. */
  summary: Pick<TrainingExportSummary, "output" | "format" | "exported" | "sha256">;
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
  const dataPath = relative(dirname(file), summary.output) || basename(summary.output);
  const seed = request.seed ?? 0;
  const body: TrainingRequest = {
    schema: "spri.discovery.mstep.v1",
    iter: request.iter ?? null,
    createdAt: new Date().toISOString(),
    initFrom: { model: request.baseModel },
    restartFromBase: request.restartFromBase ?? false,
    train: [{ file: dataPath, format: input.trainFormat, n: summary.exported, sha256: summary.sha256 }],
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
  return { request: { file, body }, trlConfig: { file: yaml, text: trlConfigYaml(request.baseModel, dataPath, seed, outputDir) } };
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
