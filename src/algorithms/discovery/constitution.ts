/**
 * The constitution: clustered principles as a file other stages read (SPRI seeds, the STaPLe M-step).
 *
 * JSON (`spri-constitution`, version 1), principles sorted by cluster size, largest first:
 *
 *   { "format": "spri-constitution", "version": 1,
 *     "principles": [{ "id": "c1", "text": <medoid>, "size": <members incl. duplicates>,
 *                      "uniqueMembers": <distinct members>, "members": [<up to 5 other members>],
 *                      "name"?: <short name from an LLM> }],
 *     "source": { ...how it was made... } }
 *
 * `members` holds examples other than `text` itself, the most frequent first (ties: the most
 * similar to the medoid). A Markdown rendering lists the same. The optional naming pass asks a
 * LanguageModel for a short name, one call per cluster.
 */
import { createRequire } from "node:module";
import type { z as Zod } from "zod";
import { InputError, ModelError } from "../../base/errors/errors.ts";
import { readJsonFile, writeJsonFile } from "../../io/json-file.ts";
import { honouredSampling, type LanguageModel, type Usage } from "../../models/language-model.ts";
import type { PrincipleCluster } from "./clustering.ts";
import type { UniquePrinciple } from "./principle-set.ts";

export const CONSTITUTION_FORMAT = "spri-constitution";
export const CONSTITUTION_VERSION = 1;
export const MAX_EXAMPLE_MEMBERS = 5;

function makeSchemas(z: typeof Zod) {
  const principle = z.object({
    id: z.string().min(1),
    text: z.string().min(1),
    size: z.number().int().positive(),
    uniqueMembers: z.number().int().positive().optional(),
    members: z.array(z.string()),
    name: z.string().min(1).optional(),
  });
  const constitution = z.object({
    format: z.literal(CONSTITUTION_FORMAT),
    version: z.literal(CONSTITUTION_VERSION),
    principles: z.array(principle),
    source: z.record(z.string(), z.unknown()),
  });
  return { principle, constitution };
}

type Schemas = ReturnType<typeof makeSchemas>;
let schemas: Schemas | undefined;

/** zod (~70 ms of CPU to load) loads when a constitution is first validated, not at every start. */
function constitutionSchemas(): Schemas {
  schemas ??= makeSchemas((createRequire(import.meta.url)("zod") as typeof import("zod")).z);
  return schemas;
}

export type ConstitutionPrinciple = Zod.infer<Schemas["principle"]>;
export type Constitution = Zod.infer<Schemas["constitution"]>;

/** Map points carry the principle text cut to this many characters. */
export const MAP_TEXT_CHARS = 200;

/** One unique principle on the viewer's 2-D map (PCA of its embedding, see projection.ts). */
export interface ConstitutionMapPoint {
  x: number;
  y: number;
  /** The constitution principle id (`c1`, ...) of its cluster. */
  cluster: string;
  /** The principle, cut to MAP_TEXT_CHARS characters. */
  text: string;
}

/** The `constitution` artifact of a `discover/cluster` run in the run store (for the viewer). */
export interface ConstitutionArtifact {
  constitution: Constitution;
  map: ConstitutionMapPoint[];
}

/** Turns clusters of unique principles into a constitution (clusters are re-sorted by size). */
export function buildConstitution(
  unique: readonly UniquePrinciple[],
  clusters: readonly PrincipleCluster[],
  source: Record<string, unknown> = {},
): Constitution {
  const sorted = clusters
    .map((cluster, order) => ({ cluster, order }))
    .sort((a, b) => b.cluster.size - a.cluster.size || b.cluster.members.length - a.cluster.members.length || a.order - b.order);
  const principles = sorted.map(({ cluster }, index): ConstitutionPrinciple => {
    const others = cluster.members
      .filter((m) => m !== cluster.medoid)
      .map((m, rank) => ({ m, rank }))
      // Most frequent first; members arrive most similar to the medoid first, which breaks ties.
      .sort((a, b) => unique[b.m]!.count - unique[a.m]!.count || a.rank - b.rank)
      .slice(0, MAX_EXAMPLE_MEMBERS)
      .map(({ m }) => unique[m]!.text);
    return {
      id: `c${index + 1}`,
      text: unique[cluster.medoid]!.text,
      size: cluster.size,
      uniqueMembers: cluster.members.length,
      members: others,
    };
  });
  return { format: CONSTITUTION_FORMAT, version: CONSTITUTION_VERSION, principles, source };
}

/** Validates a parsed constitution; `file` goes into error messages. */
export function parseConstitution(value: unknown, file?: string): Constitution {
  const result = constitutionSchemas().constitution.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join(".") || undefined;
    throw new InputError(`not a ${CONSTITUTION_FORMAT} v${CONSTITUTION_VERSION} file: ${issue.message}`, {
      file,
      field,
      hint: "write it with `spri discover cluster`",
    });
  }
  const ids = new Set<string>();
  for (const principle of result.data.principles) {
    if (ids.has(principle.id)) throw new InputError(`duplicate principle id "${principle.id}"`, { file, field: "principles" });
    ids.add(principle.id);
  }
  return result.data;
}

/** Reads and validates a constitution file. */
export function loadConstitution(file: string): Constitution {
  return parseConstitution(readJsonFile(file, { what: "constitution file" }), file);
}

/** The principles of a constitution file, largest cluster first (e.g. to seed SPRI). */
export function readConstitution(file: string): ConstitutionPrinciple[] {
  return loadConstitution(file).principles;
}

export function writeConstitution(file: string, constitution: Constitution): void {
  writeJsonFile(file, constitution);
}

