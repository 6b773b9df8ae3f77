/**
 * Preloaded (`node --import`) into every measured spri child: at exit, writes a ProbeReport
 * (probe.ts) to $BENCH_PROBE_FILE. Plain JavaScript on purpose: a TypeScript preload makes Node load
 * its type stripper (a WebAssembly module) into the measured process, tens of milliseconds of CPU
 * that (h) then counted as spri's.
 */
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_PROBE_FILE;
if (file) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({
        peakRssMb: usage.maxRSS / 1024,
        userCpuSeconds: usage.userCPUTime / 1e6,
        systemCpuSeconds: usage.systemCPUTime / 1e6,
      }),
    );
  });
}
