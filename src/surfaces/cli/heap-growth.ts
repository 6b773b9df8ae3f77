/**
 * How far the CLI process's V8 heap may grow, held to what a long run needs: a 100,000-item `spri
 * run` on Node 24 peaked at 317–350 MB RSS with V8's defaults (bench (c), target < 300 MB), at
 * 242–342 MB with the young generation held alone, and at 193–210 MB with both holds below (six 9 s
 * runs each over the same input; full runs in the closing notes).
 *
 * - The young generation stays at 16 MB semi-spaces (32 MB of new space), Node 22's default. Node
 *   24's V8 lets a busy process's semi-spaces grow to 64 MB each, and a long run touches all 128 MB.
 *   The semi-space limit is a startup flag (`--max-semi-space-size`) that a running process cannot
 *   lower for itself; V8 reads its growth factor at every resize, though. So after each collection
 *   the factor is set to 1 (no growth) once the new space has reached the cap, and back to 2 (V8's
 *   default) below it, where V8's memory reducer may have shrunk an idle worker's new space.
 * - The old generation grows to twice what the last full collection kept before the next one (as
 *   Go's GOGC=100 does), by `--heap-growing-percent`, which V8 reads each time it sets the next
 *   limit. V8's own factor varies from run to run with its measured GC and mutator speeds, up to 4×:
 *   with the smaller young generation more of a run's short-lived objects reach the old space, and at
 *   4× the old space grew to 176 MB of mostly garbage before a full collection. At 3× it still
 *   reached 124 MB once in six runs (294 MB RSS).
 *
 * The cost is a few more full collections: bench (h) read 0.153–0.159 ms per call (best of 4)
 * against 0.142–0.147 ms without. A user who sets either on the command line or in NODE_OPTIONS
 * keeps it as set.
 */
import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

export interface HeapGrowth {
  /** The new space (both semi-spaces) grows no further once it has reached this. */
  newSpaceCapBytes: number;
  /** The old generation's next limit: (100 + this) % of what the last full collection kept. */
  oldGrowingPercent: number;
}

export const HEAP_GROWTH: HeapGrowth = { newSpaceCapBytes: 32 * 1024 * 1024, oldGrowingPercent: 100 };

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

/** Holds the heap's growth from now on (what its user chose aside); returns a function that lets go. */
export function holdHeapGrowth(growth: HeapGrowth = HEAP_GROWTH): () => void {
  const chosen = userChoices();
  if (!chosen.oldGrowth) setFlagsFromString(`--heap-growing-percent=${growth.oldGrowingPercent}`);
  const releaseYoung = chosen.youngGeneration ? () => {} : capNewSpace(growth.newSpaceCapBytes);
  return () => {
    releaseYoung();
    if (!chosen.oldGrowth) setFlagsFromString("--heap-growing-percent=0");
  };
}

function capNewSpace(capBytes: number): () => void {
  let factor = GROWS;
  const observer = new PerformanceObserver(() => {
    const wanted = growthFactorFor(newSpaceBytes(), capBytes);
    if (wanted === factor) return;
    factor = wanted;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  });
  observer.observe({ entryTypes: ["gc"] });
  return () => {
    observer.disconnect();
    if (factor !== GROWS) setFlagsFromString(`--semi-space-growth-factor=${GROWS}`);
  };
}

function newSpaceBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0;
}
