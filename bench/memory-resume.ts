/** Benchmarks (c) memory and (d) resume after kill -9 (see benchmarks.ts for what they share). */
import type { ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, inTempDir, SETTINGS } from "./benchmarks.ts";
import { fmt, type Row, row } from "./report.ts";
import { CALLS_PER_ITEM } from "./responder.ts";
import type { BenchServer } from "./server-handle.ts";
import { type RunSummary, runArgs, runSpri, summaryOf, writeItems } from "./spri-cli.ts";

// ---- (c) memory ----------------------------------------------------------------------------

export async function memory(server: BenchServer, instantRate: number): Promise<BenchResult> {
  const { memoryItems: items, memoryRunBudgetSeconds, rssTargetMb } = SETTINGS;
  return inTempDir("c", async (dir) => {
    const input = writeItems(join(dir, "items.jsonl"), items);
    const dry = await dryRunMemory(server, dir, input);
    // A real run is 6 calls an item at (b)'s rate; run it whole only if that fits the time budget.
    const expectedSeconds = (items * CALLS_PER_ITEM) / instantRate;
    if (expectedSeconds <= memoryRunBudgetSeconds) {
      const real = await fullRunMemory(server, dir, input);
      return { rows: [...dry.rows, ...real.rows], notes: [], data: { items, expectedSeconds, dryRun: dry.data, realRun: real.data } };
    }
    const bounded = await boundedRunMemory(server, dir, input);
    return {
      rows: [...dry.rows, row("", `real run, ${items} items`, "skipped", `< ${rssTargetMb} MB`), ...bounded.rows],
      notes: [
        `(c) real ${items}-item run skipped: at (b)'s ${instantRate.toFixed(0)} calls/s its ${items * CALLS_PER_ITEM} calls would take ~${expectedSeconds.toFixed(0)} s, over the ${memoryRunBudgetSeconds} s budget; ` +
          `instead a real run over the same input was stopped (SIGINT) after ${SETTINGS.boundedRunSeconds} s, to show whether RSS grows with items done`,
      ],
      data: { items, expectedSeconds, dryRun: dry.data, boundedRun: bounded.data },
    };
  });
}

type Part = { rows: Row[]; data: Record<string, unknown> };

function rssVerdict(rss: number | undefined): boolean {
  return rss !== undefined && rss < SETTINGS.rssTargetMb;
}

/** `--dry-run` streams the whole input; its summary has no RSS, so the probe reads it. */
async function dryRunMemory(server: BenchServer, dir: string, input: string): Promise<Part> {
  const { memoryItems: items, concurrency, rssTargetMb } = SETTINGS;
  const dry = await runSpri(
    [...runArgs({ input, output: join(dir, "dry.jsonl"), dir, serverUrl: server.url, concurrency, cache: false }), "--dry-run"],
    { cwd: dir },
  );
  const estimate = dry.json as { items?: number } | undefined;
  if (dry.code !== 0 || estimate?.items !== items)
    throw new Error(`(c) dry run: exit ${dry.code}, items ${estimate?.items}\n${dry.stderrTail}`);
  const rss = dry.probe?.peakRssMb;
  return {
    rows: [row("(c) memory", `--dry-run, ${items} items (${fmt.s(dry.wallSeconds)})`, fmt.mb(rss), `< ${rssTargetMb} MB`, rssVerdict(rss))],
    data: { wallSeconds: dry.wallSeconds, probe: dry.probe },
  };
}

async function fullRunMemory(server: BenchServer, dir: string, input: string): Promise<Part> {
  const { memoryItems: items, concurrency, rssTargetMb, memoryRunBudgetSeconds } = SETTINGS;
  await server.configure({ latencyMs: 0, maxInFlight: concurrency });
  const sampler = new RssSampler();
  const real = await runSpri(runArgs({ input, output: join(dir, "out.jsonl"), dir, serverUrl: server.url, concurrency, cache: false }), {
    cwd: dir,
    timeoutMs: 2 * memoryRunBudgetSeconds * 1000,
    onStart: (child) => sampler.start(child),
  });
  sampler.stop();
  const summary = summaryOf(real, "(c) real run");
  const stats = await server.stats();
  const rss = summary.peakRssMb;
  return {
    rows: [
      row(
        "",
        `real run, ${items} items (${fmt.s(real.wallSeconds)}, ${fmt.rate(stats.requests / real.wallSeconds)})`,
        fmt.mb(rss),
        `< ${rssTargetMb} MB`,
        rssVerdict(rss),
      ),
      row("", "  its RSS over time", sampler.trend() || "n/a"),
    ],
    data: { wallSeconds: real.wallSeconds, summary, server: stats, probe: real.probe, samples: sampler.samples },
  };
}

