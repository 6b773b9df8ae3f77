/**
 * What the two throughput benches ((a) at 64 in flight, (f) at 256) read from their runs alike: the
 * best run of each side, their ratio, the 429s spri drew, whether every item made its calls, and the
 * server-side rows and run data they both report.
 */
import type { BareResult, BareStack } from "./bare-client.ts";
import { fmt, type Row, row } from "./report.ts";
import { CALLS_PER_ITEM } from "./responder.ts";
import type { ServerStats } from "./server.ts";
import type { CliRun } from "./spri-cli.ts";

/** One `spri run` of a throughput bench, with the server's count of what it was sent. */
export interface SpriRateRun {
  run: CliRun;
  stats: ServerStats;
  callsPerSecond: number;
  windowCallsPerSecond: number;
  done: number;
}

export type BareRateRun = BareResult & { stats: ServerStats };

export function best<T>(runs: readonly T[], rate: (run: T) => number): T {
  return runs.reduce((a, b) => (rate(b) > rate(a) ? b : a));
}

/** The child's CPU seconds (user + system), from the probe. */
export function cpuOf(run: CliRun): number | undefined {
  return run.probe ? run.probe.userCpuSeconds + run.probe.systemCpuSeconds : undefined;
}

export function cpuPerCall(cpuSeconds: number | undefined, calls: number): string {
  return cpuSeconds === undefined ? "n/a" : `${((1000 * cpuSeconds) / calls).toFixed(2)} ms`;
}

/** The best run of each side, spri's over the bare client's, and what the server saw of spri's runs. */
export function throughputOutcome<S extends SpriRateRun>(spriRuns: readonly S[], bareRuns: readonly BareRateRun[], items: number) {
  const spri = best(spriRuns, (r) => r.callsPerSecond);
  const bare = best(bareRuns, (r) => r.callsPerSecond);
  return {
    spri,
    bare,
    ratio: spri.callsPerSecond / bare.callsPerSecond,
    refused: spriRuns.reduce((sum, r) => sum + r.stats.refused, 0),
    callsPerItemOk: spriRuns.every((r) => r.stats.served === items * CALLS_PER_ITEM && r.done === items),
  };
}

/** Numbers as a comma-separated list, `digits` decimals each. */
export const list = (values: readonly number[], digits = 0): string => values.map((v) => v.toFixed(digits)).join(", ");

/** The rows after each bench's headline: every spri run, its best server window, the best bare run and every bare run, stack by stack in `stacks`' order. */
export function everyRunRows(
  outcome: ReturnType<typeof throughputOutcome>,
  runs: { spri: readonly SpriRateRun[]; bare: readonly BareRateRun[] },
  setup: { concurrency: number; repeats: number; stacks: readonly BareStack[] },
): Row[] {
  const { spri, bare } = outcome;
  return [
    row("", "spri, every run (wall)", `${list(runs.spri.map((r) => r.callsPerSecond))} calls/s`),
    row("", "spri, server window only (best run)", fmt.rate(spri.windowCallsPerSecond)),
    row(
      "",
      `bare client, ${setup.concurrency} in flight, best of ${setup.repeats} × 2 stacks`,
      `${fmt.rate(bare.callsPerSecond)} over ${bare.stack} (${bare.requests} calls in ${fmt.s(bare.seconds)})`,
    ),
    ...setup.stacks.map((stack) =>
      row("", `bare ${stack}, every run`, `${list(runs.bare.filter((r) => r.stack === stack).map((r) => r.callsPerSecond))} calls/s`),
    ),
  ];
}

/** The rows both benches end with: 429s, the server's peak, calls per item, CPU per call (`spriCalls`: the best spri run's). */
export function serverRows(outcome: ReturnType<typeof throughputOutcome>, items: number, spriCalls: number): Row[] {
  const { spri, bare, refused, callsPerItemOk } = outcome;
  return [
    row("", "429s sent during spri runs", String(refused)),
    row("", "server peak in flight (spri / bare)", `${spri.stats.peakInFlight} / ${bare.stats.peakInFlight}`),
    row("", "server mean in flight (spri / bare)", `${meanInFlight(spri.stats)} / ${meanInFlight(bare.stats)}`),
    row("", "calls per item (server count)", (spri.stats.served / items).toFixed(2), String(CALLS_PER_ITEM), callsPerItemOk),
    row("", "CPU per call (spri / best bare)", `${cpuPerCall(cpuOf(spri.run), spriCalls)} / ${cpuPerCall(bare.cpuSeconds, bare.requests)}`),
    row("", "spri GC pauses, main thread (best run)", gcPauses(spri.run)),
  ];
}

/** The child's garbage-collection pauses and their share of its wall time, from the probe. */
export function gcPauses(run: CliRun): string {
  const gc = run.probe?.gc;
  if (gc === undefined) return "n/a";
  const ms = gc.scavengeMs + gc.majorMs;
  return `${ms.toFixed(0)} ms, ${(ms / 10 / run.wallSeconds).toFixed(1)} % of wall (${gc.scavenges} scavenges ${gc.scavengeMs.toFixed(0)} ms, ${gc.majors} full ${gc.majorMs.toFixed(0)} ms)`;
}

/**
 * Mean requests in flight over the server's window, then per fifth of it: a client short of the
 * cap at the start or the end (ramp, tail) differs from one short of it all along.
 */
export function meanInFlight(stats: ServerStats): string {
  const { firstAt, lastAt, inFlightMs, inFlightBuckets, inFlightBucketMs } = stats;
  if (firstAt === null || lastAt === null || lastAt <= firstAt) return "n/a";
  const fifths = [0, 0, 0, 0, 0];
  inFlightBuckets.forEach((area, i) => {
    const fifth = Math.min(4, Math.floor((5 * (i + 0.5) * inFlightBucketMs) / (lastAt - firstAt)));
    fifths[fifth]! += area ?? 0;
  });
  const fifthMs = (lastAt - firstAt) / 5;
  return `${(inFlightMs / (lastAt - firstAt)).toFixed(0)} (fifths ${fifths.map((a) => (a / fifthMs).toFixed(0)).join(", ")})`;
}

/** The bench's setup and runs as the results file keeps them. */
export function runsData(
  setup: { items: number; concurrency: number; latencyMs: number },
  runs: { spri: readonly SpriRateRun[]; bare: readonly BareRateRun[] },
): Record<string, unknown> {
  const spriRuns = runs.spri.map((r) => ({
    wallSeconds: r.run.wallSeconds,
    callsPerSecond: r.callsPerSecond,
    windowCallsPerSecond: r.windowCallsPerSecond,
    server: r.stats,
    probe: r.run.probe,
  }));
  return { items: setup.items, concurrency: setup.concurrency, latencyMs: setup.latencyMs, spriRuns, bareRuns: runs.bare };
}
