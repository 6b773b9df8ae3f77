/**
 * How well a judge's scores agree with human scores, per group, as the SPRI paper reports it for
 * BiGGen Bench (`calc_pearson_corr.py`, spec §6.4): rows without a judge score are dropped, rows with
 * `human_score = -1` are kept, each capability's Pearson r is rounded to 3 decimals, and the average
 * is the arithmetic mean of the rounded values. Spearman's rho, MAE and Krippendorff's alpha (ratio)
 * are reported the same way, plus the value pooled over all rows.
 *
 * Rows stream from any format `readInputRows` reads; only the two numbers and the group of each
 * row are kept.
 */
import { InputError } from "../../base/errors/errors.ts";
import { type InputFormat, readInputRows } from "../../io/input-reader.ts";
import {
  meanAbsoluteError,
  meanOfRounded,
  pairedKrippendorffAlpha,
  pearson,
  roundDecimals,
  roundSignificant,
  spearman,
} from "./metrics.ts";

/** BiGGen Bench capabilities in the order of the paper's tables. */
export const BIGGEN_CAPABILITIES = [
  "instruction_following",
  "grounding",
  "reasoning",
  "planning",
  "refinement",
  "safety",
  "theory_of_mind",
  "tool_usage",
] as const;

/** `--groups biggen` names the paper's capability order. */
export const GROUP_PRESETS: Readonly<Record<string, readonly string[]>> = { biggen: BIGGEN_CAPABILITIES };

/** Why a row was left out. */
export const DROP_REASONS = [
  "malformed", // a JSONL line that is not JSON (with skipMalformed)
  "unscored", // judge score missing, null, empty, "null"/"None"/"NaN", or NaN
  "no-human-score", // human score missing in the same ways
  "unparseable", // a score that is text, not a number (with dropUnparseable; otherwise an error)
  "no-group", // the group field is missing or empty
  "other-group", // the group is not among `groups`
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export const CORRELATION_METRICS = ["pearson", "spearman"] as const;
export type CorrelationMetric = (typeof CORRELATION_METRICS)[number];

/** One group's paired scores, in row order. */
export interface ScoredGroup {
  name: string;
  human: number[];
  judge: number[];
}

/** A metric per group, rounded to 3 decimals, with the paper's average and the pooled value. */
export interface GroupedMetric {
  /** Mean of the rounded group values, rounded (null when any group's value is undefined). */
  mean: number | null;
  /** The metric over all rows together, rounded to 3 decimals. */
  pooled: number | null;
  /** Group name → value rounded to 3 decimals (null when undefined: n < 2 or constant scores). */
  groups: Record<string, number | null>;
}

/** A correlation also carries two-sided p-values (Student's t, n-2 df), to 3 significant digits. */
export interface GroupedCorrelation extends GroupedMetric {
  pooledP: number | null;
  p: Record<string, number | null>;
}

export interface CorrelationMetrics {
  pearson: GroupedCorrelation;
  spearman: GroupedCorrelation;
  mae: GroupedMetric;
  krippendorff_alpha: GroupedMetric;
}

export interface CorrelationReport {
  file: string;
  scoreField: string;
  humanField: string;
  /** Null when all rows form one group named "all". */
  groupBy: string | null;
  /** The headline metric and its paper-style mean over groups. */
  metric: CorrelationMetric;
  mean: number | null;
  /** Rows read (malformed lines included), rows used, and rows dropped. */
  read: number;
  n: number;
  dropped: number;
  droppedByReason: Record<DropReason, number>;
  groups: { name: string; n: number }[];
  metrics: CorrelationMetrics;
}

export interface CorrelateOptions {
  file: string;
  /** Default `evaluator_LM-score`. */
  scoreField?: string;
  /** Default `human_score`. */
  humanField?: string;
  /** Field whose value names a row's group; undefined or null pools all rows as one group "all". */
  groupBy?: string | null;
  /** Only these groups, in this order; default: every group, in order of first appearance. */
  groups?: readonly string[];
  metric?: CorrelationMetric;
  /** Drop and count text scores instead of failing on the first one. */
  dropUnparseable?: boolean;
  /** Drop and count malformed JSONL lines instead of failing on the first one. */
  skipMalformed?: boolean;
  format?: InputFormat;
}

export type ParsedScore = { kind: "number"; value: number } | { kind: "missing" } | { kind: "text"; text: string };

const MISSING_TEXT = new Set(["", "null", "none", "nan", "na", "n/a"]);
const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A score cell as a number. Missing: absent, null, NaN, or a string that is empty or says
 * null/None/NaN/NA/N/A (CSV exports write these for an unscored judgement). Numeric strings
 * (CSV cells) parse. Anything else, such as a judge's raw text, a boolean or ±Infinity, is text.
 */
export function parseScore(value: unknown): ParsedScore {
  if (value === undefined || value === null) return { kind: "missing" };
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { kind: "missing" };
    return Number.isFinite(value) ? { kind: "number", value } : { kind: "text", text: String(value) };
  }
  if (typeof value === "string") {
    const trimmed = value.trim();
    if (MISSING_TEXT.has(trimmed.toLowerCase())) return { kind: "missing" };
    if (NUMBER_TEXT.test(trimmed)) return { kind: "number", value: Number(trimmed) };
    return { kind: "text", text: value };
  }
  return { kind: "text", text: JSON.stringify(value) ?? String(value) };
}

