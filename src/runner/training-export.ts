/**
 * `spri discover export`: accepted mining trajectories from a records file as SFT data (JSON Lines or
 * Parquet), with a dataset card (`<output>.README.md`) and, on request, a training request and TRL
 * config for the external trainer. The examples, card and request are built in discovery/; this file
 * reads and writes.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { labelMap, type ConstitutionLike } from "../discovery/label-map.ts";
import { renderTrainingCard, type TrainingExportSummary } from "../discovery/training-card.ts";
import {
  type RelabelKind,
  type TrainingExampleOptions,
  type TrainingSkipReason,
  toDiscoveryExample,
} from "../discovery/training-example.ts";
import { parseDiscoveryExportFormat, TRAINING_FORMATS } from "../discovery/training-formats.ts";
import { type TrainingRequestOptions, trainingRequest } from "../discovery/training-request.ts";
import { InputError } from "../errors/errors.ts";
import { datasetCardPath } from "../io/dataset-card.ts";
import { checkInputFile, readInputRows } from "../io/input-reader.ts";
import { writeFileAtomic, writeJsonFile } from "../io/json-file.ts";
import { writeJsonlAtomically } from "../io/jsonl-output.ts";
import { writeParquetRows } from "../io/parquet.ts";
import { sha256File } from "../io/sha256-file.ts";

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

export async function exportTrainingData(options: TrainingExportOptions): Promise<TrainingExportSummary> {
  const { input, output, format } = options;
  parseDiscoveryExportFormat(String(format));
  checkInputFile(input);
  if (resolve(output) === resolve(input)) throw new InputError("--output must differ from --input", { file: output });
  const fileType = options.fileType ?? (/\.(parquet|pq)$/i.test(output) ? "parquet" : "jsonl");
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
  if (options.card !== false) summary.card = writeCard(summary, options);
  if (options.request) summary.request = writeTrainingRequest(summary, options, info.trainFormat, options.request);
  return summary;
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
): string {
  const file = resolve(request.file);
  mkdirSync(dirname(file), { recursive: true });
  const files = trainingRequest({
    request: { ...request, file },
    summary: { ...summary, output: resolve(summary.output) },
    trainFormat,
    includeCritique: options.includeCritique,
    trigger: options.trigger,
    constitutionFile: options.constitutionFile === undefined ? undefined : resolve(options.constitutionFile),
  });
  if (files.trlConfig) writeFileAtomic(files.trlConfig.file, files.trlConfig.text);
  writeJsonFile(files.request.file, files.request.body);
  return file;
}
