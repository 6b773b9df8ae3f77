/** The results table, and the record written to test-artifacts/bench-results.json. */
import { textTable } from "../src/base/util/text-table.ts";
import { cpus, totalmem } from "node:os";

export interface Row {
  bench: string;
  measure: string;
  value: string;
  /** Empty for a row that only informs. */
  target: string;
  /** true PASS, false FAIL, null no target (or skipped). */
  pass: boolean | null;
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGb: number;
  node: string;
  platform: string;
}

export function machine(): Machine {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

export function row(bench: string, measure: string, value: string, target = "", pass: boolean | null = null): Row {
  return { bench, measure, value, target, pass };
}

export function formatTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [r.bench, r.measure, r.value, r.target, r.pass === null ? "" : r.pass ? "PASS" : "FAIL"]);
  const header = ["bench", "measure", "value", "target", "result"];
  const { lines, widths } = textTable([header, ...cells]);
  return [lines[0], widths.map((w) => "-".repeat(w)).join("  "), ...lines.slice(1)].join("\n");
}

export const fmt = {
  rate: (n: number) => `${n.toFixed(0)} calls/s`,
  mb: (n: number | undefined) => (n === undefined ? "n/a" : `${n.toFixed(0)} MB`),
  s: (n: number) => `${n.toFixed(1)} s`,
  ratio: (n: number) => n.toFixed(3),
};
