/**
 * The run page's workers panel: every worker of a shared run (host, pid, items done and failed in
 * this run, items it holds now, last heartbeat, status), lost ones marked, with the run's recent
 * rate and ETA. The snapshot comes from `/api/runs/:id/workers` and, while the run is running, from
 * the `workers` events of the run's event stream; heartbeat ages tick on in the page between them
 * (from the server's age at the snapshot, so the browser's clock need not agree with the server's).
 */
import { useEffect, useState } from "react";
import type { RunWorkersResponse } from "../api.ts";
import { formatAgo, formatDuration, formatNumber } from "../format.ts";
import { num, StatusBadge, TableHead } from "./Bits.tsx";

export function WorkersPanel(props: { watch?: RunWorkersResponse; receivedAt: number }) {
  const { watch } = props;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [props.receivedAt]);
  if (!watch) return null;
  const elapsed = Math.max(0, (now - props.receivedAt) / 1000);
  const lost = watch.workers.filter((w) => w.status === "lost").length;
  const summary = [
    `${formatNumber(watch.activeWorkers)} active`,
    ...(lost > 0 ? [`${formatNumber(lost)} lost`] : []),
    // The rate says how a running run goes; once it has ended, its counts say it all.
    ...(watch.status === "running"
      ? [`${watch.ratePerMinute.toFixed(1)} items/min (last ${formatDuration(watch.rateWindowSeconds * 1000)})`]
      : []),
    ...(watch.etaSeconds === null ? [] : [`ETA ${formatDuration(watch.etaSeconds * 1000)}`]),
  ].join(" · ");
  return (
    <section className="card" data-testid="workers-panel">
      <div className="card-head">
        <h2>Workers</h2>
        <span className="muted small" data-testid="workers-summary">
          {summary}
        </span>
      </div>
      {watch.workers.length === 0 ? (
        <p className="muted">No worker has worked on this run.</p>
      ) : (
        <table className="table compact">
          <TableHead columns={["Host", num("PID"), num("Done"), num("Failed"), num("Leased"), "Last heartbeat", "Status"]} />
          <tbody>
            {watch.workers.map((w) => (
              <tr
                key={w.id}
                className={`worker-${w.status}`}
                data-testid="worker-row"
                data-status={w.status}
                title={`worker ${w.id}, started ${w.startedAt}`}
              >
                <td className="mono">{w.host}</td>
                <td className="num">{w.pid}</td>
                <td className="num">{formatNumber(w.itemsDone)}</td>
                <td className="num">{formatNumber(w.itemsFailed)}</td>
                <td className="num">{formatNumber(w.leased)}</td>
                <td title={w.heartbeatAt}>{formatAgo(w.heartbeatAgeSeconds + elapsed)}</td>
                <td>
                  <StatusBadge status={w.status} />
                  {w.status === "lost" && (
                    <span className="small lost-note"> gone: no heartbeat for longer than its lease, or its process ended</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
