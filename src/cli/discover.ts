/**
 * `spri discover`: latent principle discovery (STaPLe, Ramji et al. 2025). `cluster` turns mined
 * principles into a constitution; other subcommands (mining, iterations) register on the same group.
 */
import { Command, Option } from "commander";
import { resolveSettings } from "../config/config.ts";
import { createModel, modelFactoryOptions, modelSpecs } from "../config/models.ts";
import { downloadProgress } from "./download-progress.ts";
import { ConfigError, InputError } from "../errors/errors.ts";
import { checkInputFile, type InputFormat, parseInputFormat, readInputRows } from "../io/input-reader.ts";
import { JsonlOutput } from "../io/jsonl-output.ts";
import type { LanguageModel } from "../models/language-model.ts";
import { clusterPrinciples, DEFAULT_MAX_EXACT } from "../discovery/clustering.ts";
import { type Linkage, LINKAGES } from "../discovery/linkage.ts";
import { PrincipleSet } from "../discovery/principle-set.ts";
import {
  buildConstitution,
  type ConstitutionArtifact,
  type ConstitutionMapPoint,
  MAP_TEXT_CHARS,
  nameConstitution,
  renderMarkdown,
  writeConstitution,
} from "../discovery/constitution.ts";
import { writeFileAtomic, writeJsonFile } from "../io/json-file.ts";
import { createEmbedder, type Embedder, type EmbedderSpec, EMBEDDING_SOURCES, type EmbeddingSource } from "../discovery/embeddings.ts";
import { projectPca } from "../discovery/projection.ts";
import { runKey, type RunStore } from "../store/run-store.ts";
import { openStore } from "../store/open-store.ts";
import { addSettingFlags } from "./options.ts";

/** Registers `spri discover` (with `cluster`) and returns the group, for more subcommands. */
export function discoverCommand(program: Command): Command {
  const discover = program
    .command("discover")
    .description("latent principle discovery (STaPLe): mine principles from self-corrections, cluster them into a constitution");
  clusterCommand(discover);
  discoveryWorkflowCommands(discover);
  return discover;
}

// ---------------------------------------------------------------------------------------------
// Library entry point (the CLI action maps flags onto it)

/** Where principles are looked for when no field is named, in order. */
export const DEFAULT_PRINCIPLE_FIELDS = ["principle", "best.z", "z"] as const;

export interface ClusterRunOptions {
  input: string;
  /** The constitution JSON to write. */
  output: string;
  inputFormat?: InputFormat;
  /** Dotted path of the principle in each row (a string or an array of strings). */
  field?: string;
  embedder: EmbedderSpec | Embedder;
  linkage?: Linkage;
  threshold?: number;
  clusters?: number;
  maxExact?: number;
  /** Markdown report path; default companion path, false for none. */
  markdown?: string | false;
  /** Labelled copy of the input; default: the companion path when the input holds trajectories. */
  labelled?: string | false;
  /** Names each cluster with one call when given. */
  namer?: LanguageModel;
  /**
   * Records a completed `discover/cluster` run here, with the artifact `constitution`
   * (`{ constitution, map }`, see `ConstitutionArtifact`) for the viewer.
   */
  store?: RunStore;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ClusterRunSummary {
  input: string;
  output: string;
  markdown?: string;
  labelled?: string;
  rows: number;
  rowsWithPrinciples: number;
  trajectories: number;
  mentions: number;
  uniquePrinciples: number;
  clusters: number;
  embeddings: { source: EmbeddingSource; model: string; dimension: number; inputTokens: number };
  linkage: Linkage;
  threshold?: number;
  clustersRequested?: number;
  bucketed: boolean;
  naming?: { named: number; failed: number };
  /** The run recorded in `store`, when one was given. */
  runId?: string;
  seconds: number;
}

/** Task name of the runs `runDiscoverCluster` records. */
export const CLUSTER_TASK = "discover/cluster";

/** `<output>` without a final `.json`, plus `suffix`: constitution.json → constitution.md. */
export function companionPath(output: string, suffix: string): string {
  return `${output.replace(/\.json$/i, "")}${suffix}`;
}

export async function runDiscoverCluster(options: ClusterRunOptions): Promise<ClusterRunSummary> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  checkInputFile(options.input);
  const linkage = options.linkage ?? "average";

  // Pass 1: collect and de-duplicate principles.
  const set = new PrincipleSet();
  const idsOf = new Map<number, string[]>();
  const fields = new Map<string, number>();
  let rows = 0;
  let rowsWithPrinciples = 0;
  let trajectories = 0;
  for await (const { line, value } of readInputRows(options.input, { format: options.inputFormat })) {
    rows++;
    if (isTrajectory(value)) trajectories++;
    const found = principlesOf(value, options.field, options.input, line);
    if (found === undefined) continue;
    rowsWithPrinciples++;
    fields.set(found.field, (fields.get(found.field) ?? 0) + 1);
    const id = rowId(value);
    for (const text of found.texts) {
      const index = set.add(text);
      if (index === undefined || id === undefined) continue;
      const ids = idsOf.get(index) ?? [];
      if (ids.length < 8) ids.push(id);
      idsOf.set(index, ids);
    }
  }
  if (set.size === 0) {
    throw new InputError(`no principles found in ${rows} rows`, {
      file: options.input,
      hint: options.field
        ? `check --field ${options.field}`
        : `name the field holding them with --field (looked for ${DEFAULT_PRINCIPLE_FIELDS.join(", ")})`,
    });
  }
  const unique = set.unique();
  const fieldList = [...fields.keys()];
  log(`read ${rows} rows: ${set.mentions} principles (${unique.length} unique) from ${fieldList.map((f) => `"${f}"`).join(", ")}`);

