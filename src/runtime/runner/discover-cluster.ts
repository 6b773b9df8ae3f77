/**
 * `spri discover cluster` as a library call: read the principles of an input file, embed and cluster
 * them, write the constitution (JSON, Markdown) and a labelled copy of the input, and record the run
 * with its constitution and 2-D map for the viewer.
 */
import { createEmbeddingModel, type EmbedderSpec, type EmbeddingSource } from "../../config/embedder.ts";
import type { ClusterCountChoice, ClusterCountOptions } from "../../algorithms/discovery/cluster-count.ts";
import { clusterPrinciples, DEFAULT_MAX_EXACT } from "../../algorithms/discovery/clustering.ts";
import {
  buildConstitution,
  type ConstitutionArtifact,
  type ConstitutionMapPoint,
  MAP_TEXT_CHARS,
  nameConstitution,
  renderMarkdown,
  writeConstitution,
} from "../../algorithms/discovery/constitution.ts";
import { createEmbedder, type Embedder, type EmbeddingModelFactory } from "../../algorithms/discovery/embeddings.ts";
import type { Linkage } from "../../algorithms/discovery/linkage.ts";
import { DEFAULT_PRINCIPLE_FIELDS, isTrajectory, principlesOf, rowId, withLabels } from "../../algorithms/discovery/principle-rows.ts";
import { PrincipleSet } from "../../algorithms/discovery/principle-set.ts";
import { projectPca } from "../../algorithms/discovery/projection.ts";
import { InputError } from "../../base/errors/errors.ts";
import { checkInputFile, type InputFormat, readInputRows } from "../../io/input-reader.ts";
import { writeFileAtomic } from "../../io/json-file.ts";
import { JsonlOutput } from "../../io/jsonl-output.ts";
import type { LanguageModel } from "../../models/language-model.ts";
import type { CacheMode } from "../store/call-cache.ts";
import { CachedEmbeddingModel, canEmbed } from "../store/embedding-cache.ts";
import { runKey, type RunStore } from "../store/run-store.ts";

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
  /** A fixed count, or "auto" (the default when no threshold is given either): silhouette over a range of k. */
  clusters?: number | "auto";
  /** Range and sample of the automatic count. */
  clusterCount?: ClusterCountOptions;
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
  /**
   * How a model's embeddings use the call cache of `store` (default `use`): each text's vector is
   * kept there as its batch comes back, so a re-run after kill -9 embeds only the texts that have none.
   */
  cache?: CacheMode;
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
  /** The automatic count: the criterion, the k range tried, the k chosen and its silhouette. */
  clusterCount?: Omit<ClusterCountChoice, "scores">;
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
  let cached: CachedEmbeddingModel | undefined;
  const cachedModel: EmbeddingModelFactory = async (spec) => {
    const model = await createEmbeddingModel(spec);
    const mode = options.cache ?? "use";
    if (!options.store || mode === "off" || !canEmbed(model)) return model;
    return (cached = new CachedEmbeddingModel(model, options.store.cache, mode));
  };
  const embedder = isEmbedder(options.embedder) ? options.embedder : await createEmbedder(options.embedder, cachedModel);
  let embedded;
  try {
    log(`embedding ${unique.length} principles (${embedder.source}: ${embedder.model})`);
    embedded = await embedder.embed(
      unique.map((u, index) => ({ text: u.text, ids: idsOf.get(index) })),
      { signal: options.signal },
    );
    if (cached?.hits) log(`${cached.hits} of ${unique.length} embeddings from the run store, embedded by an earlier run`);
  } finally {
    if (!isEmbedder(options.embedder)) await embedder.close?.();
  }

  // Clustering and the constitution.
  const result = clusterPrinciples(unique, embedded.vectors, {
    linkage,
    threshold: options.threshold,
    clusters: options.clusters ?? (options.threshold === undefined ? "auto" : undefined),
    clusterCount: options.clusterCount,
    maxExact: options.maxExact,
  });
  const { clustering } = result;
  const cut = cutSettings(clustering);
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
      ...cut,
      maxExact: options.maxExact ?? DEFAULT_MAX_EXACT,
      ...(clustering.clusterCount ? { silhouetteByK: clustering.clusterCount.scores } : {}),
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
      ...cut,
      maxExact: options.maxExact ?? DEFAULT_MAX_EXACT,
    };
    // The same command is the same run (found by its key, as `spri run` finds its own): a re-run, or
    // the loop's cluster stage resumed after kill -9, replaces its constitution instead of adding a run.
    const key = runKey({ task: CLUSTER_TASK, settings, inputPath: options.input });
    const run =
      (await options.store.findRunByKey(key)) ??
      (await options.store.createRun({
        key,
        task: CLUSTER_TASK,
        status: "completed",
        settings,
        inputPath: options.input,
        outputPath: options.output,
        baseModel: `${embedder.source}:${embedded.model}`,
        ...(options.namer ? { criticModel: options.namer.id } : {}),
      }));
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
    ...(clustering.threshold !== undefined ? { threshold: clustering.threshold } : {}),
    ...(clustering.clustersRequested !== undefined ? { clustersRequested: clustering.clustersRequested } : {}),
    ...(cut.clusterCount ? { clusterCount: cut.clusterCount } : {}),
    bucketed: clustering.bucketing !== undefined,
    ...(naming ? { naming } : {}),
    ...(runId ? { runId } : {}),
    seconds: Math.round(performance.now() - started) / 1000,
  };
}

/** How the dendrogram was cut, as the constitution and the run's settings record it. */
function cutSettings(clustering: { threshold?: number; clustersRequested?: number; clusterCount?: ClusterCountChoice }): {
  threshold?: number;
  clusters?: number | "auto";
  clusterCount?: Omit<ClusterCountChoice, "scores">;
} {
  if (clustering.threshold !== undefined) return { threshold: clustering.threshold };
  if (!clustering.clusterCount) return { clusters: clustering.clustersRequested };
  const { scores: _scores, ...choice } = clustering.clusterCount;
  return { clusters: "auto", clusterCount: choice };
}

function isEmbedder(value: EmbedderSpec | Embedder): value is Embedder {
  return typeof (value as Embedder).embed === "function";
}

/** Rows with a `best` field follow the trajectory contract of `spri discover mine`. */
