/**
 * A standalone SVG for a judge-versus-human comparison: a scatter of judge score against human
 * score (one point per row, jittered on discrete scales, one colour per group, the y = x line) and
 * a histogram of both score distributions. Hand-written SVG: no browser, no dependency, and the same
 * input always gives the same bytes (the jitter comes from a seeded generator).
 */
import type { ScoredGroup } from "./correlate.ts";
import { seededRandom } from "../../base/util/random.ts";

export interface CorrelationFigureOptions {
  groups: readonly ScoredGroup[];
  title?: string;
  /** A second line under the title, e.g. the metric. */
  subtitle?: string;
  humanLabel?: string;
  judgeLabel?: string;
  /** Seed of the jitter (default 1). */
  seed?: number;
}

/** Okabe–Ito colours, ordered so the first ones read well on white. */
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
const HUMAN_COLOUR = "#999999";
const JUDGE_COLOUR = "#0072B2";
/** Scales with at most this many distinct values are treated as discrete (jitter, one bar per value). */
const MAX_DISCRETE = 12;

const WIDTH = 1000;
const SCATTER = { left: 70, top: 80, width: 400, height: 320 };
const HISTOGRAM = { left: 570, top: 80, width: 390, height: 320 };
const LEGEND_COLUMNS = 4;
const LEGEND_COLUMN_WIDTH = 225;

export function groupColour(index: number): string {
  return PALETTE[index] ?? `hsl(${Math.round((index * 137.508) % 360)}, 65%, 45%)`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** Short decimal form for coordinates and labels. */
function num(value: number, digits = 1): string {
  const text = String(Number(value.toFixed(digits)));
  return text === "-0" ? "0" : text;
}

function distinctSorted(values: Iterable<number>): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}

function niceTicks(min: number, max: number, count = 5): number[] {
  if (min === max) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  /** Jitter half-width in data units (0 on a continuous scale). */
  jitter: number;
}

function axisFor(values: readonly number[]): Axis {
  const distinct = distinctSorted(values);
  const low = distinct[0] ?? 0;
  const high = distinct[distinct.length - 1] ?? 1;
  if (distinct.length <= MAX_DISCRETE) {
    let gap = Number.POSITIVE_INFINITY;
    for (let i = 1; i < distinct.length; i++) gap = Math.min(gap, distinct[i]! - distinct[i - 1]!);
    if (!Number.isFinite(gap)) gap = 1;
    return { min: low - gap / 2, max: high + gap / 2, ticks: distinct, jitter: distinct.length > 1 ? gap * 0.18 : 0.1 };
  }
  const pad = (high - low) * 0.05;
  return { min: low - pad, max: high + pad, ticks: niceTicks(low, high), jitter: 0 };
}

function scale(value: number, axis: { min: number; max: number }, from: number, length: number): number {
  return from + ((value - axis.min) / (axis.max - axis.min)) * length;
}

