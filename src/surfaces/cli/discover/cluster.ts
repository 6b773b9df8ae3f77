/** `spri discover cluster`: flags onto `runDiscoverCluster` (runner/discover-cluster.ts). */
import { type Command, Option } from "commander";
import { resolveSettings } from "../../../config/config.ts";
import { type EmbedderSpec, EMBEDDING_SOURCES, resolveEmbedderSpec } from "../../../config/embedder.ts";
import { createModel, modelFactoryOptions, modelSpecs } from "../../../config/models.ts";
import { DEFAULT_MAX_EXACT } from "../../../algorithms/discovery/clustering.ts";
import { LINKAGES } from "../../../algorithms/discovery/linkage.ts";
import { DEFAULT_PRINCIPLE_FIELDS } from "../../../algorithms/discovery/principle-rows.ts";
import { InputError } from "../../../base/errors/errors.ts";
import { parseInputFormat } from "../../../io/input-reader.ts";
import type { LanguageModel } from "../../../models/language-model.ts";
import { runDiscoverCluster } from "../../../runtime/runner/discover-cluster.ts";
import { cacheMode } from "../../../runtime/runner/run-settings.ts";
import { openStore } from "../../../runtime/store/open-store.ts";
import type { RunStore } from "../../../runtime/store/run-store.ts";
import { downloadProgress } from "../download-progress.ts";
import { addSettingFlags } from "../options.ts";
import { choice, flag, integer, number, optionalText, optionSchema, parseOptions, text, wordOr } from "../option-schema.ts";
import type { z } from "zod";

const NAMING_SETTINGS = ["baseModel", "baseUrl", "baseProvider", "timeout"] as const;

/** Where embeddings come from, and how the dendrogram is cut (`discover cluster` and `discover loop`). */
export const CLUSTERING_FLAGS = {
  embeddings: choice(EMBEDDING_SOURCES).optional(),
  embeddingModel: optionalText,
  embeddingUrl: optionalText,
  batchSize: integer("an integer ≥ 1", (n) => n >= 1).optional(),
  clusters: wordOr(
    "auto",
    integer("", (n) => n >= 1),
    "an integer ≥ 1 or auto",
  ).optional(),
  minClusters: integer("an integer ≥ 2", (n) => n >= 2).optional(),
  maxClusters: integer("an integer ≥ 2", (n) => n >= 2).optional(),
  linkage: choice(LINKAGES),
  maxExact: integer("an integer ≥ 2", (n) => n >= 2).optional(),
};

const CLUSTER_FLAGS = optionSchema({
  input: text,
  output: text,
  field: optionalText,
  inputFormat: optionalText,
  vectors: optionalText,
  threshold: number("a number ≥ 0", (n) => n >= 0).optional(),
  ...CLUSTERING_FLAGS,
  markdown: optionalText,
  labelled: optionalText,
  nameWithModel: flag,
  json: flag,
  store: optionalText,
  cache: optionalText,
  config: optionalText,
});

const CLUSTERING_SCHEMA = optionSchema(CLUSTERING_FLAGS);
/** The clustering flags, typed (with a vectors file for `discover cluster`). */
export type ClusteringFlags = z.output<typeof CLUSTERING_SCHEMA> & { vectors?: string };

/** Declares CLUSTERING_FLAGS on `command`. */
export function addClusteringOptions(command: Command): Command {
  return command
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
    .option("--batch-size <n>", "texts per embedding request (default 64 openai, 16 gguf)")
    .option(
      "--clusters <k|auto>",
      "cut into k clusters; auto (the default without --threshold): the k with the best mean silhouette (cosine) in --min-clusters..--max-clusters",
    )
    .option("--min-clusters <k>", "smallest k the automatic count tries (default 2)")
    .option("--max-clusters <k>", "largest k the automatic count tries (default 100, at most the unique principles − 1)")
    .addOption(new Option("--linkage <name>", "agglomerative linkage").choices([...LINKAGES]).default("average"))
    .option(
      "--max-exact <n>",
      `unique principles clustered in one exact pass; above it, k-means buckets first (default ${DEFAULT_MAX_EXACT})`,
    );
}