  // Embeddings.
  const embedder = isEmbedder(options.embedder) ? options.embedder : await createEmbedder(options.embedder);
  let embedded;
  try {
    log(`embedding ${unique.length} principles (${embedder.source}: ${embedder.model})`);
    embedded = await embedder.embed(
      unique.map((u, index) => ({ text: u.text, ids: idsOf.get(index) })),
      { signal: options.signal },
    );
  } finally {
    if (!isEmbedder(options.embedder)) await embedder.close?.();
  }

  // Clustering and the constitution.
  const result = clusterPrinciples(unique, embedded.vectors, {
    linkage,
    threshold: options.threshold,
    clusters: options.clusters,
    maxExact: options.maxExact,
  });
  const { clustering } = result;
  const constitution = buildConstitution(unique, result.clusters, {
    input: options.input,
    fields: fieldList,
    rows,
    trajectories,
    mentions: set.mentions,
    uniquePrinciples: unique.length,
    embeddings: { source: embedder.source, model: embedded.model, dimension: embedded.dimension },
    clustering: {
      algorithm: "agglomerative",
      linkage,
      metric: linkage === "ward" ? "euclidean (unit vectors)" : "cosine",
      ...(clustering.threshold !== undefined ? { threshold: clustering.threshold } : { clusters: clustering.clustersRequested }),
      maxExact: options.maxExact ?? DEFAULT_MAX_EXACT,
      ...(clustering.bucketing ? { bucketing: clustering.bucketing } : {}),
    },
    representative: "medoid",
    createdAt: new Date().toISOString(),
  });
  let naming: ClusterRunSummary["naming"];
  if (options.namer) {
    log(`naming ${constitution.principles.length} clusters with ${options.namer.id}`);
    const report = await nameConstitution(constitution, options.namer, { signal: options.signal });
    naming = { named: report.named, failed: report.failed };
    constitution.source.naming = { model: options.namer.id, ...naming };
    if (report.failed > 0)
      log(`warning: ${report.failed} of ${constitution.principles.length} clusters got no name (first error: ${report.firstError})`);
  }
  writeConstitution(options.output, constitution);
  const markdown = options.markdown === false ? undefined : (options.markdown ?? companionPath(options.output, ".md"));
  if (markdown) writeFileAtomic(markdown, renderMarkdown(constitution));

  // Pass 2: the input again, each principle mapped to its cluster's medoid.
  const labelled =
    options.labelled === false
      ? undefined
      : (options.labelled ?? (trajectories > 0 ? companionPath(options.output, ".labelled.jsonl") : undefined));
  if (labelled) {
    const output = new JsonlOutput(labelled);
    try {
      for await (const { line, value } of readInputRows(options.input, { format: options.inputFormat })) {
        const found = principlesOf(value, options.field, options.input, line);
        await output.write(
          found === undefined
            ? value
            : withLabels(value, found, (text) => {
                const index = set.indexOf(text);
                if (index === undefined) return undefined;
                const cluster = result.clusterOf[index]!;
                return { id: constitution.principles[cluster]!.id, text: constitution.principles[cluster]!.text };
              }),
        );
      }
      await output.commit();
    } catch (error) {
      await output.close();
      throw error;
    }
  }

  let runId: string | undefined;
  if (options.store) {
    const settings = {
      field: options.field ?? null,
      embeddings: { source: embedder.source, model: embedded.model },
      linkage,
      ...(clustering.threshold !== undefined ? { threshold: clustering.threshold } : { clusters: clustering.clustersRequested }),
      maxExact: options.maxExact ?? DEFAULT_MAX_EXACT,
    };
    const run = await options.store.createRun({
      key: runKey({ task: CLUSTER_TASK, settings, inputPath: options.input }),
      task: CLUSTER_TASK,
      status: "completed",
      settings,
      inputPath: options.input,
      outputPath: options.output,
      baseModel: `${embedder.source}:${embedded.model}`,
      ...(options.namer ? { criticModel: options.namer.id } : {}),
    });
    const projection = projectPca(embedded.vectors);
    const map = projection.points.map(
      (p): ConstitutionMapPoint => ({
        x: p.x,
        y: p.y,
        cluster: constitution.principles[result.clusterOf[p.index]!]!.id,
        text: unique[p.index]!.text.slice(0, MAP_TEXT_CHARS),
      }),
    );
    const artifact: ConstitutionArtifact = { constitution, map };
    await options.store.putArtifact(run.id, "constitution", artifact);
    runId = run.id;
    log(`recorded run ${run.id}`);
  }