/** The SVG document for the groups' paired scores. */
export function renderCorrelationFigure(options: CorrelationFigureOptions): string {
  const groups = options.groups;
  const humanLabel = options.humanLabel ?? "human score";
  const judgeLabel = options.judgeLabel ?? "judge score";
  const allHuman = groups.flatMap((g) => g.human);
  const allJudge = groups.flatMap((g) => g.judge);
  const total = allHuman.length;
  const legendRows = Math.ceil(groups.length / LEGEND_COLUMNS);
  const height = SCATTER.top + SCATTER.height + 70 + legendRows * 20;
  const out: string[] = [];
  out.push('<?xml version="1.0" encoding="UTF-8"?>');
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
  );
  const title = options.title ?? "Judge score against human score";
  out.push(`<title>${escapeXml(title)}</title>`);
  out.push(
    `<desc>${escapeXml(`Scatter of ${judgeLabel} against ${humanLabel} for ${total} rows in ${groups.length} groups, and a histogram of both scores.`)}</desc>`,
  );
  out.push(`<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${SCATTER.left}" y="30" font-size="16" font-weight="600">${escapeXml(title)}</text>`);
  if (options.subtitle) out.push(`<text x="${SCATTER.left}" y="50" fill="#444444">${escapeXml(options.subtitle)}</text>`);

  // ---- Scatter ------------------------------------------------------------------------------------
  const xAxis = axisFor(allHuman);
  const yAxis = axisFor(allJudge);
  const px = (v: number) => scale(v, xAxis, SCATTER.left, SCATTER.width);
  const py = (v: number) => scale(v, yAxis, SCATTER.top + SCATTER.height, -SCATTER.height);
  out.push('<g class="scatter">');
  out.push(frame(SCATTER));
  for (const t of xAxis.ticks) {
    const x = num(px(t));
    out.push(`<line x1="${x}" y1="${SCATTER.top}" x2="${x}" y2="${SCATTER.top + SCATTER.height}" stroke="#eeeeee"/>`);
    out.push(`<text x="${x}" y="${SCATTER.top + SCATTER.height + 16}" text-anchor="middle">${num(t, 2)}</text>`);
  }
  for (const t of yAxis.ticks) {
    const y = num(py(t));
    out.push(`<line x1="${SCATTER.left}" y1="${y}" x2="${SCATTER.left + SCATTER.width}" y2="${y}" stroke="#eeeeee"/>`);
    out.push(`<text x="${SCATTER.left - 8}" y="${y}" dy="4" text-anchor="end">${num(t, 2)}</text>`);
  }
  const low = Math.max(xAxis.min, yAxis.min);
  const high = Math.min(xAxis.max, yAxis.max);
  if (low < high) {
    out.push(
      `<line class="identity" x1="${num(px(low))}" y1="${num(py(low))}" x2="${num(px(high))}" y2="${num(py(high))}" stroke="#bbbbbb" stroke-dasharray="4 4"/>`,
    );
  }
  out.push(
    `<text x="${SCATTER.left + SCATTER.width / 2}" y="${SCATTER.top + SCATTER.height + 36}" text-anchor="middle">${escapeXml(humanLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(${SCATTER.left - 44} ${SCATTER.top + SCATTER.height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(judgeLabel)}</text>`,
  );
  const next = seededRandom(options.seed ?? 1);
  groups.forEach((group, index) => {
    out.push(`<g class="group" data-group="${escapeXml(group.name)}" fill="${groupColour(index)}" fill-opacity="0.45">`);
    for (let i = 0; i < group.human.length; i++) {
      const x = px(group.human[i]! + (next() * 2 - 1) * xAxis.jitter);
      const y = py(group.judge[i]! + (next() * 2 - 1) * yAxis.jitter);
      out.push(`<circle class="point" cx="${num(x)}" cy="${num(y)}" r="2.5"/>`);
    }
    out.push("</g>");
  });
  out.push("</g>");
  out.push('<g class="legend">');
  groups.forEach((group, index) => {
    const x = SCATTER.left + (index % LEGEND_COLUMNS) * LEGEND_COLUMN_WIDTH;
    const y = SCATTER.top + SCATTER.height + 62 + Math.floor(index / LEGEND_COLUMNS) * 20;
    const name = group.name.length > 26 ? `${group.name.slice(0, 25)}…` : group.name;
    out.push(`<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${groupColour(index)}"/>`);
    out.push(`<text x="${x + 15}" y="${y}">${escapeXml(`${name} (${group.human.length})`)}</text>`);
  });
  out.push("</g>");

  // ---- Histogram ----------------------------------------------------------------------------------
  const bins = binsFor(allHuman, allJudge);
  const maxCount = Math.max(1, ...bins.map((b) => Math.max(b.human, b.judge)));
  const countTicks = niceTicks(0, maxCount, 5).filter((t) => Number.isInteger(t));
  const yMax = Math.max(maxCount, countTicks[countTicks.length - 1] ?? maxCount);
  const hy = (count: number) => HISTOGRAM.top + HISTOGRAM.height - (count / yMax) * HISTOGRAM.height;
  out.push('<g class="histogram">');
  out.push(frame(HISTOGRAM));
  for (const t of countTicks) {
    const y = num(hy(t));
    out.push(`<line x1="${HISTOGRAM.left}" y1="${y}" x2="${HISTOGRAM.left + HISTOGRAM.width}" y2="${y}" stroke="#eeeeee"/>`);
    out.push(`<text x="${HISTOGRAM.left - 8}" y="${y}" dy="4" text-anchor="end">${t}</text>`);
  }
  const slot = HISTOGRAM.width / bins.length;
  const barWidth = Math.max(1, slot * 0.38);
  bins.forEach((bin, index) => {
    const centre = HISTOGRAM.left + slot * (index + 0.5);
    for (const [series, count, colour, offset] of [
      ["human", bin.human, HUMAN_COLOUR, -barWidth],
      ["judge", bin.judge, JUDGE_COLOUR, 0],
    ] as const) {
      const y = hy(count);
      out.push(
        `<rect class="bar ${series}" x="${num(centre + offset)}" y="${num(y)}" width="${num(barWidth)}" height="${num(HISTOGRAM.top + HISTOGRAM.height - y)}" fill="${colour}"><title>${escapeXml(`${series} ${bin.span}: ${count}`)}</title></rect>`,
      );
    }
    out.push(`<text x="${num(centre)}" y="${HISTOGRAM.top + HISTOGRAM.height + 16}" text-anchor="middle">${escapeXml(bin.label)}</text>`);
  });
  out.push(
    `<text x="${HISTOGRAM.left + HISTOGRAM.width / 2}" y="${HISTOGRAM.top + HISTOGRAM.height + 36}" text-anchor="middle">score</text>`,
  );
  out.push(
    `<text transform="translate(${HISTOGRAM.left - 44} ${HISTOGRAM.top + HISTOGRAM.height / 2}) rotate(-90)" text-anchor="middle">rows</text>`,
  );
  out.push("</g>");
  const legendY = HISTOGRAM.top - 10;
  out.push(`<rect x="${HISTOGRAM.left}" y="${legendY - 9}" width="10" height="10" fill="${HUMAN_COLOUR}"/>`);
  out.push(`<text x="${HISTOGRAM.left + 15}" y="${legendY}">${escapeXml(humanLabel)}</text>`);
  out.push(`<rect x="${HISTOGRAM.left + 195}" y="${legendY - 9}" width="10" height="10" fill="${JUDGE_COLOUR}"/>`);
  out.push(`<text x="${HISTOGRAM.left + 210}" y="${legendY}">${escapeXml(judgeLabel)}</text>`);
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function frame(box: { left: number; top: number; width: number; height: number }): string {
  return `<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="#888888"/>`;
}

