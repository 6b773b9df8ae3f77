/**
 * CPU profile of one `spri run` in a bench scenario, and a summary of where its time went (self
 * time by function and by file). A diagnostic, not a benchmark: the profiler itself costs CPU.
 *
 *   node bench/profile.ts f     # (f): 6,000 items, 256 in flight, 100 ms latency, cache on
 *   node bench/profile.ts h     # (h): 4,000 items, 64 in flight, instant server, cache on
 *   node bench/profile.ts h --no-cache
 *   node bench/profile.ts summary FILE.cpuprofile
 *
 * Builds nothing: run `npx tsc -p tsconfig.build.json` first (the profile is of dist/). The
 * profile is written to test-artifacts/profiles/.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { SCALE } from "./scale.ts";
import { BenchServer } from "./server-handle.ts";
import { assertBuilt, REPO_ROOT, runArgs, writeItems } from "./spri-cli.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Self time (ms) by function and by file, and the total, of a .cpuprofile. */
export function summarize(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)") {
      idle += ms;
      continue;
    }
    total += ms;
    const where = shortUrl(url);
    const name = `${functionName || "(anonymous)"} ${where ? `${where}:${lineNumber + 1}` : ""}`.trim();
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const fileKey = where || functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + ms);
  }
  const table = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${name}`)
      .join("\n");
  return [
    `${file}: ${total.toFixed(0)} ms busy, ${idle.toFixed(0)} ms idle`,
    "",
    "self time by function:",
    table(byFunction),
    "",
    "self time by file:",
    table(byFile),
  ].join("\n");
}

function shortUrl(url: string): string {
  if (!url) return "";
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  if (path.startsWith("node:")) return path;
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) return path.slice(nm + "node_modules/".length);
  return path.startsWith("/") ? relative(REPO_ROOT, path) : path;
}

async function profileRun(scenario: "f" | "h", cache: boolean): Promise<string> {
  assertBuilt();
  const items = scenario === "f" ? SCALE.items : SCALE.cpuItems;
  const concurrency = scenario === "f" ? SCALE.concurrency : SCALE.cpuConcurrency;
  const latencyMs = scenario === "f" ? SCALE.latencyMs : 0;
  const outDir = join(REPO_ROOT, "test-artifacts", "profiles");
  mkdirSync(outDir, { recursive: true });
  const server = await BenchServer.start();
  const dir = mkdtempSync(join(tmpdir(), `spri-profile-${scenario}-`));
  try {
    await server.configure({ latencyMs, maxInFlight: concurrency });
    const input = writeItems(join(dir, "items.jsonl"), items);
    const args = runArgs({ input, output: join(dir, "out.jsonl"), dir, serverUrl: server.url, concurrency, cache });
    const name = `${scenario}${cache ? "" : "-no-cache"}-${Date.now()}`;
    const before = new Set(readdirSync(outDir));
    const started = performance.now();
    const child = spawn(
      process.execPath,
      ["--cpu-prof", "--cpu-prof-dir", outDir, "--cpu-prof-name", `${name}.cpuprofile`, join(REPO_ROOT, "bin", "spri.js"), ...args],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    const stats = await server.stats();
    process.stderr.write(
      `profile: exit ${code}, ${stats.requests} calls in ${((performance.now() - started) / 1000).toFixed(1)} s; summary ${stdout.trim().slice(0, 200)}\n`,
    );
    const written = readdirSync(outDir).find((f) => !before.has(f) && f.startsWith(name));
    if (!written) throw new Error("no profile was written");
    return join(outDir, written);
  } finally {
    server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const [mode, arg] = process.argv.slice(2);
if (mode === "summary" && arg) {
  process.stdout.write(`${summarize(arg)}\n`);
} else if (mode === "f" || mode === "h") {
  const file = await profileRun(mode, !process.argv.includes("--no-cache"));
  process.stdout.write(`${summarize(file)}\n`);
} else {
  process.stderr.write("usage: node bench/profile.ts f|h [--no-cache] | summary FILE.cpuprofile\n");
  process.exitCode = 2;
}
