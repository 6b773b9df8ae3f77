/**
 * How far the CLI process's V8 heap may grow, held to what a long run needs. A 100,000-item `spri
 * run` (bench (c), target < 300 MB) peaked on Node 24 at 337–350 MB RSS with V8's defaults, and at
 * 223–247 MB with both holds below (six 9 s runs over the same input; full runs in the closing notes).
 *
 * - The new space stops growing at 64 MB (32 MB semi-spaces). Node 24's V8 lets a busy process's
 *   grow to 128 MB, and a long run touches all of it. The semi-space limit is a startup flag
 *   (`--max-semi-space-size`) that a running process cannot lower for itself; V8 reads its growth
 *   factor at every resize, though. So after each collection the factor is set to 1 (no growth) once
 *   the new space has reached the cap, and back to 2 (V8's default) below it, where V8's memory
 *   reducer may have shrunk an idle worker's new space. Node 22's 32 MB saved another ~30 MB but
 *   sent more of a run's short-lived objects to the old space: bench (h) read 0.175 ms per call in a
 *   full run, against 0.142–0.152 ms at 64 MB.
 * - The old generation grows to twice what the last full collection kept before the next one (as
 *   Go's GOGC=100 does), by `--heap-growing-percent`, which V8 reads each time it sets the next
 *   limit. V8's own factor varies from run to run with its measured GC and mutator speeds, up to 4×:
 *   at 4× the old space once filled to 176 MB of mostly garbage before a full collection (342 MB
 *   RSS), at 3× to 124 MB once in six runs.
 *
 * Measured cost, with both holds against neither (same host, same day): bench (f) 0.969–0.986 of the
 * bare client at 0.19–0.24 ms CPU per call, against 0.981–0.985 at 0.19 ms; (h) 0.142–0.152 ms
 * per call against 0.140–0.153 ms. A user who sets either on the command line or in NODE_OPTIONS keeps
 * it as set.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

export interface HeapGrowth {
  /** The new space (both semi-spaces) grows no further once it has reached this. */
  newSpaceCapBytes: number;
  /** The old generation's next limit: (100 + this) % of what the last full collection kept. */
  oldGrowingPercent: number;
}

export const HEAP_GROWTH: HeapGrowth = { newSpaceCapBytes: 64 * 1024 * 1024, oldGrowingPercent: 100 };

/** V8's default growth factor for the new space, and none. */
const GROWS = 2;
const STAYS = 1;

/** The flags with which a user sizes the young generation, or sets the old one's growth (V8 takes `_` for `-`). */
const YOUNG_FLAGS = /--(max[-_]semi[-_]space[-_]size|min[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor|max[-_]heap[-_]size)\b/;
const OLD_GROWTH_FLAG = /--heap[-_]growing[-_]percent\b/;

/** The new space's growth factor at `bytes`: none once it has reached the cap. */
export function growthFactorFor(bytes: number, capBytes = HEAP_GROWTH.newSpaceCapBytes): number {
  return bytes >= capBytes ? STAYS : GROWS;
}

/** What the process's user chose themselves, on the command line or in NODE_OPTIONS. */
export function userChoices(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS,
): { youngGeneration: boolean; oldGrowth: boolean } {
  const args = [...execArgv, nodeOptions ?? ""];
  return { youngGeneration: args.some((arg) => YOUNG_FLAGS.test(arg)), oldGrowth: args.some((arg) => OLD_GROWTH_FLAG.test(arg)) };
}

/** Holds the heap's growth for the rest of the process's life, what its user chose aside. */
export function holdHeapGrowth(growth: HeapGrowth = HEAP_GROWTH): void {
  const chosen = userChoices();
  if (!chosen.oldGrowth) setFlagsFromString(`--heap-growing-percent=${growth.oldGrowingPercent}`);
  if (!chosen.youngGeneration) capNewSpace(growth.newSpaceCapBytes);
}

function capNewSpace(capBytes: number): void {
  let factor = GROWS;
  new PerformanceObserver(() => {
    const wanted = growthFactorFor(newSpaceBytes(), capBytes);
    if (wanted === factor) return;
    factor = wanted;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  }).observe({ entryTypes: ["gc"] });
}

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
}
