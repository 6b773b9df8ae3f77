/**
 * One metric across discovery iterations: a point per iteration that has the value, joined while
 * consecutive, with its 95% CI as a whisker where known and its value written above it (while the
 * iterations are few enough to leave room). Iterations without the value leave a gap.
 */
import { Axis, H, niceMax, PAD, W } from "./Charts.tsx";

export interface IterationValue {
  iter: number;
  value: number | null;
  ci?: [number, number];
}

/** Above this many iterations, values are in the points' tooltips only. */
const MAX_LABELLED = 8;

export function IterationChart(props: {
  title: string;
  testId: string;
  values: IterationValue[];
  format: (n: number) => string;
  /** The top of the value axis; by default a round number above the largest value or CI bound. */
  max?: number;
  /** A dashed line at this value (e.g. 50% for a win rate). */
  reference?: number;
  /** Written after the CI bounds (e.g. `%`). */
  unit?: string;
  /** The value axis' labels (default: `format`). */
  tickFormat?: (n: number) => string;
}) {
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const measured = props.values.filter((v): v is IterationValue & { value: number } => v.value !== null);
  const max = props.max ?? niceMax(Math.max(0, ...measured.map((v) => Math.max(v.value, v.ci?.[1] ?? 0))));
  const n = props.values.length;
  const x = (i: number) => PAD.left + (n <= 1 ? innerW / 2 : (i / (n - 1)) * innerW);
  const y = (v: number) => PAD.top + innerH - (Math.min(v, max) / max) * innerH;
  const labelled = n <= MAX_LABELLED;
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {measured.length === 0 ? (
        <p className="muted">Not measured yet.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
          <Axis max={max} height={innerH} width={innerW} format={props.tickFormat ?? props.format} />
          {props.reference !== undefined && (
            <line x1={PAD.left} x2={PAD.left + innerW} y1={y(props.reference)} y2={y(props.reference)} className="reference" />
          )}
          <path d={linePath(props.values, x, y)} className="line" />
          {props.values.map((v, i) =>
            v.value === null ? null : (
              <g key={v.iter} data-testid="iter-point" data-iter={v.iter}>
                {v.ci && (
                  <line x1={x(i)} x2={x(i)} y1={y(v.ci[0])} y2={y(v.ci[1])} className="whisker" data-testid="iter-ci">
                    <title>{`iteration ${v.iter}: 95% CI ${v.ci[0]}–${v.ci[1]}${props.unit ?? ""}`}</title>
                  </line>
                )}
                <circle cx={x(i)} cy={y(v.value)} r={3.5} className="dot">
                  <title>{`iteration ${v.iter}: ${props.format(v.value)}`}</title>
                </circle>
                {labelled && (
                  <text x={x(i) + 5} y={labelY(y(v.value))} className="value" data-testid="iter-value">
                    {props.format(v.value)}
                  </text>
                )}
              </g>
            ),
          )}
          {props.values.map((v, i) => (
            <text key={v.iter} x={x(i)} y={H - PAD.bottom + 14} textAnchor="middle" className="tick">
              {v.iter}
            </text>
          ))}
          <text x={PAD.left + innerW / 2} y={H - 2} textAnchor="middle" className="axis-label">
            iteration
          </text>
        </svg>
      )}
    </figure>
  );
}

/** Above its point, or below it when the point is at the top of the plot. */
function labelY(pointY: number): number {
  return pointY - 6 < PAD.top + 6 ? pointY + 14 : pointY - 6;
}

/** A line through each run of consecutive measured iterations. */
function linePath(values: IterationValue[], x: (i: number) => number, y: (v: number) => number): string {
  let path = "";
  let joined = false;
  for (const [i, v] of values.entries()) {
    if (v.value === null) {
      joined = false;
      continue;
    }
    path += `${joined ? "L" : "M"}${x(i).toFixed(1)},${y(v.value).toFixed(1)} `;
    joined = true;
  }
  return path.trim();
}
