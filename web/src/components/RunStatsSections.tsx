/** A run's numbers over its items and calls: critic scores per iteration, iterations needed, calls and cost over time, failures, calls by step. */
import type { RunStatsResponse } from "../api.ts";
import { formatDuration, formatNumber, formatTokens } from "../format.ts";
import { num, TableHead } from "./Bits.tsx";
import { Bars, LineChart, ScoreLegend, type StackedColumn, StackedBars } from "./Charts.tsx";

type Stage = "principles" | "response";

function scoreColumns(stats: RunStatsResponse, stage: Stage): StackedColumn[] {
  const byIteration = new Map<number, Map<string, number>>();
  for (const row of stats.critiqueScores) {
    if (row.stage !== stage) continue;
    const key = row.score === null ? "unscored" : String(Math.round(row.score));
    const parts = byIteration.get(row.iteration) ?? new Map<string, number>();
    parts.set(key, (parts.get(key) ?? 0) + row.count);
    byIteration.set(row.iteration, parts);
  }
  return [...byIteration.entries()]
    .sort(([a], [b]) => a - b)
    .map(([iteration, parts]) => ({
      label: `#${iteration}`,
      parts: ["1", "2", "3", "4", "5", "unscored"].filter((k) => parts.has(k)).map((key) => ({ key, value: parts.get(key)! })),
    }));
}

function unscoredCount(stats: RunStatsResponse, stage: Stage): number {
  return stats.critiqueScores.filter((r) => r.stage === stage && r.score === null).reduce((s, r) => s + r.count, 0);
}

/** At most ~120 points: minutes are merged into wider buckets for long runs. */
function timeline(stats: RunStatsResponse, field: "calls" | "costUsd" | "outputTokens"): { label: string; value: number }[] {
  const rows = stats.timeline;
  const step = Math.max(1, Math.ceil(rows.length / 120));
  const points: { label: string; value: number }[] = [];
  for (let i = 0; i < rows.length; i += step) {
    const chunk = rows.slice(i, i + step);
    points.push({ label: chunk[0]!.minute.replace("T", " "), value: chunk.reduce((s, r) => s + r[field], 0) });
  }
  return points;
}

/** Bars while there are few minutes (a short run), a line for longer ones. */
function TimeChart(props: { title: string; points: { label: string; value: number }[]; format?: (n: number) => string }) {
  if (props.points.length > 12) return <LineChart {...props} />;
  return (
    <Bars
      title={props.title}
      xLabel="minute (UTC)"
      format={props.format}
      bars={props.points.map((p) => ({ label: p.label.slice(11), value: p.value }))}
    />
  );
}

export type RunCharts = ReturnType<typeof runCharts>;

/** The charts' series, computed once per stats answer. */
export function runCharts(s: RunStatsResponse) {
  const iterations = (stage: Stage) =>
    s.iterations.filter((r) => r.stage === stage).map((r) => ({ label: String(r.iterations), value: r.items }));
  return {
    principles: scoreColumns(s, "principles"),
    response: scoreColumns(s, "response"),
    principleIterations: iterations("principles"),
    responseIterations: iterations("response"),
    unscored: { principles: unscoredCount(s, "principles"), response: unscoredCount(s, "response") },
    calls: timeline(s, "calls"),
    cost: timeline(s, "costUsd"),
    hasCost: s.timeline.some((r) => r.costUsd > 0),
  };
}

export function RunStatsSections(props: { stats: RunStatsResponse; charts: RunCharts }) {
  return (
    <>
      <section className="card">
        <div className="card-head">
          <h2>Critic scores per iteration</h2>
          <ScoreLegend />
        </div>
        <div className="charts">
          <StackedBars title="Principles" xLabel="critique iteration" columns={props.charts.principles} testId="chart-principles" />
          <StackedBars title="Response" xLabel="critique iteration" columns={props.charts.response} testId="chart-response" />
          <Bars title="Iterations the principles needed" xLabel="critiques per item" bars={props.charts.principleIterations} />
          <Bars title="Iterations the response needed" xLabel="critiques per item" bars={props.charts.responseIterations} />
        </div>
      </section>

      <section className="card">
        <h2>Over time</h2>
        <div className="charts">
          <TimeChart title="Calls per minute" points={props.charts.calls} />
          {props.charts.hasCost && (
            <TimeChart title="Cost per minute (USD)" points={props.charts.cost} format={(n) => `$${n.toFixed(3)}`} />
          )}
        </div>
      </section>

      {(props.stats.failures.length > 0 || props.stats.steps.length > 0) && (
        <div className="two">
          <section className="card">
            <h2>Failures</h2>
            {props.stats.failures.length === 0 ? (
              <p className="muted">No failed items.</p>
            ) : (
              <table className="table compact">
                <TableHead columns={["Reason", num("Items")]} />
                <tbody>
                  {props.stats.failures.map((f) => (
                    <tr key={f.reason}>
                      <td className="wrap">{f.reason || <span className="muted">(no reason recorded)</span>}</td>
                      <td className="num">{formatNumber(f.count)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section className="card">
            <h2>Calls by step</h2>
            <table className="table compact">
              <TableHead columns={["Step", num("Calls"), num("Cached"), num("Errors"), num("Tokens"), num("Avg latency")]} />
              <tbody>
                {props.stats.steps.map((s) => (
                  <tr key={s.step}>
                    <td className="mono">{s.step}</td>
                    <td className="num">{formatNumber(s.calls)}</td>
                    <td className="num">{formatNumber(s.cacheHits)}</td>
                    <td className="num">{formatNumber(s.errors)}</td>
                    <td className="num">{formatTokens(s.inputTokens + s.outputTokens)}</td>
                    <td className="num">{formatDuration(s.latencyMs)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </div>
      )}
    </>
  );
}
