/** Every run in the store, with filter and sort. */
import { useMemo, useState } from "react";
import { type RunListResponse, type RunSummary, type ShownStatus, useApi } from "../api.ts";
import { ErrorLine, Loading, StatusBadge } from "../components/Bits.tsx";
import { formatCost, formatDate, formatDuration, formatNumber, formatTokens, shortModel } from "../format.ts";
import { Link, navigate, runPath } from "../router.tsx";

type SortKey = "created" | "task" | "status" | "items" | "failed" | "calls" | "tokens" | "cost" | "duration";

/** The statuses a run is shown with, in the filter's order. */
const STATUS_FILTERS: readonly ShownStatus[] = ["running", "interrupted", "completed", "failed", "stopped"];

const COLUMNS: { key: SortKey; label: string; num?: boolean }[] = [
  { key: "created", label: "Created" },
  { key: "task", label: "Task" },
  { key: "status", label: "Status" },
  { key: "items", label: "Done", num: true },
  { key: "failed", label: "Failed", num: true },
  { key: "calls", label: "Calls", num: true },
  { key: "tokens", label: "Tokens", num: true },
  { key: "cost", label: "Cost", num: true },
  { key: "duration", label: "Duration", num: true },
];

function sortValue(run: RunSummary, key: SortKey): number | string {
  switch (key) {
    case "created":
      return run.createdAt;
    case "task":
      return run.task;
    case "status":
      return run.status;
    case "items":
      return run.counts.done;
    case "failed":
      return run.counts.failed;
    case "calls":
      return run.usage.calls;
    case "tokens":
      return run.usage.inputTokens + run.usage.outputTokens;
    case "cost":
      return run.usage.costUsd ?? 0;
    case "duration":
      return run.durationMs;
  }
}

export function RunsPage() {
  const runs = useApi<RunListResponse>("/api/runs?limit=1000");
  const [filter, setFilter] = useState("");
  const [status, setStatus] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: "created", desc: true });

  const shown = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    const list = (runs.data?.runs ?? []).filter(
      (run) =>
        (status === "" || run.status === status) &&
        (needle === "" ||
          [run.id, run.task, run.baseModel, run.criticModel ?? "", run.inputPath, run.outputPath ?? ""].some((v) =>
            v.toLowerCase().includes(needle),
          )),
    );
    const dir = sort.desc ? -1 : 1;
    return [...list].sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
  }, [runs.data, filter, status, sort]);

  const header = (key: SortKey, label: string, num?: boolean) => (
    <th key={key} className={num ? "num" : undefined} aria-sort={sort.key === key ? (sort.desc ? "descending" : "ascending") : "none"}>
      <button
        className="th-button"
        onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== "task" && key !== "status" }))}
      >
        {label}
        {sort.key === key ? (sort.desc ? " ▾" : " ▴") : ""}
      </button>
    </th>
  );

  return (
    <div className="page">
      <div className="page-head">
        <h1>Runs</h1>
        <div className="controls">
          <input
            type="search"
            placeholder="Filter by task, model, id, input…"
            value={filter}
            onChange={(e) => setFilter(e.target.value)}
            aria-label="filter runs"
          />
          <select value={status} onChange={(e) => setStatus(e.target.value)} aria-label="status">
            <option value="">any status</option>
            {STATUS_FILTERS.map((value) => (
              <option key={value} value={value}>
                {value}
              </option>
            ))}
          </select>
          <button onClick={runs.reload}>Refresh</button>
        </div>
      </div>
      <ErrorLine error={runs.error} />
      {!runs.data && runs.loading && <Loading />}
      {runs.data && (
        <section className="card flush">
          <table className="table" data-testid="runs-table">
            <thead>
              <tr>
                {header("created", "Created")}
                {header("task", "Task")}
                <th>Models (base / critic)</th>
                <th>Input → output</th>
                {COLUMNS.slice(2).map((c) => header(c.key, c.label, c.num))}
              </tr>
            </thead>
            <tbody>
              {shown.map((run) => (
                <tr key={run.id} className="clickable" onClick={() => navigate(runPath(run.id))} data-testid={`run-row-${run.id}`}>
                  <td className="nowrap">
                    <Link to={runPath(run.id)}>{formatDate(run.createdAt)}</Link>
                  </td>
                  <td className="mono">{run.task}</td>
                  <td className="ellipsis models">
                    <span title={run.baseModel}>{shortModel(run.baseModel)}</span>
                    <span className="muted"> / </span>
                    <span title={run.criticModel}>{shortModel(run.criticModel)}</span>
                  </td>
                  <td className="files" data-testid="run-files">
                    <div className="mono ellipsis" title={run.inputPath}>
                      {baseName(run.inputPath)}
                    </div>
                    {run.outputPath && (
                      <div className="mono ellipsis" title={run.outputPath}>
                        <span className="muted">→ </span>
                        {baseName(run.outputPath)}
                      </div>
                    )}
                  </td>
                  <td>
                    <StatusBadge status={run.status} />
                    {run.reason && (
                      <div className="small muted ellipsis reason-line" title={run.reason} data-testid="run-reason">
                        {run.reason}
                      </div>
                    )}
                  </td>
                  <td className="num">
                    {formatNumber(run.counts.done)}
                    <span className="muted"> / {formatNumber(run.counts.total)}</span>
                  </td>
                  <td className={`num ${run.counts.failed > 0 ? "error-text" : ""}`}>{formatNumber(run.counts.failed)}</td>
                  <td className="num">{formatNumber(run.usage.calls)}</td>
                  <td className="num">{formatTokens(run.usage.inputTokens + run.usage.outputTokens)}</td>
                  <td className="num">{formatCost(run.usage.costUsd, run.usage.unpricedCalls)}</td>
                  <td className="num">{formatDuration(run.durationMs)}</td>
                </tr>
              ))}
              {shown.length === 0 && (
                <tr>
                  <td colSpan={11} className="muted pad">
                    {runs.data.runs.length === 0
                      ? "No runs in this store yet: start one with spri run, or try the playground."
                      : "No run matches the filter."}
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </section>
      )}
    </div>
  );
}

/** The last part of a path (the whole path is in the cell's title). */
function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1) || path;
}
