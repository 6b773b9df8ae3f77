/** Small hand-written SVG charts: stacked bars, bars, a line and a scatter. */
import { SCORE_COLORS, formatNumber } from "../format.ts";

/** The drawing box of the small charts (viewBox units) and its margins. */
export const W = 360;
export const H = 190;
export const PAD = { left: 36, right: 10, top: 12, bottom: 30 };

export function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** Grid lines and labels at 0, half and the top of the value axis. */
export function Axis(props: { max: number; height: number; width: number; format?: (n: number) => string }) {
  const ticks = [0, 0.5, 1].map((f) => f * props.max);
  const fmt = props.format ?? ((n: number) => formatNumber(Math.round(n * 100) / 100));
  return (
    <g className="axis">
      {ticks.map((tick) => {
        const y = PAD.top + props.height - (tick / props.max) * props.height;
        return (
          <g key={tick}>
            <line x1={PAD.left} x2={PAD.left + props.width} y1={y} y2={y} className="grid" />
            <text x={PAD.left - 4} y={y + 3} textAnchor="end">
              {fmt(tick)}
            </text>
          </g>
        );
      })}
    </g>
  );
}

export interface StackedColumn {
  label: string;
  parts: { key: string; value: number }[];
}

/** One column per label, split into colored parts (scores 1–5 and unscored). */
export function StackedBars(props: {
  columns: StackedColumn[];
  title: string;
  xLabel: string;
  testId?: string;
  format?: (n: number) => string;
}) {
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const totals = props.columns.map((c) => c.parts.reduce((s, p) => s + p.value, 0));
  const max = niceMax(Math.max(0, ...totals));
  const slot = innerW / Math.max(1, props.columns.length);
  const barW = Math.min(48, slot * 0.6);
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {props.columns.length === 0 ? (
        <p className="muted">No data yet.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
          <Axis max={max} height={innerH} width={innerW} format={props.format ?? ((n) => formatNumber(Math.round(n * 10) / 10))} />
          {props.columns.map((column, i) => {
            let y = PAD.top + innerH;
            const x = PAD.left + slot * i + (slot - barW) / 2;
            return (
              <g key={column.label}>
                {column.parts.map((part) => {
                  const h = (part.value / max) * innerH;
                  y -= h;
                  return (
                    <rect key={part.key} x={x} y={y} width={barW} height={Math.max(0, h)} fill={SCORE_COLORS[part.key] ?? "#5b7db1"}>
                      <title>
                        {part.key === "bar"
                          ? `${column.label}: ${props.format ? props.format(part.value) : part.value}`
                          : `${column.label}: ${part.key === "unscored" ? "unscored" : `score ${part.key}`} × ${part.value}`}
                      </title>
                    </rect>
                  );
                })}
                <text x={x + barW / 2} y={H - PAD.bottom + 14} textAnchor="middle" className="tick">
                  {column.label}
                </text>
              </g>
            );
          })}
          <text x={PAD.left + innerW / 2} y={H - 2} textAnchor="middle" className="axis-label">
            {props.xLabel}
          </text>
        </svg>
      )}
    </figure>
  );
}

export function ScoreLegend() {
  return (
    <div className="legend">
      {Object.entries(SCORE_COLORS).map(([key, color]) => (
        <span key={key}>
          <i style={{ background: color }} />
          {key === "unscored" ? "unscored" : key}
        </span>
      ))}
    </div>
  );
}

/** Plain bars, one per label. */
export function Bars(props: { bars: { label: string; value: number }[]; title: string; xLabel: string; format?: (n: number) => string }) {
  return (
    <StackedBars
      title={props.title}
      xLabel={props.xLabel}
      format={props.format}
      columns={props.bars.map((bar) => ({ label: bar.label, parts: [{ key: "bar", value: bar.value }] }))}
    />
  );
}

