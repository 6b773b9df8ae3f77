/** Small shared pieces: status badges, score chips, stat cards, table heads, loading and error lines. */
import type { ReactNode } from "react";
import { scoreColor } from "../format.ts";

export function StatusBadge(props: { status: string }) {
  return <span className={`badge status-${props.status}`}>{props.status}</span>;
}

export function ScoreChip(props: { score: number | null | undefined }) {
  const unscored = props.score === null || props.score === undefined;
  return (
    <span className="score" style={{ background: scoreColor(props.score) }} title={unscored ? "unscored" : `critic score ${props.score}`}>
      {unscored ? "–" : props.score}
    </span>
  );
}

export function ScoreChips(props: { scores?: (number | null)[] }) {
  if (!props.scores || props.scores.length === 0) return <span className="muted">–</span>;
  return (
    <span className="chips">
      {props.scores.map((score, i) => (
        <ScoreChip key={i} score={score} />
      ))}
    </span>
  );
}

export function Stat(props: { label: string; value: ReactNode; sub?: ReactNode; testId?: string }) {
  return (
    <div className="stat" data-testid={props.testId}>
      <div className="stat-label">{props.label}</div>
      <div className="stat-value">{props.value}</div>
      {props.sub !== undefined && <div className="stat-sub">{props.sub}</div>}
    </div>
  );
}

/** A column of a table head: its label, numeric (right-aligned, as its cells) when made with `num`. */
export type HeadColumn = string | { label: string; num: true };

export const num = (label: string): HeadColumn => ({ label, num: true });

/** A table's head row, one cell per column. */
export function TableHead(props: { columns: readonly HeadColumn[] }) {
  return (
    <thead>
      <tr>
        {props.columns.map((column, i) =>
          typeof column === "string" ? (
            <th key={i}>{column}</th>
          ) : (
            <th key={i} className="num">
              {column.label}
            </th>
          ),
        )}
      </tr>
    </thead>
  );
}

export function Loading() {
  return <p className="muted">Loading…</p>;
}

export function ErrorLine(props: { error?: string }) {
  if (!props.error) return null;
  return (
    <p className="error" role="alert">
      {props.error}
    </p>
  );
}

/**
 * Done, failed and (when given) leased items as shares of the total; the rest is pending. Counts
 * read at different moments can add up to more than the total: the shares never pass 100 %.
 */
export function ProgressBar(props: { done: number; failed: number; leased?: number; total: number }) {
  const total = Math.max(props.total, props.done + props.failed + (props.leased ?? 0), 1);
  const pct = (n: number) => `${((Math.max(0, n) / total) * 100).toFixed(2)}%`;
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={props.total} aria-valuenow={props.done + props.failed}>
      <div className="progress-done" style={{ width: pct(props.done) }} />
      <div className="progress-failed" style={{ width: pct(props.failed) }} />
      {props.leased ? <div className="progress-leased" style={{ width: pct(props.leased) }} /> : null}
    </div>
  );
}

/** Any value as text: strings as they are, everything else as indented JSON. */
export function TextBlock(props: { value: unknown; className?: string; testId?: string }) {
  const text = typeof props.value === "string" ? props.value : JSON.stringify(props.value, null, 2);
  return (
    <pre className={`text ${props.className ?? ""}`} data-testid={props.testId}>
      {text}
    </pre>
  );
}
