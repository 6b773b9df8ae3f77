/**
 * How busy the machine is before a benchmark starts: share of all cores' time spent working over a
 * short sample (Linux /proc/stat; undefined elsewhere). Nothing of the bench runs while it samples,
 * so this is other people's load, which slows every measure that follows; the bench reports it.
 */
import { existsSync, readFileSync } from "node:fs";

function cpuTimes(): { busy: number; total: number } | undefined {
  if (!existsSync("/proc/stat")) return undefined;
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  // idle and iowait are the time nobody wanted the CPU.
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share (0..1) of the machine's CPU in use by others over `ms`. */
export async function machineBusy(ms = 1000): Promise<number | undefined> {
  const before = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTimes();
  if (!before || !after || after.total === before.total) return undefined;
  return (after.busy - before.busy) / (after.total - before.total);
}

/**
 * Waits (up to `maxMs`) for a second in which others use less than `threshold` of the CPU: on a
 * shared machine a short wait buys much cleaner numbers. Returns the last busy share seen.
 */
export async function waitForQuiet(threshold: number, maxMs: number): Promise<number | undefined> {
  const deadline = performance.now() + maxMs;
  for (;;) {
    const busy = await machineBusy();
    if (busy === undefined || busy <= threshold || performance.now() >= deadline) return busy;
  }
}
