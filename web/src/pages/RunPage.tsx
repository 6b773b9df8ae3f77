/**
 * One run: progress (live while it runs), its workers, score distributions, iterations, failures, cost, items;
 * its evaluation report when it keeps one (means, tests, win rates; per-case judgements); for discovery runs (`discover/...`), the constitution and a 2-D map of its principles instead.
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
import { ConstitutionSection } from "../components/ConstitutionSection.tsx";
import { EvalSection } from "../components/EvalSection.tsx";
import { ItemsTable } from "../components/ItemsTable.tsx";
import { JudgeSection } from "../components/JudgeSection.tsx";
import { RunNotice } from "../components/RunNotice.tsx";
import { runCharts, RunStatsSections } from "../components/RunStatsSections.tsx";
import { WorkersPanel } from "../components/WorkersPanel.tsx";
import { formatCost, formatDate, formatDuration, formatNumber, formatTokens, shortId, shortModel } from "../format.ts";
import { Link } from "../router.tsx";

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

  const evalKind = detail.data?.evalReport ?? null;
  // A pairwise judge run that keeps a win-rate report has no human scores to compare with.
  const isJudge = (run?.task.startsWith("judge/") ?? false) && evalKind === null;
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
  const charts = useMemo(() => (stats.data ? runCharts(stats.data) : undefined), [stats.data]);

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
          {stats.data && charts && <RunStatsSections stats={stats.data} charts={charts} />}

          {evalKind && <EvalSection runId={run.id} version={status === "running" ? 0 : 1} />}

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