  return {
    input: options.input,
    output: options.output,
    ...(markdown ? { markdown } : {}),
    ...(labelled ? { labelled } : {}),
    rows,
    rowsWithPrinciples,
    trajectories,
    mentions: set.mentions,
    uniquePrinciples: unique.length,
    clusters: constitution.principles.length,
    embeddings: { source: embedder.source, model: embedded.model, dimension: embedded.dimension, inputTokens: embedded.usage.inputTokens },
    linkage,
    ...(clustering.threshold !== undefined ? { threshold: clustering.threshold } : { clustersRequested: clustering.clustersRequested }),
    bucketed: clustering.bucketing !== undefined,
    ...(naming ? { naming } : {}),
    ...(runId ? { runId } : {}),
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

function isEmbedder(value: EmbedderSpec | Embedder): value is Embedder {
  return typeof (value as Embedder).embed === "function";
}

/** Rows with a `best` field follow the trajectory contract of `spri discover mine`. */
function isTrajectory(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "best" in value;
}

function rowId(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const id = (value as Record<string, unknown>).id;
  return typeof id === "string" || typeof id === "number" ? String(id) : undefined;
}

function getPath(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

interface FoundPrinciples {
  field: string;
  texts: string[];
  array: boolean;
}

/** The principle(s) of one row: a bare string row, or the named/first default field. */
function principlesOf(value: unknown, field: string | undefined, file: string, line: number): FoundPrinciples | undefined {
  if (typeof value === "string") return { field: "(row)", texts: [value], array: false };
  for (const candidate of field === undefined ? DEFAULT_PRINCIPLE_FIELDS : [field]) {
    const found = getPath(value, candidate);
    if (found === undefined || found === null) continue;
    if (typeof found === "string") return { field: candidate, texts: [found], array: false };
    if (Array.isArray(found) && found.every((x) => typeof x === "string"))
      return { field: candidate, texts: found as string[], array: true };
    throw new InputError("a principle must be a string or an array of strings", { file, line, field: candidate });
  }
  return undefined;
}

/** Label replacement R on one row: `zCanonical` (the medoid) and `clusterId` next to the original. */
function withLabels(value: unknown, found: FoundPrinciples, label: (text: string) => { id: string; text: string } | undefined): unknown {
  const row: Record<string, unknown> =
    typeof value === "object" && value !== null && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : { principle: value };
  const labels = found.texts.map(label);
  if (found.array) {
    row.zCanonical = labels.map((l) => l?.text ?? null);
    row.clusterId = labels.map((l) => l?.id ?? null);
  } else if (labels[0] !== undefined) {
    row.zCanonical = labels[0].text;
    row.clusterId = labels[0].id;
  }
  return row;
}

// ---------------------------------------------------------------------------------------------
// CLI

const LOCAL_MODEL = /(\.gguf$|^hf:|^huggingface:)/i;
const NAMING_SETTINGS = ["baseModel", "baseUrl", "baseProvider", "timeout"] as const;

function clusterCommand(discover: Command): void {
  const command = discover
    .command("cluster")
    .description(
      "cluster principles (or the principles of trajectories) into a constitution: embeddings, agglomerative clustering, medoid per cluster",
    )
    .requiredOption(
      "--input <file>",
      "principles (JSONL lines with a principle field, or bare strings) or trajectories of `spri discover mine`",
    )
    .requiredOption("--output <file>", "constitution JSON to write")
    .option(
      "--field <path>",
      `field holding the principle, dotted for nested fields (default: first of ${DEFAULT_PRINCIPLE_FIELDS.join(", ")})`,
    )
    .option("--input-format <name>", "format of --input when its extension does not say (jsonl, json, csv, tsv, parquet)")
    .addOption(
      new Option(
        "--embeddings <source>",
        "where vectors come from (default: file with --vectors, gguf for a .gguf/hf: model, else openai; openai needs the openai package installed, gguf node-llama-cpp)",
      ).choices([...EMBEDDING_SOURCES]),
    )
    .option(
      "--embedding-model <id>",
      "embedding model id (openai; default text-embedding-3-small on OpenAI) or GGUF path/hf: URI (gguf) (env: SPRI_EMBEDDING_MODEL)",
    )
    .option("--embedding-url <url>", "OpenAI-compatible base URL serving /embeddings (env: SPRI_EMBEDDING_URL, else OPENAI_BASE_URL)")
    .option("--vectors <file>", 'precomputed vectors: JSONL {"text", "vector"} or {"id", "vector"} lines')
    .option("--batch-size <n>", "texts per embedding request (default 64 openai, 16 gguf)")
    .option("--threshold <distance>", "cut the dendrogram at this height (default 0.3 cosine distance; 1.5 for ward)")
    .option("--clusters <k>", "cut into k clusters instead of at a height")
    .addOption(new Option("--linkage <name>", "agglomerative linkage").choices([...LINKAGES]).default("average"))
    .option(
      "--max-exact <n>",
      `unique principles clustered in one exact pass; above it, k-means buckets first (default ${DEFAULT_MAX_EXACT})`,
    )
    .option("--markdown <file>", "Markdown report (default <output without .json>.md)")
    .option(
      "--labelled <file>",
      "copy of the input with zCanonical and clusterId per row (default for trajectories: <output without .json>.labelled.jsonl)",
    )
    .option("--name-with-model", "name each cluster with one call to the base model (--base-model, --base-url, or the usual configuration)")
    .option("--json", "print the summary as JSON");
  addSettingFlags(command, [...NAMING_SETTINGS, "store"]);
  command
    .addHelpText(
      "after",
      `
Principles are normalised (whitespace collapsed, a "Principle:" label stripped) and exact duplicates
merged case-insensitively with counts before embedding. Each cluster is represented by its medoid;
the constitution lists principles by cluster size with up to 5 example members.
The run is recorded in the run store (--store) for \`spri view\`: the constitution and a 2-D map.
Environment: OPENAI_API_KEY for OpenAI embeddings; SPRI_EMBEDDING_MODEL, SPRI_EMBEDDING_URL.`,
    )
    .action(async (options: Record<string, unknown>) => {
      const env = process.env;
      const threshold = optionalNumber(options.threshold, "threshold", { min: 0 });
      const clusters = optionalNumber(options.clusters, "clusters", { integer: true, min: 1 });
      if (threshold !== undefined && clusters !== undefined) {
        throw new InputError("--threshold and --clusters exclude each other", { hint: "cut by distance or by count, not both" });
      }
      const linkage = options.linkage as Linkage;
      const spec = embedderSpec(options, env);
      let namer: LanguageModel | undefined;
      if (options.nameWithModel) namer = await namingModel(options);
      let store: RunStore | undefined;
      try {
        const resolved = resolveSettings({ flags: { store: options.store }, configFile: options.config as string | undefined });
        store = await openStore(resolved.settings.store);
        const summary = await runDiscoverCluster({
          input: String(options.input),
          output: String(options.output),
          inputFormat: options.inputFormat === undefined ? undefined : parseInputFormat(String(options.inputFormat)),
          field: options.field as string | undefined,
          embedder: spec,
          linkage,
          threshold,
          clusters,
          maxExact: optionalNumber(options.maxExact, "max-exact", { integer: true, min: 2 }),
          markdown: options.markdown as string | undefined,
          labelled: options.labelled as string | undefined,
          namer,
          store,
          log: options.json ? undefined : (line) => process.stderr.write(`spri: ${line}\n`),
        });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(summary)}\n`);
          return;
        }
        const cut = summary.threshold !== undefined ? `threshold ${summary.threshold}` : `${summary.clustersRequested} clusters asked`;
        const files = [summary.output, summary.markdown, summary.labelled].filter(Boolean).join(", ");
        process.stderr.write(
          `spri: ${summary.clusters} clusters from ${summary.uniquePrinciples} unique principles (${summary.linkage} linkage, ${cut}${summary.bucketed ? ", bucketed" : ""}) in ${summary.seconds} s → ${files}\n`,
        );
      } finally {
        await store?.close();
        await namer?.close?.();
      }
    });
}

function optionalNumber(value: unknown, flag: string, rules: { integer?: boolean; min?: number }): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (
    String(value).trim() === "" ||
    !Number.isFinite(number) ||
    (rules.integer && !Number.isInteger(number)) ||
    (rules.min !== undefined && number < rules.min)
  ) {
    const kind = rules.integer ? "an integer" : "a number";
    throw new InputError(`--${flag} must be ${kind}${rules.min !== undefined ? ` ≥ ${rules.min}` : ""} (got "${String(value)}")`, {
      field: flag,
    });
  }
  return number;
}

/** Chooses the embedding source from the flags (see the --embeddings help). */
export function embedderSpec(options: Record<string, unknown>, env: NodeJS.ProcessEnv): EmbedderSpec {
  const model = (options.embeddingModel as string | undefined) ?? (env.SPRI_EMBEDDING_MODEL || undefined);
  const url = (options.embeddingUrl as string | undefined) ?? (env.SPRI_EMBEDDING_URL || undefined);
  const vectors = options.vectors as string | undefined;
  const batchSize = optionalNumber(options.batchSize, "batch-size", { integer: true, min: 1 });
  const source =
    (options.embeddings as EmbeddingSource | undefined) ??
    (vectors !== undefined ? "file" : model !== undefined && LOCAL_MODEL.test(model) ? "gguf" : "openai");
  if (vectors !== undefined && source !== "file") throw new ConfigError(`--vectors is only read with --embeddings file (not ${source})`);
  switch (source) {
    case "file":
      if (vectors === undefined)
        throw new ConfigError("--embeddings file needs --vectors FILE", { hint: 'a JSONL file of {"text", "vector"} lines' });
      checkInputFile(vectors);
      return { source, file: vectors };
    case "gguf":
      if (model === undefined) {
        throw new ConfigError("--embeddings gguf needs --embedding-model /path/model.gguf (or an hf: URI)", {
          hint: "e.g. an all-MiniLM-L6-v2 GGUF",
        });
      }
      return { source, model, batchSize };
    case "openai": {
      const baseURL = url ?? (env.OPENAI_BASE_URL || undefined);
      if (model === undefined && baseURL !== undefined && !/api\.openai\.com/.test(baseURL)) {
        throw new ConfigError(`${baseURL} serves embeddings, but no embedding model is named`, {
          hint: "pass --embedding-model <id> (the id the server serves)",
        });
      }
      return { source, model: model ?? "text-embedding-3-small", baseURL, apiKey: env.OPENAI_API_KEY || undefined, batchSize };
    }
  }
}

async function namingModel(options: Record<string, unknown>): Promise<LanguageModel> {
  const flags: Record<string, unknown> = {};
  for (const name of NAMING_SETTINGS) if (options[name] !== undefined) flags[name] = options[name];
  const resolved = resolveSettings({ flags, configFile: options.config as string | undefined });
  const { base } = modelSpecs(resolved);
  return createModel(base, { ...modelFactoryOptions(resolved, 1), onDownload: downloadProgress() });
}

// ---------------------------------------------------------------------------------------------
// mine, export, apply, iterate: principle mining, the training hand-off, self-correction with a
// constitution and iteration bookkeeping (docs/discovery.md). Imports of these subcommands:

import { existsSync } from "node:fs";
import { resolve } from "node:path";
import type { SettingName } from "../config/config.ts";
import { loadConstitution } from "../discovery/constitution.ts";
import { DEFAULT_NEAR_DUPLICATE, entry as iterationEntry, formatStatus, iterFile, statusRows } from "../discovery/iterations.ts";
import { initIterations, readState, recordIteration, setIterationModel } from "../runner/discovery-iterations.ts";
import {
  DEFAULT_MINING_OPTIONS,
  DEFAULT_MINING_SAMPLING,
  type MiningOptions,
  miningOptions,
  SIMILARITY_KINDS,
} from "../discovery/mining-options.ts";
import { summariseMining } from "../discovery/mining-summary.ts";
import { DEFAULT_SELF_CORRECT_SAMPLING, SELF_CORRECT_MODES, type SelfCorrectMode } from "../discovery/self-correct.ts";
import { prepareMining, prepareSelfCorrect } from "../tasks/prepare-discovery.ts";
import { DISCOVERY_EXPORT_FORMATS, parseDiscoveryExportFormat } from "../discovery/training-formats.ts";
import { exportTrainingData } from "../runner/training-export.ts";
import type { SamplingOptions } from "../models/language-model.ts";
import { DISCOVERY_PROMPTS } from "../prompts/builtin-discovery.ts";
import { ENVIRONMENT_HELP } from "./options.ts";
import { addRunOptions, executeRun, newRunOption, ONE_SAMPLE } from "./run.ts";

/** Registers `mine`, `export`, `apply` and `iterate` on the `spri discover` group. */
export function discoveryWorkflowCommands(discover: Command): void {
  mineCommand(discover);
  exportDiscoveryCommand(discover);
  applyCommand(discover);
  iterateCommand(discover);
}

/** The settings flags of the commands that call models through the runner. */
const DISCOVERY_MODEL_SETTINGS: SettingName[] = [
  "baseModel",
  "baseUrl",
  "baseProvider",
  "criticModel",
  "criticUrl",
  "criticProvider",
  "topP",
  "topK",
  "seed",
  "timeout",
  "concurrency",
  "maxTokens",
  "maxCost",
  "prices",
  "cache",
  "store",
  "rejects",
  "maxTries",
  "retryDelay",
  "maxRetryWait",
  "maxResponseMib",
  "progressInterval",
  "structuredOutput",
  "httpClient",
  "model",
];

function numberOption(
  options: Record<string, unknown>,
  name: string,
  flag: string,
  check: (n: number) => boolean = Number.isFinite,
): number | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!check(n)) throw new ConfigError(`${flag} got ${JSON.stringify(value)}`, { field: name });
  return n;
}

const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;
const nonNegative = (n: number) => Number.isFinite(n) && n >= 0;

function addMineOptions(command: Command, withIter = true): Command {
  command
    .option("--gold-field <name>", "field holding the gold response", DEFAULT_MINING_OPTIONS.goldField)
    .option("--candidates <n>", "N: candidate principles per example", String(DEFAULT_MINING_OPTIONS.candidates))
    .option(
      "--similarity <f>",
      `similarity to the gold: ${SIMILARITY_KINDS.join(" or ")} (judge: the critic model's pairwise verdict, both orders)`,
      DEFAULT_MINING_OPTIONS.similarity,
    )
    .option("--stem", "Porter-stem Rouge-L tokens (rouge_score use_stemmer)")
    .option("--min-gain <x>", "accept when f(y2) − f(y1) is above this", String(DEFAULT_MINING_OPTIONS.minGain))
    .option("--min-gold-tokens <n>", "skip examples whose gold has fewer Rouge-L tokens", String(DEFAULT_MINING_OPTIONS.minGoldTokens))
    .option("--max-principle-words <n>", "reject longer principles", String(DEFAULT_MINING_OPTIONS.guard.maxWords))
    .option(
      "--leak-ngram <n>",
      "reject a principle sharing this many consecutive words with the gold (0: off)",
      String(DEFAULT_MINING_OPTIONS.guard.leakNgram),
    )
    .option(
      "--leak-precision <x>",
      "reject a principle whose Rouge-L precision against the gold is above this (1: off)",
      String(DEFAULT_MINING_OPTIONS.guard.leakPrecision),
    )
    .option("--answer-temperature <t>", "temperature of y1", String(DEFAULT_MINING_SAMPLING.answer.temperature))
    .option("--principle-temperature <t>", "temperature of the principles", String(DEFAULT_MINING_SAMPLING.principle.temperature))
    .option("--critique-temperature <t>", "temperature of the critiques", String(DEFAULT_MINING_SAMPLING.critique.temperature))
    .option("--refine-temperature <t>", "temperature of the refinements", String(DEFAULT_MINING_SAMPLING.refine.temperature))
    .option("--judge-temperature <t>", "temperature of the judge (--similarity judge)", String(DEFAULT_MINING_SAMPLING.judge.temperature))
    .option("--answer-max-tokens <n>", "most new tokens of y1", String(DEFAULT_MINING_SAMPLING.answer.maxTokens))
    .option("--refine-max-tokens <n>", "most new tokens of a refinement", String(DEFAULT_MINING_SAMPLING.refine.maxTokens));
  return withIter ? command.option("--iter <t>", "iteration number written into every record") : command;
}

/** Sampling shared by every step: --top-p, --top-k and --seed when given. */
function sharedSampling(options: Record<string, unknown>): SamplingOptions {
  return {
    ...(options.topP === undefined ? {} : { topP: numberOption(options, "topP", "--top-p") }),
    ...(options.topK === undefined ? {} : { topK: numberOption(options, "topK", "--top-k", positiveInteger) }),
    ...(options.seed === undefined ? {} : { seed: numberOption(options, "seed", "--seed", Number.isInteger) }),
  };
}

function mineOptionsFrom(options: Record<string, unknown>): MiningOptions {
  const similarity = String(options.similarity);
  if (!(SIMILARITY_KINDS as readonly string[]).includes(similarity)) {
    throw new ConfigError(`unknown --similarity "${similarity}"`, { field: "similarity", hint: `use ${SIMILARITY_KINDS.join(" or ")}` });
  }
  const shared = sharedSampling(options);
  const temperature = (name: string, flag: string) => numberOption(options, name, flag, nonNegative);
  return miningOptions({
    candidates: numberOption(options, "candidates", "--candidates must be a positive integer,", positiveInteger),
    similarity: similarity as MiningOptions["similarity"],
    stem: Boolean(options.stem),
    minGain: numberOption(options, "minGain", "--min-gain must be a number,"),
    minGoldTokens: numberOption(
      options,
      "minGoldTokens",
      "--min-gold-tokens must be an integer ≥ 0,",
      (n) => Number.isInteger(n) && n >= 0,
    ),
    goldField: String(options.goldField),
    iter: numberOption(options, "iter", "--iter must be a positive integer,", positiveInteger),
    guard: {
      maxWords: numberOption(options, "maxPrincipleWords", "--max-principle-words must be a positive integer,", positiveInteger),
      leakNgram: numberOption(options, "leakNgram", "--leak-ngram must be an integer ≥ 0,", (n) => Number.isInteger(n) && n >= 0),
      leakPrecision: numberOption(options, "leakPrecision", "--leak-precision must be a number,", nonNegative),
    },
    sampling: {
      answer: {
        ...shared,
        temperature: temperature("answerTemperature", "--answer-temperature must be a number ≥ 0,"),
        maxTokens: numberOption(options, "answerMaxTokens", "--answer-max-tokens must be a positive integer,", positiveInteger),
      },
      principle: { ...shared, temperature: temperature("principleTemperature", "--principle-temperature must be a number ≥ 0,") },
      critique: { ...shared, temperature: temperature("critiqueTemperature", "--critique-temperature must be a number ≥ 0,") },
      refine: {
        ...shared,
        temperature: temperature("refineTemperature", "--refine-temperature must be a number ≥ 0,"),
        maxTokens: numberOption(options, "refineMaxTokens", "--refine-max-tokens must be a positive integer,", positiveInteger),
      },
      judge: {
        ...(shared.seed === undefined ? {} : { seed: shared.seed }),
        temperature: temperature("judgeTemperature", "--judge-temperature must be a number ≥ 0,"),
      },
    },
  });
}

/** Runs the mining algorithm over --input, then summarises the records (stderr and <output>.summary.json). */
async function executeMine(options: Record<string, unknown>): Promise<void> {
  const mining = mineOptionsFrom(options);
  const json = Boolean(options.json);
  await executeRun(options, prepareMining(mining), ONE_SAMPLE);
  const output = String(options.output);
  if (options.dryRun || !existsSync(output)) return;
  const records: Record<string, unknown>[] = [];
  for await (const row of readInputRows(output)) records.push(row.value as Record<string, unknown>);
  const summary = { ...summariseMining(records), candidatesPerExample: mining.candidates, similarity: mining.similarity };
  writeJsonFile(`${output}.summary.json`, summary);
  if (!json) {
    process.stderr.write(
      `spri: ${summary.accepted} of ${summary.examples} examples accepted (${(summary.acceptRate * 100).toFixed(1)}%); mean gain ${summary.meanGain ?? "-"}; ${summary.rejectedCandidates} of ${summary.candidates} candidates rejected by the guard or refinement\n`,
    );
  }
}

export function mineCommand(discover: Command): Command {
  const command = discover
    .command("mine")
    .description("mine principles from self-corrections against gold responses (the STaPLe E-step); re-run the same command to resume");
  // Items are read as the sft task reads them, with no seeds: none of the task-specific fields.
  addRunOptions(command);
  addMineOptions(command);
  addSettingFlags(command, DISCOVERY_MODEL_SETTINGS);
  command.addHelpText(
    "after",
    `
Per example: the model answers (y1), writes --candidates principles with the gold shown as a hint,
then for each a critique of y1 and a refined answer (y2) without the gold. The best y2 by Rouge-L F1
against the gold is accepted only if it beats y1; principles that copy the gold are rejected.
Records: y1, candidates [{z, critique, y2, fY2, rejectedReason?}], accepted, best, decision, reason.
See docs/discovery.md.${ENVIRONMENT_HELP}`,
  );
  command.action((options: Record<string, unknown>) => executeMine(options));
  return command;
}

export function exportDiscoveryCommand(discover: Command): Command {
  return discover
    .command("export")
    .description(
      "turn accepted mining trajectories into SFT data (target: principle, critique, refined answer, given the prompt and y1) and a training request",
    )
    .requiredOption("--input <file>", "mining records (spri discover mine output)")
    .requiredOption("--output <file>", "training file (.jsonl, or .parquet for trl/star)")
    .option("--format <name>", `${DISCOVERY_EXPORT_FORMATS.join(", ")}`, "trl")
    .option(
      "--constitution <file>",
      "replace each principle by its cluster's representative (label replacement; records with zCanonical, from the labelled copy of `spri discover cluster`, use that)",
    )
    .option("--no-canonical", "ignore the records' zCanonical labels")
    .option("--no-critique", "leave the critique out of the target")
    .option("--trigger <text>", "the user turn after y1", DISCOVERY_PROMPTS.selfCorrectTrigger)
    .option("--question-field <name>", "field holding the prompt (default: first of user_input, prompt, instruction, question, input, …)")
    .option("--skip-malformed", "skip and count malformed JSONL lines")
    .option("--no-card", "do not write the dataset card <output>.README.md")
    .option("--request <file>", "also write a training request (JSON) for the external trainer, and a TRL config beside it")
    .option("--base-model <id>", "with --request: the model to train (the current policy's checkpoint or hub id)")
    .option("--iter <t>", "with --request: the iteration")
    .option("--seed <n>", "with --request: the training seed", "0")
    .option("--restart-from-base", "with --request: train the initial model on all iterations' data instead of continuing")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      `
Formats:
  trl     {"prompt": [user x, assistant y1, user trigger], "completion": [assistant target]}  (loss on the completion only)
  openai  {"messages": [user x, {assistant y1, "weight": 0}, user trigger, {assistant target, "weight": 1}]}
  star    {"prompt": [user x], "completion": [assistant y2]}  (STaR baseline, no principle)
Target: "[Principle] z\\n[Critique] c\\n[Revised response]\\ny2". Records that were not accepted are skipped.`,
    )
    .action(async (options: Record<string, unknown>) => {
      const format = parseDiscoveryExportFormat(String(options.format));
      if (options.request !== undefined && options.baseModel === undefined) {
        throw new ConfigError("--request needs --base-model (the model the trainer starts from)", { field: "baseModel" });
      }
      const constitutionFile = options.constitution as string | undefined;
      const summary = await exportTrainingData({
        input: String(options.input),
        output: String(options.output),
        format,
        constitution: constitutionFile === undefined ? undefined : loadConstitution(constitutionFile),
        constitutionFile,
        useCanonical: options.canonical !== false,
        includeCritique: options.critique !== false,
        trigger: String(options.trigger),
        questionField: options.questionField as string | undefined,
        skipMalformed: Boolean(options.skipMalformed),
        card: options.card !== false,
        request:
          options.request === undefined
            ? undefined
            : {
                file: String(options.request),
                baseModel: String(options.baseModel),
                iter: numberOption(options, "iter", "--iter must be a positive integer,", positiveInteger),
                seed: numberOption(options, "seed", "--seed must be an integer,", Number.isInteger),
                restartFromBase: Boolean(options.restartFromBase),
              },
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        return;
      }
      const skipped = (Object.keys(summary.skipped) as (keyof typeof summary.skipped)[])
        .filter((k) => summary.skipped[k] > 0)
        .map((k) => `${summary.skipped[k]} ${k}`);
      process.stderr.write(
        `spri: exported ${summary.exported} of ${summary.read} records to ${summary.output} (${format})${skipped.length ? `; skipped ${skipped.join(", ")}` : ""}\n`,
      );
      const { canonical, member, nearest } = summary.relabelled;
      if (canonical + member + nearest > 0)
        process.stderr.write(
          `spri: principles replaced by cluster representatives: ${canonical} by zCanonical, ${member} as constitution members, ${nearest} by nearest Rouge-L\n`,
        );
      if (summary.request) process.stderr.write(`spri: training request ${summary.request}\n`);
    });
}

export function applyCommand(discover: Command): Command {
  const command = discover
    .command("apply")
    .description(
      "self-correct at inference: answer, pick the most relevant constitution principle and revise if it applies (or --mode trained for a model trained on the export)",
    );
  // Items are read as the sft task reads them, with no seeds: none of the task-specific fields.
  addRunOptions(command);
  command
    .option("--constitution <file>", "the constitution (constitution mode)")
    .option("--mode <mode>", `${SELF_CORRECT_MODES.join(" or ")}`, "constitution")
    .option("--response-field <name>", "field holding an existing first response (default: the model answers)")
    .option("--max-principles <n>", "show at most this many principles (the largest clusters)")
    .option("--answer-temperature <t>", "temperature of the first answer", String(DEFAULT_SELF_CORRECT_SAMPLING.answer.temperature))
    .option("--select-temperature <t>", "temperature of the principle choice", String(DEFAULT_SELF_CORRECT_SAMPLING.select.temperature))
    .option(
      "--refine-temperature <t>",
      "temperature of the critique and refinement (trained mode: of the self-correction)",
      String(DEFAULT_SELF_CORRECT_SAMPLING.refine.temperature),
    );
  addSettingFlags(
    command,
    DISCOVERY_MODEL_SETTINGS.filter((name) => !name.startsWith("critic")),
  );
  command.addHelpText(
    "after",
    `
Records add init_response (y1), response_final (y2 when revised, else y1), self_correct_applied,
self_correct_principle_id, self_correct_principle, self_correct_critique, self_correct_reason.
Compare y2 with y1: spri compare --a out.jsonl --b out.jsonl --response-field init_response --response-field-b response_final …
${ENVIRONMENT_HELP}`,
  );
  command.action((options: Record<string, unknown>) => {
    const mode = String(options.mode);
    if (!(SELF_CORRECT_MODES as readonly string[]).includes(mode))
      throw new ConfigError(`unknown --mode "${mode}"`, { field: "mode", hint: `use ${SELF_CORRECT_MODES.join(" or ")}` });
    if (mode === "constitution" && options.constitution === undefined)
      throw new ConfigError("--mode constitution needs --constitution <file>", { field: "constitution" });
    const shared = sharedSampling(options);
    const temperature = (name: string, flag: string) => numberOption(options, name, `${flag} must be a number ≥ 0,`, nonNegative);
    const pick = (base: SamplingOptions, t: number | undefined): SamplingOptions => ({
      ...base,
      ...shared,
      ...(t === undefined ? {} : { temperature: t }),
    });
    const refine = temperature("refineTemperature", "--refine-temperature");
    const prepare = prepareSelfCorrect({
      mode: mode as SelfCorrectMode,
      constitution: options.constitution === undefined ? undefined : loadConstitution(String(options.constitution)),
      maxPrinciples: numberOption(options, "maxPrinciples", "--max-principles must be a positive integer,", positiveInteger),
      responseField: options.responseField as string | undefined,
      sampling: {
        answer: pick(DEFAULT_SELF_CORRECT_SAMPLING.answer, temperature("answerTemperature", "--answer-temperature")),
        select: pick(DEFAULT_SELF_CORRECT_SAMPLING.select, temperature("selectTemperature", "--select-temperature")),
        critique: pick(DEFAULT_SELF_CORRECT_SAMPLING.critique, refine),
        refine: pick(DEFAULT_SELF_CORRECT_SAMPLING.refine, refine),
      },
    });
    return executeRun(options, prepare, ONE_SAMPLE);
  });
  return command;
}

export function iterateCommand(discover: Command): Command {
  const iterate = discover
    .command("iterate")
    .description(
      "bookkeeping across STaPLe iterations in a directory: disjoint prompt slices, each iteration's model, discovery rate and constitution size",
    );
  const dir = (c: Command) => c.requiredOption("--dir <dir>", "the iterations directory (state.json)");
  const iterOption = (c: Command) => c.requiredOption("--iter <t>", "iteration number (from 1)");
  const iterOf = (options: Record<string, unknown>) =>
    numberOption(options, "iter", "--iter must be a positive integer,", positiveInteger)!;

  dir(iterate.command("init").description("split a (prompt, gold) dataset into disjoint slices, one per iteration"))
    .requiredOption("--input <file>", "the dataset (any format spri run reads)")
    .option("--slices <k>", "K equal slices (default 4)")
    .option("--sizes <list>", "slice sizes, comma-separated (e.g. 50000,10000,10000,10000); the rest is unused")
    .option("--seed <s>", "seed of the split", "0")
    .option("--id-field <name>", "field holding the row id (default: id, else the line number)", "id")
    .option("--base-model <id>", "the initial model (iteration 1)")
    .option("--base-url <url>", "its OpenAI-compatible base URL")
    .option("--force", "overwrite an existing state")
    .action(async (options: Record<string, unknown>) => {
      const sizes =
        options.sizes === undefined
          ? undefined
          : String(options.sizes)
              .split(",")
              .map((s) => Number(s.trim()));
      const state = await initIterations({
        dir: String(options.dir),
        input: String(options.input),
        slices: numberOption(options, "slices", "--slices must be a positive integer,", positiveInteger),
        sizes,
        seed: String(options.seed),
        idField: String(options.idField),
        force: Boolean(options.force),
        model:
          options.baseModel === undefined
            ? undefined
            : { baseModel: String(options.baseModel), ...(options.baseUrl === undefined ? {} : { baseUrl: String(options.baseUrl) }) },
      });
      process.stdout.write(formatStatus(state));
    });

  iterOption(
    dir(
      iterate.command("model").description("record the model that mines an iteration (for t > 1: the one trained after iteration t − 1)"),
    ),
  )
    .requiredOption("--base-model <id>", "model id as served")
    .option("--base-url <url>", "OpenAI-compatible base URL")
    .option("--base-provider <name>", "provider, when it cannot be inferred")
    .option("--note <text>", "e.g. the checkpoint path")
    .action((options: Record<string, unknown>) => {
      const state = setIterationModel(String(options.dir), iterOf(options), {
        baseModel: String(options.baseModel),
        baseUrl: options.baseUrl as string | undefined,
        baseProvider: options.baseProvider as string | undefined,
        note: options.note as string | undefined,
      });
      process.stdout.write(formatStatus(state));
    });

  const mine = iterOption(
    dir(
      iterate
        .command("mine")
        .description("mine an iteration's slice with its model (spri discover mine with the paths and model from the state)"),
    ),
  )
    .option("--output <file>", "mining records (default <dir>/iter-<t>/mined.jsonl)")
    .option("--question-field <name>", "field holding the prompt")
    .option("--no-cache", "do not read or write the call cache")
    .option("--refresh", "call the models again and overwrite cached answers")
    .option("--dry-run", "estimate calls, tokens and cost, and spend nothing")
    .option("--json", "print the run summary as JSON")
    .addOption(newRunOption());
  addMineOptions(mine, false);
  addSettingFlags(mine, DISCOVERY_MODEL_SETTINGS);
  mine.action(async (options: Record<string, unknown>) => {
    const root = String(options.dir);
    const iter = iterOf(options);
    const state = readState(root);
    const current = iterationEntry(state, iter);
    const model = current.model;
    if (!model && options.baseModel === undefined) {
      throw new ConfigError(`no model is recorded for iteration ${iter}`, {
        field: "baseModel",
        hint: `run spri discover iterate model --dir ${root} --iter ${iter} --base-model <id> --base-url <url>, or pass --base-model`,
      });
    }
    if (options.baseModel === undefined && model) {
      options.baseModel = model.baseModel;
      if (options.baseUrl === undefined && model.baseUrl !== undefined) options.baseUrl = model.baseUrl;
      if (options.baseProvider === undefined && model.baseProvider !== undefined) options.baseProvider = model.baseProvider;
    }
    options.input = resolve(root, current.slice.file);
    options.output ??= iterFile(root, iter, "mined");
    options.idField = state.dataset.idField;
    await executeMine(options);
  });

  iterOption(
    dir(
      iterate
        .command("record")
        .description("compute an iteration's statistics (accepted, new principles, discovery rate, constitution size) into the state"),
    ),
  )
    .option("--mined <file>", "mining records (default <dir>/iter-<t>/mined.jsonl)")
    .option("--constitution <file>", "the iteration's constitution (default <dir>/iter-<t>/constitution.json when present)")
    .option("--near-duplicate <x>", "Rouge-L F1 at or above which a principle is not new", String(DEFAULT_NEAR_DUPLICATE))
    .action(async (options: Record<string, unknown>) => {
      const state = await recordIteration(String(options.dir), iterOf(options), {
        mined: options.mined as string | undefined,
        constitution: options.constitution as string | undefined,
        threshold: numberOption(options, "nearDuplicate", "--near-duplicate must be a number in [0, 1],", (n) => n >= 0 && n <= 1),
        readConstitution: loadConstitution,
      });
      process.stdout.write(formatStatus(state));
    });

  dir(iterate.command("status").description("print the iterations table"))
    .option("--json", "print the state as JSON")
    .action((options: Record<string, unknown>) => {
      const state = readState(String(options.dir));
      process.stdout.write(options.json ? `${JSON.stringify({ ...state, table: statusRows(state) }, null, 2)}\n` : formatStatus(state));
    });
  return iterate;
}
