/**
 * An iterations directory as the viewer shows it: the metrics of `spri discover iterate report` per
 * iteration (with the discovery rate and the win rates' confidence intervals), and every
 * iteration's constitution aligned by cluster label (discovery/constitution-alignment.ts).
 *
 * Read afresh on each call, so the page follows a loop that is still running. It opens the state
 * and the constitution files the state names (relative to the directory; by default
 * `iter-<t>/constitution.json` where that exists). A constitution that cannot be read is an error of
 * its column, never of the whole overview. Model endpoints, notes and file sources are left out:
 * only model ids, numbers and principle texts go to the page.
 */
import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import {
  type AlignedRow,
  alignConstitutions,
  type ColumnPrinciple,
  type ConstitutionColumn,
} from "../../algorithms/discovery/constitution-alignment.ts";
import { loadConstitution } from "../../algorithms/discovery/constitution.ts";
import { type IterationReportRow, iterationReportRows } from "../../algorithms/discovery/iteration-metrics.ts";
import { type IterationEntry, iterFile } from "../../algorithms/discovery/iterations.ts";
import type { WinRateReport } from "../../algorithms/judge/win-rate-report.ts";
import { SpriError } from "../../base/errors/errors.ts";
import { readState } from "./discovery-iterations.ts";

export type WinRatePoint = Pick<WinRateReport, "winRate" | "standardError" | "ci95" | "n" | "wins" | "losses" | "ties" | "lcWinRate">;

export interface IterationOverviewRow extends IterationReportRow {
  /** Prompts in the iteration's slice. */
  prompts: number;
  mined: number | null;
  newPrinciples: number | null;
  discoveryRate: number | null;
  vsPrevious: WinRatePoint | null;
  vsBase: WinRatePoint | null;
}

export interface ConstitutionColumnInfo {
  iter: number;
  /** Relative to the directory when inside it; null when the iteration has none. */
  file: string | null;
  /** Why the file named could not be read. */
  error: string | null;
}

export interface IterationsOverview {
  dir: string;
  updatedAt: string;
  iterations: IterationOverviewRow[];
  constitutions: { columns: ConstitutionColumnInfo[]; rows: AlignedRow[] };
}

export function readIterationsOverview(dir: string): IterationsOverview {
  const state = readState(dir);
  const report = iterationReportRows(state);
  const columns = state.iterations.map((entry) => constitutionColumn(dir, entry));
  return {
    dir,
    updatedAt: state.updatedAt,
    iterations: state.iterations.map((entry, i) => overviewRow(entry, report[i]!)),
    constitutions: {
      columns: columns.map(({ info }) => info),
      rows: alignConstitutions(columns.map(({ column }) => column)),
    },
  };
}

function overviewRow(entry: IterationEntry, row: IterationReportRow): IterationOverviewRow {
  return {
    ...row,
    prompts: entry.slice.size,
    mined: entry.stats?.mined ?? null,
    newPrinciples: entry.stats?.newPrinciples ?? null,
    discoveryRate: entry.stats?.discoveryRate ?? null,
    vsPrevious: winRatePoint(entry.eval?.vsPrevious),
    vsBase: winRatePoint(entry.eval?.vsBase),
  };
}

function winRatePoint(report: WinRateReport | null | undefined): WinRatePoint | null {
  if (!report) return null;
  const { winRate, standardError, ci95, n, wins, losses, ties, lcWinRate } = report;
  return { winRate, standardError, ci95, n, wins, losses, ties, ...(lcWinRate === undefined ? {} : { lcWinRate }) };
}

/** The constitution recorded for the iteration, else the default file when it exists. */
function constitutionFile(dir: string, entry: IterationEntry): string | undefined {
  if (entry.stats?.constitutionFile) return resolve(dir, entry.stats.constitutionFile);
  const fallback = iterFile(dir, entry.iter, "constitution");
  return existsSync(fallback) ? fallback : undefined;
}

function constitutionColumn(dir: string, entry: IterationEntry): { info: ConstitutionColumnInfo; column: ConstitutionColumn } {
  const file = constitutionFile(dir, entry);
  const none = { iter: entry.iter, principles: null };
  if (file === undefined) return { info: { iter: entry.iter, file: null, error: null }, column: none };
  const shown = relative(dir, file).startsWith("..") ? file : relative(dir, file);
  try {
    const principles = loadConstitution(file).principles.map(
      ({ id, text, name, size }): ColumnPrinciple => ({ id, text, size, ...(name === undefined ? {} : { name }) }),
    );
    return { info: { iter: entry.iter, file: shown, error: null }, column: { iter: entry.iter, principles } };
  } catch (error) {
    if (!(error instanceof SpriError)) throw error;
    return { info: { iter: entry.iter, file: shown, error: error.describe() }, column: none };
  }
}
