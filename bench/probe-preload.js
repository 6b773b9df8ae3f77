/**
 * Preloaded (`node --import`) into every measured spri child: at exit, writes a ProbeReport
 * (probe.ts) to $BENCH_PROBE_FILE. Plain JavaScript on purpose: a TypeScript preload makes Node load
 * its type stripper (a WebAssembly module) into the measured process, tens of milliseconds of CPU
 * that (h) then counted as spri's.
 */
import { writeFileSync } from "node:fs";
import { constants, PerformanceObserver } from "node:perf_hooks";

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  // The main thread's garbage-collection pauses: every call in flight waits through them.
  const gc = { scavenges: 0, scavengeMs: 0, majors: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gc.scavenges++;
        gc.scavengeMs += entry.duration;
      } else if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        gc.majors++;
        gc.majorMs += entry.duration;
      }
    }
  }).observe({ entryTypes: ["gc"] });
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({
        peakRssMb: usage.maxRSS / 1024,
        userCpuSeconds: usage.userCPUTime / 1e6,
        systemCpuSeconds: usage.systemCPUTime / 1e6,
        gc,
      }),
    );
  });
}
