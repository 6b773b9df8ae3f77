/**
 * Clustering benchmark: 10,000 distinct synthetic principles (200 templates × 50 phrasings) with
 * synthetic 384-dimensional embeddings (MiniLM's size), through de-duplication, agglomerative
 * clustering (average linkage, cosine threshold 0.3; above 5,000 unique principles this takes the
 * bucketed path) and the constitution. Prints wall time and peak RSS. A plain script, not a test.
 *
 *   node bench/cluster.ts            # prints a line and a JSON record
 *   import { runClusterBench } ...   # from bench/run.ts: runs in a child process for a clean RSS
 *
 * Embeddings are deterministic and structured: each template has a random unit direction, each
 * phrasing adds Gaussian noise (expected cosine distance ≈ 0.15 within a template, ≈ 1 between),
 * so a correct run recovers the 200 templates exactly (`recovered`).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { clusterPrinciples } from "../src/algorithms/discovery/clustering.ts";
import { PrincipleSet } from "../src/algorithms/discovery/principle-set.ts";
import { buildConstitution } from "../src/algorithms/discovery/constitution.ts";
import { gaussian, seededRandom } from "../src/base/util/random.ts";

export interface ClusterBenchResult {
  principles: number;
  /** De-duplication, clustering and the constitution, without generating the synthetic data. */
  seconds: number;
  /** CPU time (user + system) of the same part: on a busy machine, closer to the unloaded wall time. */
  cpuSeconds: number;
  /** Peak resident set size of the process that ran it (maxRSS). */
  peakRssMb: number;
  clusters: number;
  uniquePrinciples: number;
  dimension: number;
  bucketed: boolean;
  /** Every cluster is exactly one template. */
  recovered: boolean;
}

const TEMPLATES = 200;
const PHRASINGS = 50;
const DIMENSION = 384;
const NOISE = 0.0214; // σ² · 384 ≈ 0.176 → within-template cosine ≈ 1/1.176 ≈ 0.85

const VERBS = ["Be", "Stay", "Remain", "Always be", "Try to be"];
const QUALITIES = ["concise", "honest", "specific", "polite", "accurate", "cautious", "clear", "complete", "neutral", "helpful"];
const CONTEXTS = [
  "with the user",
  "in every answer",
  "about uncertain facts",
  "when giving advice",
  "in technical explanations",
  "with sensitive topics",
  "in summaries",
  "when asked for opinions",
  "in step-by-step instructions",
  "in short replies",
];
const ENDINGS = ["", " at all times", " whenever possible", " and say why", " without exception"];

/** 10,000 distinct texts and their vectors; `template[i]` is the ground truth. */
export function syntheticPrinciples(): { texts: string[]; vectors: Float32Array[]; template: Int32Array } {
  const random = seededRandom(2025);
  const bases = Array.from({ length: TEMPLATES }, () => {
    const v = Array.from({ length: DIMENSION }, () => gaussian(random));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
  const texts: string[] = [];
  const vectors: Float32Array[] = [];
  const template = new Int32Array(TEMPLATES * PHRASINGS);
  for (let t = 0; t < TEMPLATES; t++) {
    const quality = QUALITIES[t % QUALITIES.length]!;
    const context = CONTEXTS[Math.floor(t / QUALITIES.length) % CONTEXTS.length]!;
    for (let p = 0; p < PHRASINGS; p++) {
      const verb = VERBS[p % VERBS.length]!;
      const ending = ENDINGS[Math.floor(p / VERBS.length) % ENDINGS.length]!;
      texts.push(`${verb} ${quality} ${context}${ending} (template ${t}, phrasing ${p}).`);
      vectors.push(Float32Array.from(bases[t]!, (x) => x + NOISE * gaussian(random)));
      template[t * PHRASINGS + p] = t;
    }
  }
  return { texts, vectors, template };
}

/** Runs the benchmark in this process. */
export function runClusterBenchInProcess(): ClusterBenchResult {
  const { texts, vectors, template } = syntheticPrinciples();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const set = new PrincipleSet();
  for (const text of texts) set.add(text);
  const unique = set.unique();
  // The texts are distinct, so unique[i] is texts[i]; vectors line up.
  const result = clusterPrinciples(unique, vectors, { threshold: 0.3 });
  const constitution = buildConstitution(unique, result.clusters, { input: "synthetic" });
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const recovered =
    result.clusters.length === TEMPLATES && result.clusters.every((c) => c.members.every((m) => template[m] === template[c.members[0]!]));
  return {
    principles: texts.length,
    seconds: Math.round(seconds * 100) / 100,
    cpuSeconds: Math.round((used.user + used.system) / 1e4) / 100,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    clusters: constitution.principles.length,
    uniquePrinciples: unique.length,
    dimension: DIMENSION,
    bucketed: result.clustering.bucketing !== undefined,
    recovered,
  };
}

/** Runs the benchmark in a child process (so peak RSS is its own) and returns its numbers. */
export function runClusterBench(): ClusterBenchResult {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--json"], { encoding: "utf8", maxBuffer: 1 << 20 });
  if (child.status !== 0)
    throw new Error(`bench/cluster.ts failed (${child.status ?? child.signal}): ${child.stderr.trim().split("\n").slice(-3).join(" ")}`);
  const last = child.stdout.trim().split("\n").at(-1) ?? "";
  return JSON.parse(last) as ClusterBenchResult;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = runClusterBenchInProcess();
  if (!process.argv.includes("--json")) {
    process.stdout.write(
      `cluster bench: ${result.principles} principles (${result.uniquePrinciples} unique, ${result.dimension}-d) → ${result.clusters} clusters` +
        `${result.bucketed ? " (bucketed)" : ""} in ${result.seconds} s (CPU ${result.cpuSeconds} s), peak RSS ${result.peakRssMb} MB, templates recovered: ${result.recovered}\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