/** Samples a child's RSS every second; `trend()` reads it at a quarter, half, three quarters and the end. */
class RssSampler {
  readonly samples: { atSeconds: number; rssMb: number }[] = [];
  private timer: NodeJS.Timeout | undefined;

  start(child: ChildProcess, onTick?: (atSeconds: number) => void): void {
    const started = performance.now();
    this.timer = setInterval(() => {
      const atSeconds = (performance.now() - started) / 1000;
      const rssMb = currentRssMb(child.pid);
      if (rssMb !== undefined) this.samples.push({ atSeconds, rssMb });
      onTick?.(atSeconds);
    }, 1000);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  trend(): string {
    const { samples } = this;
    const at = (fraction: number) => samples[Math.min(samples.length - 1, Math.ceil(fraction * samples.length) - 1)];
    return [0.25, 0.5, 0.75, 1]
      .map(at)
      .filter((s) => s !== undefined)
      .map((s) => `${s.rssMb.toFixed(0)} MB @${s.atSeconds.toFixed(0)} s`)
      .join(", ");
  }
}

/** Resident set size of a live process in MB (Linux); undefined once it has gone. */
function currentRssMb(pid: number | undefined): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A real run over the whole 100k input, interrupted with SIGINT after a while: spri stops cleanly
 * and still prints its summary (peakRssMb). RSS is sampled along the way: flat means memory does
 * not grow with items done, so a full run would end near the same peak.
 */
async function boundedRunMemory(server: BenchServer, dir: string, input: string): Promise<Part> {
  const { memoryItems: items, concurrency, boundedRunSeconds } = SETTINGS;
  await server.configure({ latencyMs: 0, maxInFlight: concurrency });
  const sampler = new RssSampler();
  let interrupted = false;
  const run = await runSpri(runArgs({ input, output: join(dir, "out.jsonl"), dir, serverUrl: server.url, concurrency, cache: false }), {
    cwd: dir,
    timeoutMs: (boundedRunSeconds + 60) * 1000,
    onStart: (child) =>
      sampler.start(child, (atSeconds) => {
        // Once only: like a second Ctrl-C, a second SIGINT ends spri at once, without its summary.
        if (atSeconds >= boundedRunSeconds && !interrupted) {
          interrupted = true;
          child.kill("SIGINT");
        }
      }),
  });
  sampler.stop();
  const summary = run.json as RunSummary | undefined;
  if (!summary || summary.outcome !== "stopped")
    throw new Error(`(c) bounded run: exit ${run.code}, outcome ${summary?.outcome}\n${run.stderrTail}`);
  return {
    rows: [
      row(
        "",
        `real run, ${items}-item input, SIGINT @${boundedRunSeconds} s: ${summary.done} items`,
        fmt.mb(summary.peakRssMb),
        `< ${SETTINGS.rssTargetMb} MB (partial)`,
        rssVerdict(summary.peakRssMb),
      ),
      row("", "  its RSS over time", sampler.trend() || "n/a"),
    ],
    data: { wallSeconds: run.wallSeconds, summary, samples: sampler.samples, probe: run.probe },
  };
}

// ---- (d) resume ----------------------------------------------------------------------------

/** Counts the lines of a growing file, reading only what was appended since the last call. */
class LineCounter {
  private offset = 0;
  private lines = 0;
  private readonly path: string;
  private readonly buffer = Buffer.alloc(1 << 16);

  constructor(path: string) {
    this.path = path;
  }