interface Bin {
  label: string;
  /** What the bin holds, for its tooltip: the value, or the interval [a, b). */
  span: string;
  human: number;
  judge: number;
}

/**
 * One bin per value on a discrete scale (both series together); otherwise bins of a round width
 * (about 12 of them) aligned to multiples of that width, so whole and half scores start a bin.
 */
function binsFor(human: readonly number[], judge: readonly number[]): Bin[] {
  const distinct = distinctSorted([...human, ...judge]);
  if (distinct.length <= MAX_DISCRETE) {
    const bins = new Map(distinct.map((v) => [v, { label: num(v, 2), span: num(v, 2), human: 0, judge: 0 }]));
    for (const v of human) bins.get(v)!.human++;
    for (const v of judge) bins.get(v)!.judge++;
    return [...bins.values()];
  }
  const low = distinct[0]!;
  const high = distinct[distinct.length - 1]!;
  const ticks = niceTicks(low, high, 12);
  const width = ticks.length > 1 ? ticks[1]! - ticks[0]! : 1;
  const start = Math.floor(low / width + 1e-9) * width;
  const index = (v: number) => Math.floor((v - start) / width + 1e-9);
  const count = index(high) + 1;
  const bins = Array.from({ length: count }, (_, i) => ({
    label: num(start + i * width, 2),
    span: `[${num(start + i * width, 2)}, ${num(start + (i + 1) * width, 2)})`,
    human: 0,
    judge: 0,
  }));
  for (const v of human) bins[index(v)]!.human++;
  for (const v of judge) bins[index(v)]!.judge++;
  return bins;
}
