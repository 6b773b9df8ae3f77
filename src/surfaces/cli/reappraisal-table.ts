/** `spri eval reappraisal`'s report as text: Table 1's means with their marks, then the tests' p-values. */
import {
  BASELINE_MARKERS,
  REPORT_CRITERIA,
  type ReappraisalReport,
  type ReportCriterion,
} from "../../algorithms/judge/reappraisal-report.ts";
import { textTable } from "../../base/util/text-table.ts";

const HEADINGS: Record<ReportCriterion, string> = {
  alignment: "alignment (1-10)",
  empathy: "empathy (1-5)",
  harmful: "harmful (0-1)",
  factuality: "factual (0-1)",
};

export function formatReappraisalReport(report: ReappraisalReport, baselines: readonly string[]): string {
  const names = Object.keys(report.methods);
  const means = [
    ["method", "cases", ...REPORT_CRITERIA.map((c) => HEADINGS[c])],
    ...names.map((name) => {
      const criteria = report.methods[name]!;
      const cases = Math.max(...REPORT_CRITERIA.map((c) => criteria[c].n + criteria[c].unscored));
      return [
        name,
        String(cases),
        ...REPORT_CRITERIA.map((c) => `${criteria[c].mean === null ? "—" : criteria[c].mean!.toFixed(2)}${criteria[c].markers}`),
      ];
    }),
  ];
  // Left-aligned columns, so marks follow their numbers.
  const lines = textTable(means).lines;
  const unscored = names.flatMap((name) =>
    REPORT_CRITERIA.filter((c) => report.methods[name]![c].unscored > 0).map((c) => `${name} ${c} ${report.methods[name]![c].unscored}`),
  );
  if (unscored.length > 0) lines.push("", `unscored answers, left out of the means: ${unscored.join("; ")}`);
  if (baselines.length > 0) {
    const marks = baselines.map((baseline, i) => `${BASELINE_MARKERS[i]}${i === 0 ? " p < 0.05" : ""} against ${baseline}`).join(", ");
    lines.push("", `${marks} (paired t-tests, two-sided; cases paired by post id and appraisal dimension)`);
    lines.push("", ...textTable(pValueRows(report)).lines);
  }
  return `${lines.join("\n")}\n`;
}

function pValueRows(report: ReappraisalReport): string[][] {
  const rows: string[][] = [["p-value of", "against", ...REPORT_CRITERIA.map((c) => HEADINGS[c].replace(/ \(.*\)$/, ""))]];
  const seen = new Set<string>();
  for (const test of report.tests) {
    const key = `${test.method}\u0000${test.baseline}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const cells = REPORT_CRITERIA.map((criterion) => {
      const found = report.tests.find((t) => t.method === test.method && t.baseline === test.baseline && t.criterion === criterion);
      return found?.p == null ? `— (${found?.reason ?? "none"})` : formatP(found.p);
    });
    rows.push([test.method, test.baseline, ...cells]);
  }
  return rows;
}

/** Three significant digits, so a p just above 0.05 does not print as 0.050. */
function formatP(p: number): string {
  return p !== 0 && p < 0.001 ? p.toExponential(1) : String(Number(p.toPrecision(3)));
}
