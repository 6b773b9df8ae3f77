/** Judge runs: the judge's scores against the human scores, per group, and their scatter. */
import type { JudgeReportResponse } from "../api.ts";
import { ErrorLine, Loading } from "./Bits.tsx";
import { Scatter } from "./Charts.tsx";
import { CorrelationTable } from "./CorrelationTable.tsx";

export function JudgeSection(props: { report?: JudgeReportResponse; error?: string }) {
  const r = props.report;
  const fmt = (n: number | null | undefined) => (n === null || n === undefined ? "–" : n.toFixed(3));
  return (
    <section className="card" data-testid="judge">
      <h2>Judge vs human scores</h2>
      <ErrorLine error={props.error} />
      {!r ? (
        <Loading />
      ) : r.n === 0 ? (
        <p className="muted">
          No item has both a judge score (<code>{r.scoreField}</code>) and a human score (<code>{r.humanField}</code>) yet.
        </p>
      ) : (
        <div className="two">
          <CorrelationTable groupBy={r.groupBy} groups={r.groups} mean={r.mean} pooled={{ ...r.pooled, n: r.n }} format={fmt} />
          <Scatter
            title={`Judge vs human (${r.points.length} of ${r.n} items)`}
            xLabel="human score"
            yLabel="judge score"
            points={r.points.map((p) => ({
              x: p.human,
              y: p.judge,
              label: `${p.itemId} (${p.group}): human ${p.human}, judge ${p.judge}`,
            }))}
          />
        </div>
      )}
      {r && r.dropped > 0 && (
        <p className="muted small">
          {r.dropped} of {r.read} finished items had no usable pair of scores.
        </p>
      )}
    </section>
  );
}