  count(): number {
    if (!existsSync(this.path)) return this.lines;
    const fd = openSync(this.path, "r");
    try {
      for (let n; (n = readSync(fd, this.buffer, 0, this.buffer.length, this.offset)) > 0; this.offset += n) {
        for (let i = 0; i < n; i++) if (this.buffer[i] === 0x0a) this.lines++;
      }
    } finally {
      closeSync(fd);
    }
    return this.lines;
  }
}

/**
 * SIGKILLs `child` once `path` holds `lines` lines; resolves with the count seen then, or with
 * undefined if the child ended first (resolving, not rejecting: nobody awaits it until the child ends).
 */
function killAtLines(child: ChildProcess, path: string, lines: number): Promise<number | undefined> {
  const counter = new LineCounter(path);
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const seen = counter.count();
      if (seen >= lines) {
        clearInterval(timer);
        child.kill("SIGKILL");
        resolve(seen);
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        resolve(undefined);
      }
    }, 10);
  });
}

/** Every expected id exactly once in the final output. */
function checkExactlyOnce(output: string, items: number): { ok: boolean; records: number; unique: number } {
  const ids = existsSync(output)
    ? readFileSync(output, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => String((JSON.parse(line) as { id: unknown }).id))
    : [];
  const unique = new Set(ids);
  const allThere = Array.from({ length: items }, (_, i) => `q${i}`).every((id) => unique.has(id));
  return {
    ok: ids.length === items && unique.size === items && allThere && !existsSync(`${output}.partial`),
    records: ids.length,
    unique: unique.size,
  };
}

export async function resume(server: BenchServer, uninterruptedCalls: number): Promise<BenchResult> {
  const { items, concurrency, latencyMs, repeatedTargetShare } = SETTINGS;
  await server.configure({ latencyMs, maxInFlight: concurrency });
  return inTempDir("d", async (dir) => {
    const input = writeItems(join(dir, "items.jsonl"), items);
    const output = join(dir, "out.jsonl");
    const args = runArgs({ input, output, dir, serverUrl: server.url, concurrency, cache: true });
    let killedAt: Promise<number | undefined> | undefined;
    const first = await runSpri(args, { cwd: dir, onStart: (child) => (killedAt = killAtLines(child, `${output}.partial`, items / 2)) });
    const linesAtKill = await killedAt;
    if (linesAtKill === undefined || first.signal !== "SIGKILL")
      throw new Error(`(d) the first run ended (exit ${first.code}) before it could be killed\n${first.stderrTail}`);
    const afterFirst = await server.stats();
    const second = await runSpri(args, { cwd: dir });
    const summary = summaryOf(second, "(d) re-run");
    const stats = await server.stats();

    // Paid calls are the answered ones: a provider does not bill the requests it refuses with 429.
    const repeated = stats.served - items * CALLS_PER_ITEM;
    const allowed = repeatedTargetShare * uninterruptedCalls;
    const once = checkExactlyOnce(output, items);
    const rows = [
      row("(d) resume", "killed at records in .partial", `${linesAtKill} of ${items} (${afterFirst.requests} calls so far)`),
      row("", "server requests, both runs", `${stats.requests}: ${stats.served} answered, ${stats.refused} refused (429)`),
      row("", "re-run's own calls", `${summary.calls} (${summary.spend.cacheHits} from cache)`),
      row(
        "",
        `repeated paid calls (answered − ${items}×${CALLS_PER_ITEM})`,
        `${repeated} (${((100 * repeated) / uninterruptedCalls).toFixed(2)} %)`,
        `≤ ${allowed.toFixed(0)} (1 %)`,
        repeated >= 0 && repeated <= allowed,
      ),
      row("", "identical bodies served twice", String(stats.duplicates)),
      row("", "final output: every item once", `${once.records} records, ${once.unique} distinct`, `${items} once`, once.ok),
    ];
    return {
      rows,
      notes: [],
      data: {
        items,
        linesAtKill,
        firstRun: { wallSeconds: first.wallSeconds, server: afterFirst },
        reRun: { wallSeconds: second.wallSeconds, summary },
        server: stats,
        repeated,
        allowed,
        exactlyOnce: once,
      },
    };
  });
}
