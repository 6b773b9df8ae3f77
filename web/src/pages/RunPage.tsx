/**
 * One run: progress (live while it runs), its workers, score distributions, iterations, failures, cost, items;
 * for discovery runs (`discover/...`), the constitution and a 2-D map of its principles instead.
 */
import { useEffect, useMemo, useState } from "react";
import {
  type ConstitutionResponse,
  enc,
  type JudgeReportResponse,
  type RunDetailResponse,
  type RunProgress,
  type RunStatsResponse,
  type RunWorkersResponse,
  useApi,
} from "../api.ts";
import { ErrorLine, Loading, ProgressBar, Stat, StatusBadge, TextBlock } from "../components/Bits.tsx";
import {
  Bars,
  CLUSTER_COLORS,
  ClusterMap,
  LineChart,
  OTHER_CLUSTER_COLOR,
  Scatter,
  ScoreLegend,
  type StackedColumn,
  StackedBars,
} from "../components/Charts.tsx";
import { ItemsTable } from "../components/ItemsTable.tsx";
import { RunNotice } from "../components/RunNotice.tsx";
import { WorkersPanel } from "../components/WorkersPanel.tsx";
import { formatCost, formatDate, formatDuration, formatNumber, formatTokens, shortId, shortModel } from "../format.ts";
import { Link } from "../router.tsx";

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

