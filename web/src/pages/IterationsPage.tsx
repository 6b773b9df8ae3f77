/**
 * `spri view --iterations DIR`: the discovery loop's iterations: a plot per metric of
 * `spri discover iterate report`, and the constitutions side by side.
 */
import type { IterationOverviewRow, IterationsResponse } from "../api.ts";
import { useApi } from "../api.ts";
import { ErrorLine, Loading } from "../components/Bits.tsx";
import { ConstitutionColumns } from "../components/ConstitutionColumns.tsx";
import { IterationChart, type IterationValue } from "../components/IterationChart.tsx";
import { formatDate, formatNumber } from "../format.ts";

const percent = (n: number) => `${n.toFixed(1)}%`;
const fraction = (n: number) => n.toFixed(3);

function series(rows: IterationOverviewRow[], pick: (row: IterationOverviewRow) => number | null): IterationValue[] {
  return rows.map((row) => ({ iter: row.iter, value: pick(row) }));
}

function winRates(rows: IterationOverviewRow[], side: "vsPrevious" | "vsBase"): IterationValue[] {
  return rows.map((row) => {
    const report = row[side];
    return report ? { iter: row.iter, value: report.winRate, ci: report.ci95 } : { iter: row.iter, value: null };
  });
}

/** Win rates are percentages, with 50% (parity) marked. */
const WIN_RATE = { format: percent, tickFormat: (n: number) => `${n}%`, max: 100, reference: 50, unit: "%" };

/** The plots, in the order of `spri discover iterate report`'s columns. */
function metricCharts(rows: IterationOverviewRow[]) {
  return [
    {
      metric: "winRateVsPrevious",
      title: "Win rate vs the previous iteration (95% CI)",
      values: winRates(rows, "vsPrevious"),
      ...WIN_RATE,
    },
    { metric: "winRateVsBase", title: "Win rate vs the base model (95% CI)", values: winRates(rows, "vsBase"), ...WIN_RATE },
    { metric: "rougeL", title: "Rouge-L F1 against the gold", values: series(rows, (r) => r.rougeL), format: fraction, max: 1 },
    { metric: "constitution", title: "Constitution size (principles)", values: series(rows, (r) => r.constitution), format: formatNumber },
    {
      metric: "diversity",
      title: "Constitution diversity (mean Rouge-L distance)",
      values: series(rows, (r) => r.diversity),
      format: fraction,
      max: 1,
    },
    {
      metric: "discoveryRate",
      title: "Discovery rate (new principles per prompt)",
      values: series(rows, (r) => r.discoveryRate),
      format: fraction,
    },
  ];
}

function MetricCharts(props: { rows: IterationOverviewRow[] }) {
  return (
    <div className="charts">
      {metricCharts(props.rows).map(({ metric, ...chart }) => (
        <IterationChart key={metric} testId={`iter-chart-${metric}`} {...chart} />
      ))}
    </div>
  );
}

export function IterationsPage() {
  const overview = useApi<IterationsResponse>("/api/iterations");
  const data = overview.data;
  return (
    <div className="page" data-testid="iterations-page">
      <div className="page-head">
        <h1>Iterations</h1>
        <div className="controls">
          <button onClick={overview.reload}>Refresh</button>
        </div>
      </div>
      <ErrorLine error={overview.error} />
      {!data && overview.loading && <Loading />}
      {data && (
        <>
          <p className="muted small">
            <span className="mono">{data.dir}</span> · {formatNumber(data.iterations.length)} iterations · updated{" "}
            {formatDate(data.updatedAt)}
          </p>
          <section className="card">
            <h2>Metrics per iteration</h2>
            <MetricCharts rows={data.iterations} />
          </section>
          <section className="card">
            <h2>Constitutions</h2>
            <ConstitutionColumns data={data} />
          </section>
        </>
      )}
    </div>
  );
}
