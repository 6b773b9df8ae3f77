/** Judge runs: the judge's scores against the human scores, per group, and their scatter. */
import type { JudgeReportResponse } from "../api.ts";
import { ErrorLine, Loading } from "./Bits.tsx";
import { Scatter } from "./Charts.tsx";

export function JudgeSection(props: { report?: JudgeReportResponse; error?: string }) {
  const r = props.report;
  const fmt = (n: number | null) => (n === null ? "–" : n.toFixed(3));
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
          <table className="table compact">
            <thead>
              <tr>
                <th>{r.groupBy ?? "group"}</th>
                <th className="num">n</th>
                <th className="num">Pearson</th>
                <th className="num">Spearman</th>
                <th className="num">MAE</th>
                <th className="num">α</th>
              </tr>
            </thead>
            <tbody>
              {r.groups.map((g) => (
                <tr key={g.name}>
                  <td>{g.name}</td>
                  <td className="num">{g.n}</td>
                  <td className="num">{fmt(g.pearson)}</td>
                  <td className="num">{fmt(g.spearman)}</td>
                  <td className="num">{fmt(g.mae)}</td>
                  <td className="num">{fmt(g.alpha)}</td>
                </tr>
              ))}
              <tr className="total">
                <td>mean of groups</td>
                <td />
                <td className="num">{fmt(r.mean.pearson)}</td>
                <td className="num">{fmt(r.mean.spearman)}</td>
                <td className="num">{fmt(r.mean.mae)}</td>
                <td className="num">{fmt(r.mean.alpha)}</td>
              </tr>
              <tr className="total">
                <td>pooled</td>
                <td className="num">{r.n}</td>
                <td className="num">{fmt(r.pooled.pearson)}</td>
                <td className="num">{fmt(r.pooled.spearman)}</td>
                <td className="num">{fmt(r.pooled.mae)}</td>
                <td className="num">{fmt(r.pooled.alpha)}</td>
              </tr>
            </tbody>
          </table>
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
