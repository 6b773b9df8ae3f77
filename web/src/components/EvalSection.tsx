/**
 * An evaluation run's report, as the command printed it (the numbers are shown as stored, never
 * recomputed here), and its per-case judgements page by page, each linking to its item.
 */
import { useState } from "react";
import { type EvalCasesResponse, type EvalReportResponse, enc, useApi } from "../api.ts";
import { formatNumber } from "../format.ts";
import { itemPath, Link } from "../router.tsx";
import { ErrorLine, Loading } from "./Bits.tsx";
import { EvalReportBody } from "./EvalReportTables.tsx";

const CASES_PAGE = 50;

const TITLES: Record<EvalReportResponse["kind"], string> = {
  reappraisal: "Reappraisal evaluation",
  "win-rate": "Win rate",
  ifeval: "IFEval principle-following win rate",
  "mt-bench": "MT-Bench",
  truthfulqa: "TruthfulQA",
  correlate: "Judge vs human agreement",
};

/** `version` changes when the run ends, so a report written at its end is read again. */
export function EvalSection(props: { runId: string; version: number }) {
  const report = useApi<EvalReportResponse>(`/api/runs/${enc(props.runId)}/eval?v=${props.version}`);
  const r = report.data;
  return (
    <>
      <section className="card" data-testid="eval-report" data-kind={r?.kind}>
        <h2>{r ? TITLES[r.kind] : "Evaluation report"}</h2>
        <ErrorLine error={report.error} />
        {!r ? !report.error && <Loading /> : <EvalReportBody report={r} />}
        {r?.summaryFile && (
          <p className="muted small">
            Also in <span className="mono">{r.summaryFile}</span>.
          </p>
        )}
      </section>
      <EvalCases runId={props.runId} version={props.version} />
    </>
  );
}

function EvalCases(props: { runId: string; version: number }) {
  const [offset, setOffset] = useState(0);
  const cases = useApi<EvalCasesResponse>(
    `/api/runs/${enc(props.runId)}/eval/cases?limit=${CASES_PAGE}&offset=${offset}&v=${props.version}`,
  );
  const c = cases.data;
  const last = c ? Math.min(c.offset + c.rows.length, c.total) : 0;
  return (
    <section className="card" data-testid="eval-cases">
      <div className="card-head">
        <h2>Per-case judgements</h2>
        {c && (
          <div className="small">
            <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - CASES_PAGE))}>
              ‹ Previous
            </button>{" "}
            <span data-testid="eval-cases-range">
              {c.total === 0 ? 0 : formatNumber(c.offset + 1)}–{formatNumber(last)} of {formatNumber(c.total)}
            </span>{" "}
            <button type="button" disabled={last >= c.total} onClick={() => setOffset(offset + CASES_PAGE)}>
              Next ›
            </button>
          </div>
        )}
      </div>
      <ErrorLine error={cases.error} />
      {!c ? (
        !cases.error && <Loading />
      ) : (
        <table className="table compact">
          <thead>
            <tr>
              <th>Item</th>
              {c.columns.map((name) => (
                <th key={name}>{name}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {c.rows.map((row) => (
              <tr key={row.itemId} data-testid="eval-case">
                <td className="mono ellipsis">
                  <Link to={itemPath(props.runId, row.itemId)}>{row.itemId}</Link>
                </td>
                {row.values.map((value, i) => (
                  <td key={c.columns[i]} className={typeof value === "number" ? "num" : "wrap"}>
                    {value === null ? <span className="muted">unscored</span> : String(value)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