/** `--groups` text: a preset name (`biggen`) or comma-separated group names. */
export function parseGroupList(text: string): string[] {
  const preset = GROUP_PRESETS[text.trim().toLowerCase()];
  if (preset) return [...preset];
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0)
    throw new InputError("no group named", {
      field: "groups",
      hint: "pass comma-separated group names, or biggen for the paper's capabilities",
    });
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw new InputError(`group "${name}" is named twice`, { field: "groups" });
    seen.add(name);
  }
  return names;
}

function shorten(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** Reads the file and computes the report. `groups` holds the scores, for a figure. */
export async function correlateFile(options: CorrelateOptions): Promise<{ report: CorrelationReport; groups: ScoredGroup[] }> {
  const file = options.file;
  const scoreField = options.scoreField ?? "evaluator_LM-score";
  const humanField = options.humanField ?? "human_score";
  const groupBy = options.groupBy ?? null;
  const wanted = options.groups === undefined ? undefined : new Set(options.groups);
  if (wanted && groupBy === null) {
    throw new InputError("groups were named but no group field", { field: "groups", hint: "pass --group-by FIELD with --groups" });
  }
  const droppedByReason = Object.fromEntries(DROP_REASONS.map((reason) => [reason, 0])) as Record<DropReason, number>;
  const byName = new Map<string, ScoredGroup>();
  const seenGroups = new Set<string>();
  let fieldsSeen: string[] | undefined;
  let read = 0;

  const readNumber = (row: Record<string, unknown>, field: string, line: number): number | "missing" | "text" => {
    const parsed = parseScore(row[field]);
    if (parsed.kind === "number") return parsed.value;
    if (parsed.kind === "missing") return "missing";
    if (options.dropUnparseable) return "text";
    throw new InputError(`not a number: "${shorten(parsed.text)}"`, {
      file,
      line,
      field,
      hint: "scores must be numbers (null for unscored); extract the score first, or pass --drop-unparseable to drop and count such rows",
    });
  };

  for await (const row of readInputRows(file, { format: options.format, onMalformed: options.skipMalformed ? "yield" : "throw" })) {
    read++;
    if (row.error) {
      droppedByReason.malformed++;
      continue;
    }
    const value = row.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InputError("a row is not an object", {
        file,
        line: row.line,
        hint: "each row needs named fields (JSON objects, or a CSV header)",
      });
    }
    const record = value as Record<string, unknown>;
    fieldsSeen ??= Object.keys(record);
    const judge = readNumber(record, scoreField, row.line);
    const human = readNumber(record, humanField, row.line);
    let group = "all";
    if (groupBy !== null) {
      const raw = record[groupBy];
      group = raw === undefined || raw === null ? "" : typeof raw === "string" ? raw : JSON.stringify(raw);
      if (group !== "") seenGroups.add(group);
    }
    if (judge === "text" || human === "text") droppedByReason.unparseable++;
    else if (judge === "missing") droppedByReason.unscored++;
    else if (human === "missing") droppedByReason["no-human-score"]++;
    else if (group === "") droppedByReason["no-group"]++;
    else if (wanted && !wanted.has(group)) droppedByReason["other-group"]++;
    else {
      let scored = byName.get(group);
      if (!scored) {
        scored = { name: group, human: [], judge: [] };
        byName.set(group, scored);
      }
      scored.human.push(human);
      scored.judge.push(judge);
    }
  }

  if (options.groups) {
    const absent = options.groups.filter((name) => !seenGroups.has(name));
    if (absent.length > 0) {
      const seen = [...seenGroups];
      throw new InputError(`no row has ${absent.map((name) => `"${name}"`).join(", ")}`, {
        file,
        field: groupBy ?? undefined,
        hint: seen.length
          ? `groups in the file: ${seen.slice(0, 20).join(", ")}${seen.length > 20 ? ", …" : ""}`
          : "no row has this field; check --group-by",
      });
    }
  }
  const groups = options.groups ? options.groups.map((name) => byName.get(name) ?? { name, human: [], judge: [] }) : [...byName.values()];
  const n = groups.reduce((sum, group) => sum + group.human.length, 0);
  const dropped = Object.values(droppedByReason).reduce((sum, count) => sum + count, 0);
  if (n === 0) throw noRowsError(file, read, droppedByReason, { scoreField, humanField, groupBy, groupsSeen: seenGroups.size, fieldsSeen });

  const metrics = correlationMetrics(groups);
  const metric = options.metric ?? "pearson";
  const report: CorrelationReport = {
    file,
    scoreField,
    humanField,
    groupBy,
    metric,
    mean: metrics[metric].mean,
    read,
    n,
    dropped,
    droppedByReason,
    groups: groups.map((group) => ({ name: group.name, n: group.human.length })),
    metrics,
  };
  return { report, groups };
}

