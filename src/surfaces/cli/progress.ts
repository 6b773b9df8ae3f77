/**
 * Progress on the terminal: each call of one item (`spri align`), and the one-line status of a run
 * (`spri run`), which becomes JSON lines when stderr is not a terminal.
 */
import type { CallRecord } from "../../io/records.ts";
import { formatCost } from "../../runtime/runner/cost.ts";
import { formatDuration, type ProgressSink, type ProgressSnapshot } from "../../runtime/runner/run-progress.ts";
import { fit } from "./status-format.ts";

const STEP_LABEL: Record<string, string> = {
  "principle.generate": "drafting principles",
  "principle.critique": "critiquing principles",
  "principle.refine": "refining principles",
  "response.generate": "drafting the response",
  "response.critique": "critiquing the response",
  "response.refine": "refining the response",
};

export function callProgressLine(call: CallRecord): string {
  const label = STEP_LABEL[call.step] ?? call.step;
  const iteration = call.iteration > 0 ? ` ${call.iteration}` : "";
  if (call.error) return `✗ ${label}${iteration}: ${call.error}`;
  if (call.role === "critic") {
    const score = call.parsed?.score;
    return `· ${label}${iteration}: score ${score === null || score === undefined ? "unscored" : score} (${Math.round(call.latencyMs)} ms)`;
  }
  return `· ${label}${iteration} (${Math.round(call.latencyMs)} ms, ${call.usage.outputTokens} tokens)`;
}

export class TerminalProgress {
  private readonly stream: NodeJS.WriteStream;
  readonly enabled: boolean;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.stream = stream;
    this.enabled = Boolean(stream.isTTY);
  }

  line(text: string): void {
    if (this.enabled) this.stream.write(`${text}\n`);
  }

  /** One rewritable status line (carriage return), for many-item runs. */
  status(text: string): void {
    if (this.enabled) this.stream.write(`\r\x1b[2K${text}`);
  }

  end(): void {
    if (this.enabled) this.stream.write("\r\x1b[2K");
  }
}

/** Where a run's progress goes: a terminal (rewritten in place) or a log (JSON lines). */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  /** The terminal's width now (it changes when the window is resized). */
  readonly columns?: number;
}

/** Columns assumed when a terminal does not say. */
const DEFAULT_COLUMNS = 80;
/** Redraws of the terminal line closer than this are skipped: a run finishing hundreds of calls a second would flicker. */
const REDRAW_MS = 100;
const SEPARATOR = " · ";

/**
 * The parts of the line, each from its longest form to its shortest; the empty string drops it.
 * When the line is too wide, `SHORTENINGS` steps through them, least useful first.
 */
type Part = "prefix" | "items" | "failed" | "calls" | "tokens" | "cost" | "rate" | "eta" | "retry";
const ORDER: readonly Part[] = ["prefix", "items", "failed", "calls", "tokens", "cost", "rate", "eta", "retry"];
const SHORTENINGS: readonly Part[] = [
  "calls",
  "tokens",
  "rate",
  "items",
  "retry",
  "prefix",
  "tokens",
  "calls",
  "rate",
  "items",
  "retry",
  "cost",
  "failed",
  "eta",
];

function partForms(p: ProgressSnapshot): Record<Part, string[]> {
  const done = p.skipped + p.done;
  const tokens = p.spend.inputTokens + p.spend.outputTokens;
  const items =
    p.total === undefined
      ? [`${done} done`, `${done}`]
      : [`${done}/${p.total} done (${percent(done, p.total)})`, `${done}/${p.total} (${percent(done, p.total)})`, `${done}/${p.total}`];
  return {
    prefix: ["spri:", ""],
    items,
    failed: [`${p.failed} failed`, ""],
    calls: [`${p.spend.calls} calls (${p.spend.cacheHits} cached)`, `${p.spend.calls} calls`, ""],
    tokens: [`${tokens} tokens`, `${fit(tokens, 4)} tok`, ""],
    cost: [formatCost(p.spend), ""],
    rate: [...rate(p.itemsPerSecond), ""],
    eta: p.etaSeconds === undefined ? [""] : [`ETA ${formatDuration(p.etaSeconds)}`, ""],
    // Calls waiting out a server's Retry-After (or a backoff) before their next try.
    retry: p.retryingCalls
      ? [`${p.retryingCalls} waiting to retry (${formatDuration(p.retryWaitSeconds ?? 0)})`, `${p.retryingCalls} retrying`, ""]
      : [""],
  };
}