export function RunPage(props: { runId: string }) {
  const detail = useApi<RunDetailResponse>(`/api/runs/${enc(props.runId)}`);
  const [live, setLive] = useState<RunProgress>();
  const [liveWorkers, setLiveWorkers] = useState<{ watch: RunWorkersResponse; at: number }>();
  const [version, setVersion] = useState(0);
  const stats = useApi<RunStatsResponse>(`/api/runs/${enc(props.runId)}/stats?v=${version}`);
  const run = detail.data?.run;
  const status = live?.status ?? run?.status;

  // Live progress while the run is running: the server pushes snapshots as they change.
  useEffect(() => {
    if (run?.status !== "running") return;
    const source = new EventSource(`/api/runs/${enc(props.runId)}/events`);
    let last = 0;
    source.addEventListener("progress", (event) => {
      setLive(JSON.parse((event as MessageEvent<string>).data) as RunProgress);
      const now = Date.now();
      if (now - last > 3000) {
        last = now;
        setVersion((v) => v + 1);
      }
    });
    source.addEventListener("workers", (event) => {
      setLiveWorkers({ watch: JSON.parse((event as MessageEvent<string>).data) as RunWorkersResponse, at: Date.now() });
    });
    source.addEventListener("end", () => {
      source.close();
      setVersion((v) => v + 1);
      detail.reload();
      workersApi.reload();
    });
    return () => source.close();
  }, [run?.status, props.runId]);

  const isJudge = run?.task.startsWith("judge/") ?? false;
  const judge = useApi<JudgeReportResponse>(isJudge ? `/api/runs/${enc(props.runId)}/judge?v=${status === "running" ? 0 : 1}` : null);
  const isDiscovery = run?.task.startsWith("discover/") ?? false;
  const constitution = useApi<ConstitutionResponse>(isDiscovery ? `/api/runs/${enc(props.runId)}/constitution` : null);
  // Workers: fetched once (and again when the run ends), then from the event stream while it runs.
  const workersApi = useApi<RunWorkersResponse>(run && !isDiscovery ? `/api/runs/${enc(props.runId)}/workers` : null);
  const workersApiAt = useMemo(() => Date.now(), [workersApi.data]);
  const workers =
    liveWorkers && liveWorkers.at > workersApiAt ? liveWorkers : workersApi.data ? { watch: workersApi.data, at: workersApiAt } : undefined;

  const counts = live?.counts ?? run?.counts;
  const usage = live?.usage ?? run?.usage;
  const durationMs = live?.durationMs ?? run?.durationMs ?? 0;
  // Leased items are pending items a worker holds now; the rest of the pending ones wait.
  const leased = Math.min(workers?.watch.items.leased ?? 0, counts?.pending ?? 0);
  const charts = useMemo(() => {
    if (!stats.data) return undefined;
    const s = stats.data;
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
  }, [stats.data]);

  if (detail.error)
    return (
      <div className="page">
        <ErrorLine error={detail.error} />
      </div>
    );
  if (!run || !counts || !usage)
    return (
      <div className="page">
        <Loading />
      </div>
    );

  return (
    <div className="page" data-testid="run-page">
      <nav className="crumbs">
        <Link to="/">Runs</Link> <span>/</span> <span className="mono">{shortId(run.id)}</span>
      </nav>
      <div className="page-head">
        <h1>
          <span className="mono">{run.task}</span> <StatusBadge status={status ?? run.status} />
        </h1>
        <div className="muted small">
          {formatDate(run.createdAt)} · {formatDuration(durationMs)}
        </div>
      </div>
      <dl className="meta">
        <dt>Run</dt>
        <dd className="mono">{run.id}</dd>
        <dt>Base model</dt>
        <dd title={run.baseModel}>{shortModel(run.baseModel)}</dd>
        <dt>Critic</dt>
        <dd title={run.criticModel}>{shortModel(run.criticModel)}</dd>
        <dt>Input</dt>
        <dd className="mono ellipsis">{run.inputPath}</dd>
        {run.outputPath && (
          <>
            <dt>Output</dt>
            <dd className="mono ellipsis">{run.outputPath}</dd>
          </>
        )}
      </dl>

      <RunNotice run={{ ...run, status: status ?? run.status }} counts={counts} />

      {isDiscovery ? (
        <ConstitutionSection data={constitution.data} error={constitution.error} />
      ) : (
        <>
          <section className="card">
            <div className="progress-line">
              <ProgressBar done={counts.done} failed={counts.failed} leased={leased} total={counts.total} />
              <span className="small" data-testid="progress-text">
                {formatNumber(counts.done)} done · {formatNumber(counts.failed)} failed · {formatNumber(leased)} leased ·{" "}
                {formatNumber(counts.pending - leased)} pending of {formatNumber(counts.total)}
              </span>
            </div>
            <div className="stats">
              <Stat label="Items done" value={formatNumber(counts.done)} sub={`of ${formatNumber(counts.total)}`} testId="stat-done" />
              <Stat label="Failed" value={formatNumber(counts.failed)} />
              <Stat
                label="Calls"
                value={formatNumber(usage.calls)}
                sub={`${formatNumber(usage.cacheHits)} cached · ${formatNumber(usage.errors)} errors`}
              />
              <Stat
                label="Tokens"
                value={formatTokens(usage.inputTokens + usage.outputTokens)}
                sub={`${formatTokens(usage.inputTokens)} in · ${formatTokens(usage.outputTokens)} out`}
              />
              <Stat
                label="Cost"
                value={formatCost(usage.costUsd, usage.unpricedCalls)}
                sub={usage.unpricedCalls > 0 ? `${formatNumber(usage.unpricedCalls)} unpriced calls` : undefined}
              />
              <Stat
                label="Unscored critiques"
                value={charts ? formatNumber(charts.unscored.principles + charts.unscored.response) : "–"}
                sub={charts ? `${charts.unscored.principles} principles · ${charts.unscored.response} response` : undefined}
              />
            </div>
          </section>

          <ErrorLine error={workersApi.error} />
          <WorkersPanel watch={workers?.watch} receivedAt={workers?.at ?? 0} />

          <ErrorLine error={stats.error} />
          {charts && (
            <section className="card">
              <div className="card-head">
                <h2>Critic scores per iteration</h2>
                <ScoreLegend />
              </div>
              <div className="charts">
                <StackedBars title="Principles" xLabel="critique iteration" columns={charts.principles} testId="chart-principles" />
                <StackedBars title="Response" xLabel="critique iteration" columns={charts.response} testId="chart-response" />
                <Bars title="Iterations the principles needed" xLabel="critiques per item" bars={charts.principleIterations} />
                <Bars title="Iterations the response needed" xLabel="critiques per item" bars={charts.responseIterations} />
              </div>
            </section>
          )}

          {charts && (
            <section className="card">
              <h2>Over time</h2>
              <div className="charts">
                <TimeChart title="Calls per minute" points={charts.calls} />
                {charts.hasCost && <TimeChart title="Cost per minute (USD)" points={charts.cost} format={(n) => `$${n.toFixed(3)}`} />}
              </div>
            </section>
          )}

          {stats.data && (stats.data.failures.length > 0 || stats.data.steps.length > 0) && (
            <div className="two">
              <section className="card">
                <h2>Failures</h2>
                {stats.data.failures.length === 0 ? (
                  <p className="muted">No failed items.</p>
                ) : (
                  <table className="table compact">
                    <thead>
                      <tr>
                        <th>Reason</th>
                        <th className="num">Items</th>
                      </tr>
                    </thead>
                    <tbody>
                      {stats.data.failures.map((f) => (
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
                  <thead>
                    <tr>
                      <th>Step</th>
                      <th className="num">Calls</th>
                      <th className="num">Cached</th>
                      <th className="num">Errors</th>
                      <th className="num">Tokens</th>
                      <th className="num">Avg latency</th>
                    </tr>
                  </thead>
                  <tbody>
                    {stats.data.steps.map((s) => (
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

          {isJudge && <JudgeSection report={judge.data} error={judge.error} />}

          <ItemsTable runId={run.id} version={version} />
        </>
      )}

      <section className="card">
        <details>
          <summary>Settings</summary>
          <TextBlock value={run.settings} />
        </details>
      </section>
    </div>
  );
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

function JudgeSection(props: { report?: JudgeReportResponse; error?: string }) {
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

/** Discovery runs: the constitution's principles by cluster size, and the principles' 2-D map. */
function ConstitutionSection(props: { data?: ConstitutionResponse; error?: string }) {
  const d = props.data;
  const principles = useMemo(() => (d ? [...d.constitution.principles].sort((a, b) => b.size - a.size) : []), [d]);
  const colors = useMemo(() => new Map(principles.slice(0, CLUSTER_COLORS.length).map((p, i) => [p.id, CLUSTER_COLORS[i]!])), [principles]);
  return (
    <section className="card" data-testid="constitution">
      <h2>Constitution</h2>
      <ErrorLine error={props.error} />
      {!d ? (
        !props.error && <Loading />
      ) : (
        <>
          <p className="muted small">
            {formatNumber(principles.length)} principles from {formatNumber(principles.reduce((s, p) => s + p.size, 0))} mentions; the map
            shows {formatNumber(d.map.length)} unique principles (PCA of their embeddings), the ten largest clusters in colour.
          </p>
          <ClusterMap title="Principles (2-D PCA map)" points={d.map} colors={colors} testId="constitution-map" />
          <table className="table compact" data-testid="constitution-table">
            <thead>
              <tr>
                <th>Id</th>
                <th>Principle</th>
                <th className="num">Size</th>
                <th className="num">Unique</th>
                <th>Members (examples)</th>
              </tr>
            </thead>
            <tbody>
              {principles.map((p) => (
                <tr key={p.id}>
                  <td className="mono">
                    <svg className="swatch" viewBox="0 0 10 10" aria-hidden="true">
                      <rect width="10" height="10" rx="2" fill={colors.get(p.id) ?? OTHER_CLUSTER_COLOR} />
                    </svg>{" "}
                    {p.id}
                  </td>
                  <td className="wrap">
                    {p.name && <strong>{p.name}: </strong>}
                    {p.text}
                  </td>
                  <td className="num">{formatNumber(p.size)}</td>
                  <td className="num">{p.uniqueMembers === undefined ? "–" : formatNumber(p.uniqueMembers)}</td>
                  <td className="wrap small">{p.members.slice(0, 3).join(" · ") || <span className="muted">–</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