/** A line over time-ordered points. */
export function LineChart(props: { points: { label: string; value: number }[]; title: string; format?: (n: number) => string }) {
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const max = niceMax(Math.max(0, ...props.points.map((p) => p.value)));
  const n = props.points.length;
  const x = (i: number) => PAD.left + (n <= 1 ? innerW / 2 : (i / (n - 1)) * innerW);
  const y = (v: number) => PAD.top + innerH - (v / max) * innerH;
  const path = props.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      {n === 0 ? (
        <p className="muted">No calls yet.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
          <Axis max={max} height={innerH} width={innerW} format={props.format} />
          <path d={path} className="line" />
          {props.points.map((p, i) => (
            <circle key={p.label} cx={x(i)} cy={y(p.value)} r={n > 60 ? 1.5 : 3} className="dot">
              <title>{`${p.label}: ${props.format ? props.format(p.value) : p.value}`}</title>
            </circle>
          ))}
          <text x={PAD.left} y={H - PAD.bottom + 14} className="tick">
            {props.points[0]!.label}
          </text>
          {n > 1 && (
            <text x={PAD.left + innerW} y={H - PAD.bottom + 14} textAnchor="end" className="tick">
              {props.points[n - 1]!.label}
            </text>
          )}
        </svg>
      )}
    </figure>
  );
}

/** Judge vs human scores; equal pairs are spread a little so they stay visible. */
export function Scatter(props: { points: { x: number; y: number; label: string }[]; title: string; xLabel: string; yLabel: string }) {
  const size = 260;
  const pad = 34;
  const xs = props.points.map((p) => p.x);
  const ys = props.points.map((p) => p.y);
  const lo = Math.min(1, ...xs, ...ys);
  const hi = Math.max(5, ...xs, ...ys);
  const scale = (v: number) => pad + ((v - lo) / (hi - lo || 1)) * (size - 2 * pad);
  const jitter = (i: number, axis: number) => (((i * 7919 + axis * 104729) % 13) - 6) * 0.9;
  return (
    <figure className="chart">
      <figcaption>{props.title}</figcaption>
      <svg viewBox={`0 0 ${size} ${size}`} className="square" role="img" aria-label={props.title}>
        <line x1={scale(lo)} y1={size - scale(lo)} x2={scale(hi)} y2={size - scale(hi)} className="grid" />
        {[lo, (lo + hi) / 2, hi].map((t) => (
          <g key={t} className="axis">
            <text x={scale(t)} y={size - pad + 14} textAnchor="middle">
              {t}
            </text>
            <text x={pad - 6} y={size - scale(t) + 3} textAnchor="end">
              {t}
            </text>
          </g>
        ))}
        {props.points.map((p, i) => (
          <circle key={i} cx={scale(p.x) + jitter(i, 0)} cy={size - scale(p.y) + jitter(i, 1)} r={2.5} className="dot faint">
            <title>{p.label}</title>
          </circle>
        ))}
        <text x={size / 2} y={size - 4} textAnchor="middle" className="axis-label">
          {props.xLabel}
        </text>
        <text x={10} y={size / 2} textAnchor="middle" className="axis-label" transform={`rotate(-90 10 ${size / 2})`}>
          {props.yLabel}
        </text>
      </svg>
    </figure>
  );
}

/** Colours of the ten largest clusters on the principle map; the rest are grey. */
export const CLUSTER_COLORS = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
  "#7f7f7f",
];
export const OTHER_CLUSTER_COLOR = "#c8c8c8";

/** A 2-D map of principles (PCA), one colour per cluster in `colors`; a <title> per point holds its text. */
export function ClusterMap(props: {
  points: { x: number; y: number; cluster: string; text: string }[];
  colors: Map<string, string>;
  title: string;
  testId?: string;
}) {
  const size = 320;
  const pad = 12;
  const xs = props.points.map((p) => p.x);
  const ys = props.points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const sx = (v: number) => pad + ((v - x0) / span) * (size - 2 * pad) + (((span - (x1 - x0)) / span) * (size - 2 * pad)) / 2;
  const sy = (v: number) => size - pad - ((v - y0) / span) * (size - 2 * pad) - (((span - (y1 - y0)) / span) * (size - 2 * pad)) / 2;
  // Grey points first, so coloured clusters stay on top.
  const ordered = [...props.points].sort((a, b) => Number(props.colors.has(a.cluster)) - Number(props.colors.has(b.cluster)));
  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {props.points.length === 0 ? (
        <p className="muted">No points.</p>
      ) : (
        <svg viewBox={`0 0 ${size} ${size}`} className="square" role="img" aria-label={props.title}>
          {ordered.map((p, i) => (
            <circle
              key={i}
              cx={sx(p.x)}
              cy={sy(p.y)}
              r={3}
              fill={props.colors.get(p.cluster) ?? OTHER_CLUSTER_COLOR}
              fillOpacity={0.8}
              data-cluster={p.cluster}
            >
              <title>{`${p.cluster}: ${p.text}`}</title>
            </circle>
          ))}
        </svg>
      )}
    </figure>
  );
}
