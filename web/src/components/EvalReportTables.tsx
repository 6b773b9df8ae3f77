/**
 * One table (or a row of figures) per kind of evaluation report. Numbers appear as the report holds
 * them (already rounded by the command, e.g. Table 1's two decimals), so the page and `--json` agree.
 */
import type { EvalReportResponse } from "../api.ts";
import { num, Stat, TableHead } from "./Bits.tsx";
import { CorrelationTable } from "./CorrelationTable.tsx";

type Report<K extends EvalReportResponse["kind"]> = Extract<EvalReportResponse, { kind: K }>;

/** A number as stored; null (undefined: no scored case, or a test that cannot be made) as a dash. */
export function shown(value: number | null | undefined, digits?: number): string {
  if (value === null || value === undefined) return "–";
  return digits === undefined ? String(value) : value.toFixed(digits);
}

/** A p-value: four decimals, or two significant digits below 0.0001. */
export function shownP(p: number | null): string {
  if (p === null) return "–";
  return p !== 0 && p < 0.0001 ? p.toExponential(1) : p.toFixed(4);
}

export function EvalReportBody(props: { report: EvalReportResponse }) {
  const r = props.report;
  switch (r.kind) {
    case "reappraisal":
      return <ReappraisalTables report={r} />;
    case "win-rate":
    case "ifeval":
      return <WinRateFigures report={r} />;
    case "mt-bench":
      return <MtBenchTables report={r} />;
    case "truthfulqa":
      return <TruthfulQaFigures report={r} />;
    case "correlate":
      return <CorrelationReportTable report={r} />;
  }
}

const CRITERIA = ["alignment", "empathy", "harmful", "factuality"] as const;

function ReappraisalTables(props: { report: Report<"reappraisal"> }) {
  const { methods, tests } = props.report.report;
  const [first, second] = props.report.baselines;
  return (
    <>
      <table className="table compact" data-testid="eval-means">
        <thead>
          <tr>
            <th>Method</th>
            {CRITERIA.map((c) => (
              <th key={c} className="num">
                {c}
              </th>
            ))}
            <th className="num">n</th>
            <th className="num">unscored</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(methods).map(([name, criteria]) => (
            <tr key={name} data-testid={`eval-method-${name}`}>
              <td>{name}</td>
              {CRITERIA.map((c) => (
                <td key={c} className="num" data-testid={`eval-mean-${name}-${c}`}>
                  {shown(criteria[c].mean, 2)}
                  {criteria[c].markers}
                </td>
              ))}
              <td className="num">{CRITERIA.map((c) => criteria[c].n).join(" / ")}</td>
              <td className="num">{CRITERIA.map((c) => criteria[c].unscored).join(" / ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="muted small">
        Means over the scored cases (alignment 1–10, empathy 1–5, harmful and factual as shares).
        {first && ` * p < 0.05 against ${first}`}
        {second && `, † against ${second}`} (paired t-tests on cases matched by post and dimension).
      </p>
      {tests.length > 0 && (
        <table className="table compact" data-testid="eval-tests">
          <TableHead columns={["Method", "Baseline", "Criterion", num("n"), num("t"), num("df"), num("p")]} />
          <tbody>
            {tests.map((t) => (
              <tr key={`${t.method}/${t.baseline}/${t.criterion}`} data-testid="eval-test">
                <td>{t.method}</td>
                <td>{t.baseline}</td>
                <td>{t.criterion}</td>
                <td className="num">{t.n}</td>
                <td className="num">{shown(t.t, 3)}</td>
                <td className="num">{shown(t.df)}</td>
                <td className="num" title={t.reason ? `undefined: ${t.reason}` : undefined}>
                  {t.p === null && t.reason ? <span className="muted">{t.reason}</span> : shownP(t.p)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function WinRateFigures(props: { report: Report<"win-rate"> | Report<"ifeval"> }) {
  const r = props.report.report;
  const without = props.report.kind === "ifeval" ? props.report.report.withoutInstructions : undefined;
  return (
    <div className="stats">
      <Stat label="Win rate" value={`${shown(r.winRate)}%`} sub={`SE ${shown(r.standardError)}`} testId="eval-win-rate" />
      <Stat label="95% CI" value={`${shown(r.ci95[0])}–${shown(r.ci95[1])}%`} testId="eval-ci95" />
      <Stat
        label="LC win rate"
        value={r.lcWinRate === undefined ? "–" : `${shown(r.lcWinRate)}%`}
        sub="length-controlled"
        testId="eval-lc"
      />
      <Stat
        label="Pairs"
        value={shown(r.n)}
        sub={`${r.wins} wins · ${r.ties} ties · ${r.losses} losses · ${r.unscored} unscored`}
        testId="eval-pairs"
      />
      {r.avgLength !== undefined && <Stat label="Average length" value={shown(r.avgLength)} sub="characters of the model's outputs" />}
      {without !== undefined && <Stat label="Without instructions" value={shown(without)} sub="prompts left out" />}
    </div>
  );
}

function MtBenchTables(props: { report: Report<"mt-bench"> }) {
  const r = props.report.report;
  return (
    <>
      <div className="stats">
        <Stat label="Turn 1" value={shown(r.turn1)} testId="eval-turn1" />
        <Stat label="Turn 2" value={shown(r.turn2)} testId="eval-turn2" />
        <Stat label="Overall" value={shown(r.average)} sub={`${r.n} judgements · ${r.unscored} unscored`} testId="eval-average" />
      </div>
      <table className="table compact" data-testid="eval-categories">
        <thead>
          <tr>
            <th>Category</th>
            <th className="num">Mean (1–10)</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(r.categories).map(([name, mean]) => (
            <tr key={name}>
              <td>{name}</td>
              <td className="num">{shown(mean)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function TruthfulQaFigures(props: { report: Report<"truthfulqa"> }) {
  const r = props.report.report;
  return (
    <div className="stats">
      <Stat label="MC1" value={shown(r.mc1, 4)} testId="eval-mc1" />
      <Stat label="MC2" value={shown(r.mc2, 4)} testId="eval-mc2" />
      <Stat label="Questions" value={shown(r.n)} testId="eval-n" />
    </div>
  );
}

function CorrelationReportTable(props: { report: Report<"correlate"> }) {
  const r = props.report.report;
  const m = r.metrics;
  return (
    <>
      <p className="muted small">
        Judge <span className="mono">{r.scoreField}</span> vs human <span className="mono">{r.humanField}</span>: {r.read} rows read, {r.n}{" "}
        used, {r.dropped} dropped.
      </p>
      <CorrelationTable
        testId="eval-correlation"
        groupBy={r.groupBy}
        groups={r.groups.map((g) => ({
          name: g.name,
          n: g.n,
          pearson: m.pearson.groups[g.name],
          pearsonP: m.pearson.p[g.name] ?? null,
          spearman: m.spearman.groups[g.name],
          spearmanP: m.spearman.p[g.name] ?? null,
          mae: m.mae.groups[g.name],
          alpha: m.krippendorff_alpha.groups[g.name],
        }))}
        mean={{ pearson: m.pearson.mean, spearman: m.spearman.mean, mae: m.mae.mean, alpha: m.krippendorff_alpha.mean }}
        pooled={{
          n: r.n,
          pearson: m.pearson.pooled,
          pearsonP: m.pearson.pooledP,
          spearman: m.spearman.pooled,
          spearmanP: m.spearman.pooledP,
          mae: m.mae.pooled,
          alpha: m.krippendorff_alpha.pooled,
        }}
        format={(value) => shown(value)}
        formatP={shownP}
      />
    </>
  );
}
