/**
 * `npm run bench`: spri run's throughput, overhead, memory and resume cost, measured on the built
 * CLI against a local OpenAI-compatible server in its own process (see SETTINGS in
 * benchmarks.ts). Prints a table with targets and PASS/FAIL, writes
 * test-artifacts/bench-results.json, and exits 1 if a target failed. A plain script, not a test.
 *
 *   npm run bench                        # builds dist/ first (tsc -p tsconfig.build.json, the CLI bundle)
 *   BENCH_SKIP_BUILD=1 npm run bench     # use dist/ as it is
 *   BENCH_ONLY=a,c npm run bench         # only some benchmarks (a–h)
 *   BENCH_REPEATS=5 npm run bench        # rounds of (f), (g) and (h) (default 3)
 *
 * (f) and (h) are in scale.ts: throughput at 256 in flight, and CPU per call; (g), a run shared by
 * two workers on PostgreSQL, is in shared-run.ts.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, overhead, SETTINGS, throughput } from "./benchmarks.ts";
import { memory, resume } from "./memory-resume.ts";
import { runClusterBench } from "./cluster.ts";
import { cpuPerCallBench, throughputAtScale } from "./scale.ts";
import { sharedRunBench } from "./shared-run.ts";
import { waitForQuiet } from "./load.ts";
import { formatTable, machine, type Row, row } from "./report.ts";
import { BenchServer } from "./server-handle.ts";
import { assertBuilt, REPO_ROOT } from "./spri-cli.ts";

const RESULTS = join(REPO_ROOT, "test-artifacts", "bench-results.json");
/** Other processes using more than this share of the CPU before a benchmark make its numbers suspect. */
const BUSY_WARNING = 0.15;
/** How long a benchmark waits for the machine to quiet down before it starts anyway. */
const QUIET_WAIT_MS = 10_000;
const busyBefore: string[] = [];

function checkNode(): void {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12)) {
    throw new Error(
      `the bench needs Node 22.12 or newer (this is ${process.version}): run it with \`npm run bench\`, which uses the Node that npm install provided`,
    );
  }
}

/** Builds dist/ so the bench measures the sources as they are. */
function build(): void {
  if (process.env.BENCH_SKIP_BUILD === "1") return assertBuilt();
  process.stderr.write("bench: building dist/ (tsc -p tsconfig.build.json, then the CLI bundle)...\n");
  const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
  for (const args of [[tsc, "-p", "tsconfig.build.json"], [join(REPO_ROOT, "scripts", "bundle-cli.js")]]) {
    const result = spawnSync(process.execPath, args, { cwd: REPO_ROOT, stdio: "inherit" });
    if (result.status !== 0)
      throw new Error("the build failed (output above); fix it, or run with BENCH_SKIP_BUILD=1 to bench dist/ as it is");
  }
  assertBuilt();
}

/** The benchmarks BENCH_ONLY names (letters, comma-separated); all when unset. */
const only = process.env.BENCH_ONLY?.split(",")
  .map((s) => s.trim().toLowerCase())
  .filter(Boolean);

