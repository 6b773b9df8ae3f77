/**
 * What the probe preloaded into each measured spri child (probe-preload.js) writes to
 * $BENCH_PROBE_FILE at exit: the process's peak RSS and CPU time. Node gives a parent no way to read
 * a child's rusage, and polling /proc can miss a peak just before exit; `maxRSS` is the kernel's own
 * high-water mark. CPU time tells whether a run was CPU-bound (cpu seconds ≈ wall seconds × cores).
 */
export interface ProbeReport {
  peakRssMb: number;
  userCpuSeconds: number;
  systemCpuSeconds: number;
  /** The main thread's garbage-collection pauses (scavenges and full collections), count and milliseconds. */
  gc?: { scavenges: number; scavengeMs: number; majors: number; majorMs: number };
}

/** The preload's URL, for `node --import`. */
export const PROBE_PRELOAD = new URL("./probe-preload.js", import.meta.url).href;
