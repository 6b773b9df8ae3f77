/**
 * CPU A/B of two builds on (h) or (f): `node bench/cpu-ab.ts h|f OTHER_REPO_ROOT [rounds]`. Runs
 * this build and the other alternately against the same server, with the bare undici client in the
 * same rounds, and prints each run's process CPU (user + system, from the probe) per call and its
 * call rate (AB_OTHER_ARGS adds flags to the other side's run, AB_NODE_ARGS Node flags to this side's),
 * so a change can be judged on a shared machine by CPU rather than wall time.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bareClient, chatBody } from "./bare-client.ts";
import { PROBE_PRELOAD, type ProbeReport } from "./probe.ts";
import { SCALE } from "./scale.ts";
import { BenchServer } from "./server-handle.ts";
import { REPO_ROOT, runArgs, writeItems } from "./spri-cli.ts";

const [scenario = "h", other = "", roundsText = "3"] = process.argv.slice(2);
const items = Number(process.env.AB_ITEMS ?? (scenario === "f" ? SCALE.items : SCALE.cpuItems));
const concurrency = scenario === "f" ? SCALE.concurrency : SCALE.cpuConcurrency;
const latencyMs = scenario === "f" ? SCALE.latencyMs : 0;
/** Extra `spri run` flags for the other side (AB_OTHER_ARGS="--no-cache"), to price one feature. */
const otherArgs = (process.env.AB_OTHER_ARGS ?? "").split(" ").filter(Boolean);
/** Node flags for this side (AB_NODE_ARGS="--max-semi-space-size=64"), to price a runtime setting. */
const nodeArgs = (process.env.AB_NODE_ARGS ?? "").split(" ").filter(Boolean);
const server = await BenchServer.start();

async function spri(
  root: string,
  extraArgs: readonly string[] = [],
  node: readonly string[] = [],
): Promise<{ msPerCall: number; rate: number }> {
  const dir = mkdtempSync(join(tmpdir(), "spri-cpu-ab-"));
  try {
    await server.configure({ latencyMs, maxInFlight: concurrency });
    const input = writeItems(join(dir, "items.jsonl"), items);
    const probe = join(dir, "probe.json");
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        ...node,
        "--import",
        PROBE_PRELOAD,
        join(root, "bin", "spri.js"),
        ...runArgs({ input, output: join(dir, "out.jsonl"), dir, serverUrl: server.url, concurrency, cache: true }),
        ...extraArgs,
      ],
      {
        cwd: dir,
        stdio: "ignore",
        env: { PATH: process.env.PATH, BENCH_PROBE_FILE: probe },
      },
    );
    await new Promise((resolve) => child.once("close", resolve));
    const wall = (performance.now() - started) / 1000;
    const stats = await server.stats();
    if (!existsSync(probe)) throw new Error("no probe report");
    const report = JSON.parse(readFileSync(probe, "utf8")) as ProbeReport;
    return { msPerCall: (1000 * (report.userCpuSeconds + report.systemCpuSeconds)) / stats.requests, rate: stats.requests / wall };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (r: { msPerCall: number; rate: number }) => `${r.msPerCall.toFixed(3)} ms/call CPU, ${r.rate.toFixed(0)} calls/s`;
for (let i = 0; i < Number(roundsText); i++) {
  const a = await spri(REPO_ROOT, [], nodeArgs);
  const b = await spri(other, otherArgs);
  await server.configure({ latencyMs, maxInFlight: concurrency });
  const bare = await bareClient(
    "undici",
    `${server.url}/v1/chat/completions`,
    scenario === "f" ? SCALE.bareRequests : SCALE.cpuBareRequests,
    concurrency,
    chatBody(1000),
  );
  process.stdout.write(
    `round ${i}: this ${fmt(a)}; other ${fmt(b)}; bare ${((1000 * bare.cpuSeconds) / bare.requests).toFixed(3)} ms/call CPU, ${bare.callsPerSecond.toFixed(0)} calls/s; this÷other CPU ${(a.msPerCall / b.msPerCall).toFixed(3)}\n`,
  );
}
server.stop();
