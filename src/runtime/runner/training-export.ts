/**
 * `spri discover export`: accepted mining trajectories from a records file as SFT data (JSON Lines or
 * Parquet), with a dataset card (`<output>.README.md`) and, on request, a training request and TRL
 * config for the external trainer. The examples, card and request are built in discovery/; this file
 * reads and writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { labelMap, type ConstitutionLike } from "../../algorithms/discovery/label-map.ts";
import { renderTrainingCard, type TrainingExportSummary } from "../../algorithms/discovery/training-card.ts";
import {
  type RelabelKind,
  type TrainingExampleOptions,
  type TrainingSkipReason,
  toDiscoveryExample,
} from "../../algorithms/discovery/training-example.ts";
import { parseDiscoveryExportFormat, TRAINING_FORMATS } from "../../algorithms/discovery/training-formats.ts";
import {
  fileTypeOf,
  type TrainingDataFile,
  type TrainingRequestOptions,
  trainingRequest,
} from "../../algorithms/discovery/training-request.ts";
import { checkValidationFraction, heldOut, splitKey } from "../../algorithms/discovery/validation-split.ts";
import { InputError } from "../../base/errors/errors.ts";
import { datasetCardPath } from "../../io/dataset-card.ts";
import { checkInputFile, readInputRows } from "../../io/input-reader.ts";
import { writeFileAtomic, writeJsonFile } from "../../io/json-file.ts";
import { recordQuestion, writeExampleFile } from "../../io/exports.ts";
import { sha256File } from "../../io/sha256-file.ts";

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
  request?: ExportRequestOptions;
  /** Hold out this fraction of the examples in `<output stem>.valid.<ext>` (default 0: none). */
  validation?: number;
  /** Seed of the validation split (default 0). */
  splitSeed?: number;
}

/** The training request, with the earlier iterations' training files (for `restartFromBase`) as paths. */
export interface ExportRequestOptions extends Omit<TrainingRequestOptions, "previous"> {
  previousFiles?: readonly string[];
}

/** Where the held-out examples of `output` go: `sft.jsonl` → `sft.valid.jsonl`. */
export function validationPath(output: string): string {
  const match = /\.(jsonl|json|parquet|pq)$/i.exec(output);
  return match ? `${output.slice(0, match.index)}.valid${match[0]}` : `${output}.valid`;
}

export async function exportTrainingData(options: TrainingExportOptions): Promise<TrainingExportSummary> {
  const { input, output, format } = options;
  parseDiscoveryExportFormat(String(format));
  checkInputFile(input);
  if (resolve(output) === resolve(input)) throw new InputError("--output must differ from --input", { file: output });
  const fileType = options.fileType ?? fileTypeOf(output);
  const fraction = checkValidationFraction(options.validation ?? 0);
  const info = TRAINING_FORMATS[format];
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
  const validation: Record<string, unknown>[] = [];

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
      if (fraction > 0 && isHeldOut(row.value as Record<string, unknown>)) {
        validation.push(result.example);
        continue;
      }
      exported++;
      yield result.example;
    }
  }

  const isHeldOut = (record: Record<string, unknown>) =>
    heldOut(splitKey(record, recordQuestion(record, options.questionField) ?? ""), fraction, options.splitSeed);

  const parquet = { columns: info.columns, metadata: { "spri.discovery.export.format": format } };
  await writeExampleFile(output, fileType, examples(), parquet);
  let validationFile: TrainingExportSummary["validation"];
  if (fraction > 0) {
    const file = validationPath(output);
    await writeExampleFile(file, fileType, fromArray(validation), parquet);
    validationFile = { file, n: validation.length, sha256: await sha256File(file) };
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
    ...(validationFile ? { validation: validationFile } : {}),
  };
  if (options.card !== false) summary.card = writeCard(summary, options);
  if (options.request) {
    const { previousFiles, ...request } = options.request;
    const previous = await Promise.all((previousFiles ?? []).map((file) => describeDataFile(file, info.trainFormat)));
    const written = writeTrainingRequest(summary, options, info.trainFormat, { ...request, previous });
    summary.request = written.request;
    if (written.trlConfig !== undefined) summary.trlConfig = written.trlConfig;
  }
  return summary;
}

async function* fromArray<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows;
}

/** An earlier iteration's training file as the request names it: its digest, row count and type. */
async function describeDataFile(file: string, trainFormat: string): Promise<TrainingDataFile> {
  checkInputFile(file);
  let n = 0;
  for await (const _row of readInputRows(file)) n++;
  return { file: resolve(file), format: trainFormat, n, sha256: await sha256File(file), fileType: fileTypeOf(file) };
}

function writeCard(summary: TrainingExportSummary, options: TrainingExportOptions): string {
  const path = datasetCardPath(summary.output);
  writeFileSync(path, renderTrainingCard(summary, options), "utf8");
  return path;
}

function writeTrainingRequest(
  summary: TrainingExportSummary,
  options: TrainingExportOptions,
  trainFormat: string,
  request: TrainingRequestOptions,
): { request: string; trlConfig?: string } {
  const file = resolve(request.file);
  mkdirSync(dirname(file), { recursive: true });
  const files = trainingRequest({
    request: { ...request, file },
    summary: {
      ...summary,
      output: resolve(summary.output),
      ...(summary.validation ? { validation: { ...summary.validation, file: resolve(summary.validation.file) } } : {}),
    },
    trainFormat,
    includeCritique: options.includeCritique,
    trigger: options.trigger,
    constitutionFile: options.constitutionFile === undefined ? undefined : resolve(options.constitutionFile),
  });
  if (files.trlConfig) writeFileAtomic(files.trlConfig.file, files.trlConfig.text);
  writeJsonFile(files.request.file, files.request.body);
  return { request: file, ...(files.trlConfig ? { trlConfig: files.trlConfig.file } : {}) };
}