function noRowsError(
  file: string,
  read: number,
  droppedByReason: Record<DropReason, number>,
  context: { scoreField: string; humanField: string; groupBy: string | null; groupsSeen: number; fieldsSeen?: string[] },
): InputError {
  if (read === 0) return new InputError("the file holds no rows", { file });
  const reasons = DROP_REASONS.filter((reason) => droppedByReason[reason] > 0)
    .map((reason) => `${droppedByReason[reason]} ${reason}`)
    .join(", ");
  const fields = context.fieldsSeen ? `; fields of the first row: ${context.fieldsSeen.join(", ")}` : "";
  const hint =
    context.groupBy !== null && context.groupsSeen === 0
      ? `check --group-by "${context.groupBy}" (or pass --no-group-by)${fields}`
      : `check --score-field "${context.scoreField}" and --human-field "${context.humanField}"${fields}`;
  return new InputError(`no usable row among ${read} (dropped: ${reasons})`, { file, hint });
}

/** A map keyed by group names, safe for any name (no prototype). */
function record(): Record<string, number | null> {
  return Object.create(null) as Record<string, number | null>;
}

/** Every metric for the groups, rounded as the paper reports it. */
export function correlationMetrics(groups: readonly ScoredGroup[]): CorrelationMetrics {
  const allHuman = groups.flatMap((group) => group.human);
  const allJudge = groups.flatMap((group) => group.judge);
  const correlation = (measure: typeof pearson): GroupedCorrelation => {
    const values = record();
    const p = record();
    for (const group of groups) {
      const result = measure(group.human, group.judge);
      values[group.name] = roundDecimals(result.coefficient);
      p[group.name] = roundSignificant(result.p);
    }
    const pooled = measure(allHuman, allJudge);
    return {
      mean: meanOfRounded(Object.values(values)),
      pooled: roundDecimals(pooled.coefficient),
      pooledP: roundSignificant(pooled.p),
      groups: values,
      p,
    };
  };
  const scalar = (measure: (x: number[], y: number[]) => number): GroupedMetric => {
    const values = record();
    for (const group of groups) values[group.name] = roundDecimals(measure(group.human, group.judge));
    return { mean: meanOfRounded(Object.values(values)), pooled: roundDecimals(measure(allHuman, allJudge)), groups: values };
  };
  return {
    pearson: correlation(pearson),
    spearman: correlation(spearman),
    mae: scalar(meanAbsoluteError),
    krippendorff_alpha: scalar((x, y) => pairedKrippendorffAlpha(x, y, "ratio")),
  };
}
