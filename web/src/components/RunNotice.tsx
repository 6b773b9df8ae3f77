/**
 * Why a run is not running or complete, and how to go on: the reason (interrupted, failed, stopped),
 * the recorded command that resumes it, and, when its output file has fewer records than the store
 * has done items (the process was killed between the two), how many are not in the file yet.
 */
import type { ItemCounts, RunSummary } from "../api.ts";
import { formatDate, formatNumber } from "../format.ts";

const HEADINGS: Record<string, string> = {
  interrupted: "Interrupted",
  failed: "Failed",
  stopped: "Stopped",
};

export function RunNotice(props: { run: Pick<RunSummary, "status" | "reason" | "resume" | "output">; counts: ItemCounts }) {
  const { run, counts } = props;
  const heading = HEADINGS[run.status];
  if (heading === undefined) return null;
  const missing = run.output ? counts.done - run.output.records : 0;
  return (
    <section className={`card notice notice-${run.status}`} data-testid="run-notice">
      <h2>{heading}</h2>
      {run.reason && (
        <p className="wrap" data-testid="run-reason">
          {run.reason}
        </p>
      )}
      {run.output && (
        <p data-testid="run-output">
          The output file <code>{run.output.file}</code> held {formatNumber(run.output.records)} records at {formatDate(run.output.at)}
          {missing > 0
            ? `: ${formatNumber(missing)} of the ${formatNumber(counts.done)} done items are in the store but not in the file yet; resuming the run writes them.`
            : "."}
        </p>
      )}
      {run.resume ? (
        <>
          <p className="small muted">Resume it (done items are kept, cached calls cost nothing):</p>
          <pre className="text command" data-testid="run-resume">
            {run.resume}
          </pre>
        </>
      ) : (
        <p className="small muted">To resume it, run the command that started it again, in the same directory.</p>
      )}
    </section>
  );
}
