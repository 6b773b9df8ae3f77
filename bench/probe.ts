/**
 * Preloaded (`node --import`) into a spri child by spri-cli.ts: at exit, writes the process's peak
 * RSS and CPU time to $BENCH_PROBE_FILE as JSON. Node gives a parent no way to read a child's
 * rusage, and polling /proc can miss a peak just before exit; `maxRSS` is the kernel's own
 * high-water mark. CPU time tells whether a run was CPU-bound (cpu seconds ≈ wall seconds × cores).
 */
import { writeFileSync } from "node:fs";

export interface ProbeReport {
  peakRssMb: number;
  userCpuSeconds: number;
  systemCpuSeconds: number;
}

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    const report: ProbeReport = {
      peakRssMb: usage.maxRSS / 1024,
      userCpuSeconds: usage.userCPUTime / 1e6,
      systemCpuSeconds: usage.systemCPUTime / 1e6,
    };
    writeFileSync(file, JSON.stringify(report));
  });
}
