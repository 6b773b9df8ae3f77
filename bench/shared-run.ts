/**
 * (g) A shared run on PostgreSQL: (f)'s 6,000 sft items at 256 in flight, but the items are worked
 * by two `spri worker --concurrency 128 --drain` processes while `spri run --no-work` enqueues the
 * input and writes the output from the store. Its call rate (server requests ÷ wall time from the
 * run's start to the last process's exit) is compared with the bare client's at 256 in flight, in
 * the same rounds. PostgreSQL is the embedded one the tests use (dev/postgres.ts), one fresh
 * database per round.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type TestPostgres, startPostgres } from "../dev/postgres.ts";
import { openStore } from "../src/runtime/store/open-store.ts";
import { bareClient, type BareResult, chatBody } from "./bare-client.ts";
import { type BenchResult, inTempDir } from "./benchmarks.ts";
import { best, cpuOf, cpuPerCall } from "./throughput-runs.ts";
import { fmt, row } from "./report.ts";
import { CALLS_PER_ITEM } from "./responder.ts";
import { SCALE } from "./scale.ts";
import type { BenchServer } from "./server-handle.ts";
import type { ServerStats } from "./server.ts";
import { type CliRun, runArgs, runSpri, summaryOf, writeItems } from "./spri-cli.ts";

export const SHARED = {
  items: SCALE.items,
  concurrency: SCALE.concurrency,
  workers: 2,
  latencyMs: SCALE.latencyMs,
  repeats: SCALE.repeats,
  bareRequests: SCALE.bareRequests,
  target: 0.9,
};

interface SharedRound {
  wallSeconds: number;
  calls: number;
  callsPerSecond: number;
  /** CPU seconds of the run process and of each worker. */
  cpu: { run?: number; workers: (number | undefined)[] };
  /** Records in the output file. */
  done: number;
  stats: ServerStats;
}

/** Polls `check` until it holds (the run must exist before a draining worker starts). */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`(g) timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function sharedRound(server: BenchServer, postgres: TestPostgres): Promise<SharedRound> {
  const { items, concurrency, workers, latencyMs } = SHARED;
  await server.configure({ latencyMs, maxInFlight: concurrency });
  const url = await postgres.newDatabase();
  return inTempDir("g", async (dir) => {
    const input = writeItems(join(dir, "items.jsonl"), items);
    const args = runArgs({ input, output: join(dir, "out.jsonl"), dir, serverUrl: server.url, concurrency, cache: true });
    args[args.indexOf("--store") + 1] = url;
    const started = performance.now();
    const run = runSpri([...args, "--no-work"], { cwd: dir });
    // A draining worker that finds no running run exits at once: start the workers once the run is there.
    const store = await openStore(url);
    try {
      await until(async () => (await store.listRuns()).some((r) => r.status === "running"), "the run to start");
    } finally {
      await store.close();
    }
    const workerRuns: Promise<CliRun>[] = [];
    for (let i = 0; i < workers; i++) {
      workerRuns.push(
        runSpri(["worker", "--store", url, "--concurrency", String(concurrency / workers), "--drain", "--json"], { cwd: dir }),
      );
    }
    const [runResult, ...workerResults] = await Promise.all([run, ...workerRuns]);
    const wallSeconds = (performance.now() - started) / 1000;
    summaryOf(runResult!, "(g) spri run --no-work");
    // The run process did no items itself: what counts is the output it wrote from the store.
    const output = join(dir, "out.jsonl");
    const done = existsSync(output) ? readFileSync(output, "utf8").split("\n").filter(Boolean).length : 0;
    for (const w of workerResults) if (w.code !== 0) throw new Error(`(g) a worker exited with code ${w.code}\n${w.stderrTail}`);
    const stats = await server.stats();
    return {
      wallSeconds,
      calls: stats.requests,
      callsPerSecond: stats.requests / wallSeconds,
      cpu: { run: cpuOf(runResult!), workers: workerResults.map(cpuOf) },
      done,
      stats,
    };
  });
}

const list = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(", ");

export async function sharedRunBench(server: BenchServer): Promise<BenchResult & { ratio: number }> {
  const { items, concurrency, workers, latencyMs, repeats, bareRequests, target } = SHARED;
  const postgres = await startPostgres();
  const rounds: SharedRound[] = [];
  const bareRuns: BareResult[] = [];
  const roundRatios: number[] = [];
  try {
    for (let i = 0; i < repeats; i++) {
      const round = await sharedRound(server, postgres);
      rounds.push(round);
      await server.configure({ latencyMs, maxInFlight: concurrency });
      const bodyBytes = Math.round(round.stats.bytesIn / Math.max(1, round.stats.requests));
      const bare = await bareClient("undici", `${server.url}/v1/chat/completions`, bareRequests, concurrency, chatBody(bodyBytes));
      bareRuns.push(bare);
      roundRatios.push(round.callsPerSecond / bare.callsPerSecond);
    }
  } finally {
    await postgres.stop();
  }
  const spri = best(rounds, (r) => r.callsPerSecond);
  const bare = best(bareRuns, (r) => r.callsPerSecond);
  const ratio = spri.callsPerSecond / bare.callsPerSecond;
  const totalCpu = (r: SharedRound) =>
    [r.cpu.run, ...r.cpu.workers].reduce<number | undefined>((a, b) => (a === undefined || b === undefined ? undefined : a + b), 0);
  const callsPerItemOk = rounds.every((r) => r.stats.served === items * CALLS_PER_ITEM && r.done === items);
  const refused = rounds.reduce((sum, r) => sum + r.stats.refused, 0);
  const sorted = [...roundRatios].sort((a, b) => a - b);
  const rows = [
    row(
      "(g) shared run on PostgreSQL",
      `spri run --no-work + ${workers} workers × ${concurrency / workers}, ${items} items, ${latencyMs} ms/call, best of ${repeats}`,
      `${fmt.rate(spri.callsPerSecond)} (${spri.calls} calls in ${fmt.s(spri.wallSeconds)} wall)`,
    ),
    row("", "spri, every round (wall)", `${list(rounds.map((r) => r.callsPerSecond))} calls/s`),
    row("", `bare undici, ${concurrency} in flight, every round`, `${list(bareRuns.map((r) => r.callsPerSecond))} calls/s`),
    row("", "ratio spri ÷ bare (best of each)", fmt.ratio(ratio), `≥ ${target}`, ratio >= target),
    row("", "ratio per round", `${list(roundRatios, 3)}; min ${sorted[0]?.toFixed(3)}, max ${sorted.at(-1)?.toFixed(3)}`),
    row("", "calls per item (server count)", (spri.stats.served / items).toFixed(2), String(CALLS_PER_ITEM), callsPerItemOk),
    row("", "429s sent during spri rounds", String(refused)),
    row("", "CPU per call, all spri processes (best round)", cpuPerCall(totalCpu(spri), spri.calls)),
    row(
      "",
      "CPU s: run process / workers (best round)",
      `${spri.cpu.run?.toFixed(1) ?? "n/a"} / ${spri.cpu.workers.map((c) => c?.toFixed(1) ?? "n/a").join(" + ")}`,
    ),
  ];
  return {
    rows,
    notes: refused > 0 ? [`(g) the workers were refused ${refused} times: together they sent more than ${concurrency} calls at once`] : [],
    ratio,
    data: { items, concurrency, workers, latencyMs, rounds, bareRuns, roundRatios, ratio },
  };
}
