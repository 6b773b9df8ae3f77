/**
 * Runs the built CLI (`bin/spri.js` over dist/) as a child process, as a user would, and measures
 * it from outside: wall time from spawn to exit, the `--json` summary, and the peak RSS and CPU
 * time through a preloaded probe (probe-preload.js; `--dry-run`'s summary has no `peakRssMb`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { PROBE_PRELOAD, type ProbeReport } from "./probe.ts";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(REPO_ROOT, "bin", "spri.js");

/** The part of `spri run --json`'s summary the bench reads. */
export interface RunSummary {
  outcome: string;
  done: number;
  failed: number;
  skipped: number;
  calls: number;
  spend: { calls: number; cacheHits: number };
  peakRssMb?: number;
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  wallSeconds: number;
  /** stdout parsed as JSON when it is; the `--json` summary. */
  json: unknown;
  /** The last few KB of stderr (progress lines and errors), for diagnosis. */
  stderrTail: string;
  /** Peak RSS and CPU time, from the probe; undefined if the child died before writing it (kill -9). */
  probe?: ProbeReport;
}

export interface CliOptions {
  cwd: string;
  /** Called with the child once started (to watch and kill it). */
  onStart?: (child: ChildProcess) => void;
  /** Kill the child (SIGKILL) past this; a hung run must not hang the bench. */
  timeoutMs?: number;
}

export function assertBuilt(): void {
  if (!existsSync(join(REPO_ROOT, "dist", "surfaces", "cli", "main.js"))) {
    throw new Error("dist/ is missing: run `npx tsc -p tsconfig.build.json` (the bench builds first unless BENCH_SKIP_BUILD=1)");
  }
}

export async function runSpri(args: readonly string[], options: CliOptions): Promise<CliRun> {
  assertBuilt();
  const probeFile = join(options.cwd, `probe-${process.hrtime.bigint()}.json`);
  // A clean environment, as in the e2e tests: no key, SPRI_* setting or NODE_OPTIONS leaks in.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, BENCH_PROBE_FILE: probeFile };
  const started = performance.now();
  const child = spawn(process.execPath, ["--import", PROBE_PRELOAD, BIN, ...args], {
    cwd: options.cwd,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  options.onStart?.(child);
  let stdout = "";
  let stderrTail = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  // Progress lines arrive all run long: keep a tail only.
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderrTail = (stderrTail + chunk).slice(-4000)));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 600_000);
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
    child.once("error", reject);
    child.once("close", (c, s) => resolvePromise({ code: c, signal: s }));
  });
  clearTimeout(timer);
  const wallSeconds = (performance.now() - started) / 1000;
  return { code, signal, wallSeconds, json: parseJson(stdout), stderrTail, probe: readProbe(probeFile) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text.trim());
  } catch {
    return undefined;
  }
}

function readProbe(file: string): ProbeReport | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as ProbeReport) : undefined;
}

/** Fails with the child's own words when the run did not complete. */
export function summaryOf(run: CliRun, what: string): RunSummary {
  const summary = run.json as RunSummary | undefined;
  if (run.code !== 0 || !summary || summary.outcome !== "completed") {
    throw new Error(`${what}: spri exited with code ${run.code} (signal ${run.signal}), outcome ${summary?.outcome}\n${run.stderrTail}`);
  }
  return summary;
}

/** `n` sft items, one JSON object a line: `{"id":"q0","prompt":"Question number 0?"}`. */
export function writeItems(path: string, n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(`{"id":"q${i}","prompt":"Question number ${i}?"}\n`);
  writeFileSync(path, lines.join(""));
  return path;
}

/** Arguments for `spri run` against the bench server with a fresh store in `dir`. */
export function runArgs(options: {
  input: string;
  output: string;
  dir: string;
  serverUrl: string;
  concurrency: number;
  cache: boolean;
}): string[] {
  return [
    "run",
    "--input",
    options.input,
    "--output",
    options.output,
    "--store",
    join(options.dir, "spri.db"),
    "--concurrency",
    String(options.concurrency),
    "--base-url",
    `${options.serverUrl}/v1`,
    "--base-model",
    "m",
    "--critic-model",
    "c",
    "--json",
    ...(options.cache ? [] : ["--no-cache"]),
  ];
}