function percent(done: number, total: number): string {
  return `${total > 0 ? Math.floor((done / total) * 100) : 100}%`;
}

/** Items per second, or per minute when fewer than one in ten seconds finishes. */
function rate(perSecond: number): [string, string] {
  if (perSecond > 0 && perSecond < 0.1) return [`${(perSecond * 60).toFixed(2)} items/min`, `${(perSecond * 60).toFixed(1)}/min`];
  return [`${perSecond.toFixed(2)} items/s`, `${perSecond.toFixed(1)}/s`];
}

/**
 * A run's progress in one line narrower than `width` (the last column stays free: a terminal wraps
 * a line that fills it, and the next rewrite would then leave the old line behind). Parts are
 * shortened, then dropped, least useful first; what is left is cut with `…`.
 */
export function runProgressLine(p: ProgressSnapshot, width: number): string {
  const forms = partForms(p);
  const chosen = Object.fromEntries(ORDER.map((part) => [part, 0])) as Record<Part, number>;
  const render = () => {
    const text = ORDER.filter((part) => part !== "prefix")
      .map((part) => forms[part][chosen[part]])
      .filter(Boolean)
      .join(SEPARATOR);
    const prefix = forms.prefix[chosen.prefix];
    return prefix ? `${prefix} ${text}` : text;
  };
  const room = Math.max(1, width - 1);
  let line = render();
  for (const part of SHORTENINGS) {
    if (line.length <= room) return line;
    chosen[part] = Math.min(chosen[part] + 1, forms[part].length - 1);
    line = render();
  }
  return line.length <= room ? line : `${line.slice(0, room - 1)}…`;
}

/** On a terminal: one line, rewritten in place, as wide as the terminal is at each redraw. */
export class TerminalProgressSink implements ProgressSink {
  private readonly stream: ProgressStream;
  private readonly now: () => number;
  private last = Number.NEGATIVE_INFINITY;

  constructor(stream: ProgressStream, options: { now?: () => number } = {}) {
    this.stream = stream;
    this.now = options.now ?? Date.now;
  }

  update(read: () => ProgressSnapshot): void {
    const now = this.now();
    if (now - this.last < REDRAW_MS) return;
    this.last = now;
    this.stream.write(`\r\x1b[2K${this.line(read())}`);
  }

  finish(snapshot: ProgressSnapshot): void {
    this.stream.write(`\r\x1b[2K${this.line(snapshot)}\n`);
  }

  private line(snapshot: ProgressSnapshot): string {
    return runProgressLine(snapshot, this.stream.columns || DEFAULT_COLUMNS);
  }
}

/** Off a terminal (a log file, a CI job): one JSON object per line, at most one per `intervalMs`, and a last one at the end. */
export class JsonProgressSink implements ProgressSink {
  private readonly write: (line: string) => void;
  private readonly intervalMs: number;
  private readonly now: () => number;
  private last = Number.NEGATIVE_INFINITY;

  constructor(write: (line: string) => void, intervalMs = 10_000, now: () => number = Date.now) {
    this.write = write;
    this.intervalMs = intervalMs;
    this.now = now;
  }

  update(read: () => ProgressSnapshot): void {
    const now = this.now();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    this.write(`${JSON.stringify({ event: "progress", ...flatten(read()) })}\n`);
  }

  finish(snapshot: ProgressSnapshot): void {
    this.write(`${JSON.stringify({ event: "finished", ...flatten(snapshot) })}\n`);
  }
}

/** The snapshot as one flat object; `costUsd` is null when no paid call had a price (unpriced, not free). */
function flatten(p: ProgressSnapshot): Record<string, unknown> {
  const { spend, ...rest } = p;
  const costUsd = formatCost(spend) === "unpriced" ? null : Math.round(spend.costUsd * 1e6) / 1e6;
  return { ...rest, ...spend, costUsd, at: new Date().toISOString() };
}

/** The sink for `stream`: the in-place line on a terminal, JSON lines every `intervalSeconds` elsewhere. */
export function progressSink(stream: ProgressStream, intervalSeconds: number): ProgressSink {
  return stream.isTTY ? new TerminalProgressSink(stream) : new JsonProgressSink((line) => stream.write(line), intervalSeconds * 1000);
}
