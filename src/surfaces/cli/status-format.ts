/**
 * `spri status` as text: a table of runs, or one run with its workers. Every line fits an 80-column
 * terminal: text columns are cut with `…`; numbers are plain digits, right-aligned, shortened to
 * `999k` / `1.2M` only when they would not fit their column (`--json` has them exact).
 */
import { formatDuration } from "../../runtime/runner/run-progress.ts";
import type { RunRow, RunWatch, WatchCounts } from "../../runtime/runner/run-watch.ts";

export const STATUS_WIDTH = 80;

interface Column {
  header: string;
  width: number;
  /** Numbers align right and are shortened to fit; text is cut to the width. */
  right?: boolean;
  /** Spaces before the column (default 2). */
  gap?: number;
}

type Cell = string | number;

function table(columns: readonly Column[], rows: readonly Cell[][]): string[] {
  const cell = (value: Cell, column: Column) => {
    const text = typeof value === "number" ? fit(value, column.width) : value;
    return column.right
      ? text.padStart(column.width)
      : (text.length > column.width ? `${text.slice(0, column.width - 1)}…` : text).padEnd(column.width);
  };
  const line = (cells: readonly Cell[]) =>
    columns
      .map((column, i) => `${i === 0 ? "" : " ".repeat(column.gap ?? 2)}${cell(cells[i] ?? "", column)}`)
      .join("")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...rows.map(line)];
}

/** A count in at most `width` characters: the digits, else `123k`, `1.2M`, `12M`. */
export function fit(n: number, width: number): string {
  const plain = String(n);
  if (plain.length <= width) return plain;
  const options = n < 1e6 ? [`${Math.floor(n / 1000)}k`] : [`${(Math.floor(n / 1e5) / 10).toFixed(1)}M`, `${Math.floor(n / 1e6)}M`];
  return options.find((text) => text.length <= width) ?? options[options.length - 1]!;
}

// 8 + 2 + 12 + 2 + 11 + (1 + 6) × 3 + (1 + 7) × 3 = 80.
const RUN_COLUMNS: Column[] = [
  { header: "RUN", width: 8 },
  { header: "TASK", width: 12 },
  { header: "STATUS", width: 11 },
  { header: "DONE", width: 6, right: true, gap: 1 },
  { header: "FAILED", width: 6, right: true, gap: 1 },
  { header: "LEASED", width: 6, right: true, gap: 1 },
  { header: "PENDING", width: 7, right: true, gap: 1 },
  { header: "TOTAL", width: 7, right: true, gap: 1 },
  { header: "WORKERS", width: 7, right: true, gap: 1 },
];

/** The runs overview; run ids are shown by their first 8 characters (`--run` takes a prefix). */
export function formatRunTable(rows: readonly RunRow[]): string {
  if (rows.length === 0) return "no runs in this store\n";
  const body = rows.map((r) => [
    r.id.slice(0, 8),
    r.task,
    r.status,
    r.items.done,
    r.items.failed,
    r.items.leased,
    r.items.pending,
    r.items.total,
    r.activeWorkers,
  ]);
  return `${table(RUN_COLUMNS, body).join("\n")}\n`;
}

const WORKER_COLUMNS: Column[] = [
  { header: "HOST", width: 20 },
  { header: "PID", width: 7, right: true },
  { header: "DONE", width: 6, right: true },
  { header: "FAILED", width: 6, right: true },
  { header: "LEASED", width: 6, right: true },
  { header: "HEARTBEAT", width: 11 },
  { header: "STATUS", width: 7 },
];

export function countsLine(items: WatchCounts): string {
  // Rounded down, so a run shows 100.0% only when every item is finished.
  const share = items.total > 0 ? ` (${(Math.floor(((items.done + items.failed) / items.total) * 1000) / 10).toFixed(1)}%)` : "";
  return `${items.done} done, ${items.failed} failed, ${items.leased} leased, ${items.pending} pending of ${items.total}${share}`;
}

/** "12s ago", "3m04s ago". */
export function ago(seconds: number): string {
  return `${formatDuration(seconds)} ago`;
}

/**
 * One run, live: counts, rate and ETA, its files, why it is not running (wrapped), then a row per
 * worker; last, the command that resumes it, whole on its own line so that it can be copied.
 */
export function formatRunWatch(watch: RunWatch): string {
  const lines = [`run      ${watch.runId}`, `task     ${watch.task} (${watch.status})`];
  if (watch.reason !== undefined) lines.push(...wrap(`why      ${watch.reason}`));
  lines.push(`items    ${countsLine(watch.items)}`);
  const eta = watch.etaSeconds === null ? "" : `, ETA ${formatDuration(watch.etaSeconds)}`;
  lines.push(`rate     ${watch.ratePerMinute} items/min over the last ${formatDuration(watch.rateWindowSeconds)}${eta}`);
  lines.push(`input    ${watch.inputPath}`);
  if (watch.output !== undefined) {
    const missing = watch.items.done - watch.output.records;
    const lag = missing > 0 ? `: ${missing} done items are not in it yet` : "";
    lines.push(`output   ${watch.output.file}`, ...wrap(`         ${watch.output.records} records at ${watch.output.at}${lag}`));
  } else if (watch.outputPath !== undefined) lines.push(`output   ${watch.outputPath}`);
  const lost = watch.workers.filter((w) => w.status === "lost").length;
  lines.push(`workers  ${watch.activeWorkers} active${lost > 0 ? `, ${lost} lost` : ""} of ${watch.workers.length}`);
  if (watch.workers.length > 0) {
    const rows = watch.workers.map((w) => [w.host, w.pid, w.itemsDone, w.itemsFailed, w.leased, ago(w.heartbeatAgeSeconds), w.status]);
    lines.push("", ...table(WORKER_COLUMNS, rows));
  }
  const text = `${lines.map((line) => (line.length > STATUS_WIDTH ? `${line.slice(0, STATUS_WIDTH - 1)}…` : line)).join("\n")}\n`;
  return watch.resume === undefined ? text : `${text}\nresume with:\n${watch.resume}\n`;
}

/** A labelled line broken at spaces into lines of at most 80 columns, continued under the label. */
function wrap(line: string): string[] {
  const lines: string[] = [];
  let rest = line;
  while (rest.length > STATUS_WIDTH) {
    const cut = rest.lastIndexOf(" ", STATUS_WIDTH);
    if (cut <= LABEL_WIDTH) break;
    lines.push(rest.slice(0, cut));
    rest = `${" ".repeat(LABEL_WIDTH)}${rest.slice(cut + 1)}`;
  }
  return [...lines, rest];
}

const LABEL_WIDTH = 9;