/** Runs one benchmark; a failure becomes a FAIL row, so the others still run and report. */
async function attempt<T extends BenchResult>(name: string, fn: () => Promise<T>): Promise<T | BenchResult> {
  const letter = /^\((\w)\)/.exec(name)?.[1];
  if (only && letter && !only.includes(letter)) return { rows: [], notes: [], data: { skipped: "BENCH_ONLY" } };
  const busy = await waitForQuiet(BUSY_WARNING, QUIET_WAIT_MS);
  process.stderr.write(
    `bench: ${name} (machine ${busy === undefined ? "load unknown" : `${(100 * busy).toFixed(0)} % busy`} before it)...\n`,
  );
  if (busy !== undefined && busy > BUSY_WARNING) busyBefore.push(`${name}: ${(100 * busy).toFixed(0)} %`);
  const started = performance.now();
  try {
    const result = await fn();
    process.stderr.write(`bench: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      rows: [row(name, "error", message.split("\n")[0]!, "runs", false)],
      notes: [`${name} failed: ${message}`],
      data: { error: message },
    };
  }
}

async function main(): Promise<number> {
  checkNode();
  build();
  const started = performance.now();
  const server = await BenchServer.start();
  const results: Record<string, BenchResult> = {};
  try {
    const a = await attempt("(a) throughput", () => throughput(server));
    results.throughput = a;
    const b = await attempt("(b) overhead", () => overhead(server));
    results.overhead = b;
    // (c) sizes its real run by (b)'s rate; without one it skips the real run.
    const instantRate = "callsPerSecond" in b ? b.callsPerSecond : 0;
    results.memory = await attempt("(c) memory", () => memory(server, instantRate));
    // (d) measures repeats against (a)'s uninterrupted count; 6 an item if (a) failed.
    const uninterrupted = "uninterruptedCalls" in a ? a.uninterruptedCalls : SETTINGS.items * 6;
    results.resume = await attempt("(d) resume", () => resume(server, uninterrupted));
    results.clustering = await attempt("(e) clustering", async () => clustering());
    results.throughputAtScale = await attempt("(f) throughput at 256", () => throughputAtScale(server));
    results.sharedRun = await attempt("(g) shared run on PostgreSQL", () => sharedRunBench(server));
    results.cpuPerCall = await attempt("(h) CPU per call", () => cpuPerCallBench(server));
  } finally {
    server.stop();
  }
  const totalSeconds = (performance.now() - started) / 1000;
  return publish(results, totalSeconds);
}

/** (e) Latent principle discovery: clustering 10,000 principles into a constitution. */
function clustering(): BenchResult {
  const r = runClusterBench();
  return {
    rows: [
      row(
        "(e) clustering",
        `${r.principles} principles (${r.dimension}-dim), ${r.bucketed ? "bucketed" : "exact"}`,
        `${r.seconds.toFixed(1)} s wall, ${r.cpuSeconds.toFixed(1)} s CPU, ${r.clusters} clusters`,
      ),
      row("", "peak RSS", `${r.peakRssMb.toFixed(0)} MB`, "< 1024 MB", r.peakRssMb < 1024),
    ],
    notes: [],
    data: { ...r },
  };
}

function publish(results: Record<string, BenchResult>, totalSeconds: number): number {
  const host = machine();
  const rows: Row[] = Object.values(results).flatMap((r) => r.rows);
  const notes = Object.values(results).flatMap((r) => r.notes);
  if (busyBefore.length > 0) notes.push(`other processes were using the CPU before: ${busyBefore.join("; ")}: slower, noisier numbers`);
  const failed = rows.filter((r) => r.pass === false).length;
  const lines = [
    "",
    `spri bench: ${host.cores} cores (${host.cpu}), ${host.memoryGb} GB, Node ${host.node}, ${host.platform}; ${totalSeconds.toFixed(0)} s`,
    `settings: ${SETTINGS.items} items, --concurrency ${SETTINGS.concurrency}, server ${SETTINGS.latencyMs} ms/call (or instant), cap ${SETTINGS.concurrency} in flight (429, Retry-After: 0 beyond)`,
    "",
    formatTable(rows),
    "",
    ...notes.map((n) => `note: ${n}`),
    `${failed === 0 ? "all targets met" : `${failed} target(s) FAILED`}; results in ${RESULTS}`,
    "",
  ];
  process.stdout.write(lines.join("\n"));
  mkdirSync(join(REPO_ROOT, "test-artifacts"), { recursive: true });
  writeFileSync(
    RESULTS,
    `${JSON.stringify({ at: new Date().toISOString(), machine: host, settings: SETTINGS, totalSeconds, busyBefore, rows, notes, results: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.data])) }, null, 2)}\n`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