export function clusterCommand(discover: Command): void {
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
    .option("--vectors <file>", 'precomputed vectors: JSONL {"text", "vector"} or {"id", "vector"} lines')
    .option("--threshold <distance>", "cut the dendrogram at this height (0.3 cosine distance is a usual start; 1.5 for ward)");
  addClusteringOptions(command)
    .option("--markdown <file>", "Markdown report (default <output without .json>.md)")
    .option(
      "--labelled <file>",
      "copy of the input with zCanonical and clusterId per row (default for trajectories: <output without .json>.labelled.jsonl)",
    )
    .option("--name-with-model", "name each cluster with one call to the base model (--base-model, --base-url, or the usual configuration)")
    .option("--json", "print the summary as JSON");
  addSettingFlags(command, [...NAMING_SETTINGS, "store", "cache"]);
  command
    .addHelpText(
      "after",
      `
Principles are normalised (whitespace collapsed, a "Principle:" label stripped) and exact duplicates
merged case-insensitively with counts before embedding. Each cluster is represented by its medoid;
the constitution lists principles by cluster size with up to 5 example members.
The run is recorded in the run store (--store) for \`spri view\`: the constitution and a 2-D map.
Each principle's vector is kept in the store's call cache as its batch comes back (--cache off: not
kept), so a run cut short (kill -9, Ctrl-C) and started again embeds only the principles that have none.
Environment: OPENAI_API_KEY for OpenAI embeddings; SPRI_EMBEDDING_MODEL, SPRI_EMBEDDING_URL.`,
    )
    .action(async (raw: Record<string, unknown>) => {
      const options = parseOptions(CLUSTER_FLAGS, raw);
      const { threshold, clusters } = options;
      if (threshold !== undefined && clusters !== undefined) {
        throw new InputError("--threshold and --clusters exclude each other", { hint: "cut by distance or by count, not both" });
      }
      const clustering = clusteringOptions(options, process.env);
      let namer: LanguageModel | undefined;
      if (options.nameWithModel) namer = await namingModel(raw, options.config);
      let store: RunStore | undefined;
      try {
        const resolved = resolveSettings({ flags: { store: options.store, cache: options.cache }, configFile: options.config });
        store = await openStore(resolved.settings.store);
        const summary = await runDiscoverCluster({
          input: options.input,
          output: options.output,
          inputFormat: options.inputFormat === undefined ? undefined : parseInputFormat(options.inputFormat),
          field: options.field,
          ...clustering,
          threshold,
          markdown: options.markdown,
          labelled: options.labelled,
          namer,
          store,
          cache: cacheMode(resolved.settings.cache),
          log: options.json ? undefined : (line) => process.stderr.write(`spri: ${line}\n`),
        });
        if (options.json) {
          process.stdout.write(`${JSON.stringify(summary)}\n`);
          return;
        }
        const cut =
          summary.threshold !== undefined
            ? `threshold ${summary.threshold}`
            : summary.clusterCount
              ? `k chosen by silhouette ${summary.clusterCount.silhouette} over ${summary.clusterCount.min}..${summary.clusterCount.max}`
              : `${summary.clustersRequested} clusters asked`;
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

/** How the clustering flags cluster: the embedding source, the linkage and the number of clusters (as `discover cluster` and the loop both take them). */
export function clusteringOptions(options: ClusteringFlags, env: NodeJS.ProcessEnv) {
  return {
    embedder: embedderSpec(options, env),
    linkage: options.linkage,
    clusters: options.clusters,
    clusterCount: { min: options.minClusters, max: options.maxClusters },
    maxExact: options.maxExact,
  };
}

/** The embedding source of the flags (see the --embeddings help). */
export function embedderSpec(options: ClusteringFlags, env: NodeJS.ProcessEnv): EmbedderSpec {
  const { embeddings, embeddingModel, embeddingUrl, vectors, batchSize } = options;
  return resolveEmbedderSpec({ embeddings, embeddingModel, embeddingUrl, vectors, batchSize }, env);
}

/** The naming model of the settings flags among `raw` (the command's options) and the config file. */
async function namingModel(raw: Record<string, unknown>, configFile: string | undefined): Promise<LanguageModel> {
  const flags: Record<string, unknown> = {};
  for (const name of NAMING_SETTINGS) if (raw[name] !== undefined) flags[name] = raw[name];
  const resolved = resolveSettings({ flags, configFile });
  const { base } = modelSpecs(resolved);
  return createModel(base, { ...modelFactoryOptions(resolved, 1), onDownload: downloadProgress() });
}
