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

function MetricCharts(props: { rows: IterationOverviewRow[] }) {
  const { rows } = props;
  return (
    <div className="charts">
      <IterationChart
        title="Win rate vs the previous iteration (95% CI)"
        testId="iter-chart-winRateVsPrevious"
        values={winRates(rows, "vsPrevious")}
        format={percent}
        tickFormat={(n) => `${n}%`}
        max={100}
        reference={50}
        unit="%"
      />
      <IterationChart
        title="Win rate vs the base model (95% CI)"
        testId="iter-chart-winRateVsBase"
        values={winRates(rows, "vsBase")}
        format={percent}
        tickFormat={(n) => `${n}%`}
        max={100}
        reference={50}
        unit="%"
      />
      <IterationChart
        title="Rouge-L F1 against the gold"
        testId="iter-chart-rougeL"
        values={series(rows, (r) => r.rougeL)}
        format={fraction}
        max={1}
      />
      <IterationChart
        title="Constitution size (principles)"
        testId="iter-chart-constitution"
        values={series(rows, (r) => r.constitution)}
        format={(n) => formatNumber(n)}
      />
      <IterationChart
        title="Constitution diversity (mean Rouge-L distance)"
        testId="iter-chart-diversity"
        values={series(rows, (r) => r.diversity)}
        format={fraction}
        max={1}
      />
      <IterationChart
        title="Discovery rate (new principles per prompt)"
        testId="iter-chart-discoveryRate"
        values={series(rows, (r) => r.discoveryRate)}
        format={fraction}
      />
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