// ---------------------------------------------------------------------------------------------
// Markdown

function inline(text: string): string {
  return text.replace(/\s+/g, " ").replace(/([\\`*_[\]<>|])/g, "\\$1");
}

/** A readable report: a summary table, then each principle with its size and example members. */
export function renderMarkdown(constitution: Constitution): string {
  const { principles, source } = constitution;
  const lines: string[] = ["# Constitution", ""];
  const total = principles.reduce((sum, p) => sum + p.size, 0);
  const facts = [
    `${principles.length} principles`,
    `from ${total} principle occurrences`,
    typeof source.uniquePrinciples === "number" ? `${source.uniquePrinciples} unique` : undefined,
    typeof source.input === "string" ? `in \`${source.input}\`` : undefined,
  ].filter(Boolean);
  lines.push(`${facts.join(", ")}.`);
  const method = describeMethod(source);
  if (method) lines.push("", method);
  lines.push("", "| id | principle | size |", "| --- | --- | ---: |");
  for (const p of principles) lines.push(`| ${p.id} | ${inline(p.name ?? p.text)} | ${p.size} |`);
  for (const p of principles) {
    lines.push("", `## ${p.id}${p.name ? ` · ${inline(p.name)}` : ""}`, "", `> ${inline(p.text)}`, "");
    const unique = p.uniqueMembers === undefined ? "" : ` (${p.uniqueMembers} unique)`;
    lines.push(`Cluster size: ${p.size}${unique}.`);
    if (p.members.length > 0) {
      lines.push("", "Examples:", "");
      for (const m of p.members) lines.push(`- ${inline(m)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function describeMethod(source: Record<string, unknown>): string | undefined {
  const clustering = source.clustering as Record<string, unknown> | undefined;
  const embeddings = source.embeddings as Record<string, unknown> | undefined;
  if (!clustering) return undefined;
  const auto = clustering.clusterCount as { chosen?: unknown; silhouette?: unknown; min?: unknown; max?: unknown } | undefined;
  const cut =
    clustering.threshold !== undefined
      ? `distance threshold ${String(clustering.threshold)}`
      : auto
        ? `${String(auto.chosen)} clusters chosen by the best mean silhouette (${String(auto.silhouette)}) over k = ${String(auto.min)}..${String(auto.max)}`
        : `${String(clustering.clusters)} clusters`;
  const embedded = embeddings
    ? `; embeddings: ${String(embeddings.source)} \`${String(embeddings.model)}\` (${String(embeddings.dimension)} dimensions)`
    : "";
  const bucketed = clustering.bucketing ? "; bucketed (k-means) above the exact limit" : "";
  return `Agglomerative clustering, ${String(clustering.linkage)} linkage, ${cut}; representative = medoid${embedded}${bucketed}.`;
}

// ---------------------------------------------------------------------------------------------
// Naming pass

export interface NamingOptions {
  signal?: AbortSignal;
  /** Clusters named at once; default 4. */
  concurrency?: number;
  timeoutMs?: number;
}

export interface NamingReport {
  named: number;
  failed: number;
  usage: Usage;
  /** The first failure, for a warning. */
  firstError?: string;
}

export function namingPrompt(principle: ConstitutionPrinciple): string {
  const examples =
    principle.members.length > 0 ? `\nOther principles in the group:\n${principle.members.map((m) => `- ${m}`).join("\n")}\n` : "";
  return (
    "These principles were grouped together because they express the same idea.\n\n" +
    `Representative principle: ${principle.text}\n${examples}\n` +
    "Give the group a short name of 2 to 6 words (a title, not a sentence). Answer with the name only."
  );
}

/** The first line of a model's answer, without quotes, a "Name:" label, Markdown or a final period. */
export function parseName(answer: string): string | undefined {
  const line = answer
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  if (line === undefined) return undefined;
  const name = line
    .replace(/^(?:\*\*)?(?:group\s+)?name(?:\*\*)?\s*:\s*/i, "")
    .replace(/^[#*_"'`“”‘’\s]+|[*_"'`“”‘’\s]+$/g, "")
    .replace(/\.$/, "")
    .trim();
  if (name.length === 0) return undefined;
  return name.length > 80 ? `${name.slice(0, 77).trimEnd()}...` : name;
}

/**
 * Asks `model` for a short name per principle (one call each) and sets `name` in place. A failed
 * call leaves that principle unnamed and is counted; an abort stops the pass.
 */
export async function nameConstitution(
  constitution: Constitution,
  model: LanguageModel,
  options: NamingOptions = {},
): Promise<NamingReport> {
  const report: NamingReport = { named: 0, failed: 0, usage: { inputTokens: 0, outputTokens: 0 } };
  const queue = [...constitution.principles];
  const worker = async () => {
    for (let principle = queue.shift(); principle !== undefined; principle = queue.shift()) {
      options.signal?.throwIfAborted();
      try {
        const result = await model.generate({
          messages: [{ role: "user", content: namingPrompt(principle) }],
          sampling: honouredSampling({ temperature: 0, maxTokens: 24 }, model.capabilities),
          signal: options.signal,
          timeoutMs: options.timeoutMs,
        });
        report.usage.inputTokens += result.usage.inputTokens;
        report.usage.outputTokens += result.usage.outputTokens;
        const name = parseName(result.text);
        if (name === undefined) throw new ModelError("the model answered no name", { kind: "bad-response" });
        principle.name = name;
        report.named++;
      } catch (error) {
        if (options.signal?.aborted) throw error;
        report.failed++;
        report.firstError ??= error instanceof ModelError ? error.describe() : error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) }, worker));
  return report;
}
