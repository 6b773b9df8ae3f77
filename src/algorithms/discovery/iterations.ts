/**
 * Bookkeeping across STaPLe iterations (stape-spec §2.5) in one directory:
 *
 *   <dir>/state.json                  the state below
 *   <dir>/iter-<t>/prompts.jsonl      the prompt slice of iteration t (disjoint across iterations)
 *   <dir>/iter-<t>/mined.jsonl        `spri discover mine` output (default paths of the commands)
 *   <dir>/iter-<t>/constitution.json  `spri discover cluster` output
 *   <dir>/iter-<t>/sft.jsonl, mstep.request.json   `spri discover export` output
 *
 * Iterations are numbered from 1. Iteration t mines its slice with the model recorded for it: the
 * initial model for t = 1, and for t > 1 the model trained after iteration t − 1 (the user serves it
 * and records its endpoint with `iterate model`).
 *
 * Slices: rows are ordered by sha256(seed + "\n" + id) and cut into consecutive slices, either K equal
 * ones (the first ones get the remainder) or given sizes (e.g. 50000,10000,10000,10000 as in the
 * paper); rows keep their input order inside a slice. The split depends only on the ids and the seed.
 *
 * Discovery rate of iteration t: new principles / prompts mined in t, where the principles are the
 * accepted ones of t (normalised, exact duplicates merged) and a principle is new unless it is a
 * near-duplicate (Rouge-L F1 ≥ threshold, default 0.7) of a principle of an earlier iteration's
 * constitution (representatives and members). Constitution size: principles in t's constitution.
 */
import { textTable } from "../../base/util/text-table.ts";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { InputError } from "../../base/errors/errors.ts";
import { roundScore } from "../../base/util/round-score.ts";
import { constitutionDiversity, type IterationEvalSummary } from "./iteration-metrics.ts";
import type { ConstitutionLike } from "./label-map.ts";
import type { IterationLoop } from "./loop-stages.ts";
import { normalisePrinciple } from "./mined-principle.ts";
import type { BestCandidate } from "./mining.ts";
import { summariseMining } from "./mining-summary.ts";
import { principleKey } from "./principle-set.ts";
import { rougeL } from "./rouge-l.ts";

export const STATE_FILE = "state.json";
export const DEFAULT_NEAR_DUPLICATE = 0.7;

export interface IterationModel {
  baseModel: string;
  baseUrl?: string;
  baseProvider?: string;
  note?: string;
  setAt: string;
}

export interface IterationStats {
  mined: number;
  accepted: number;
  acceptRate: number;
  /** Accepted principles after normalisation and exact de-duplication. */
  uniquePrinciples: number;
  /** Unique principles not near-duplicates of earlier iterations' constitutions. */
  newPrinciples: number;
  /** newPrinciples / mined. */
  discoveryRate: number;
  constitutionSize: number | null;
  /** Mean pairwise Rouge-L distance between the constitution's principles (iteration-metrics.ts). */
  constitutionDiversity?: number | null;
  minedFile: string;
  constitutionFile: string | null;
  recordedAt: string;
}

export interface IterationEntry {
  iter: number;
  slice: { file: string; size: number };
  model?: IterationModel;
  stats?: IterationStats;
  /** `iterate eval`: the iteration's model on held-out prompts. */
  eval?: IterationEvalSummary;
  /** `spri discover loop`: the stages done and what they made (loop-stages.ts). */
  loop?: IterationLoop;
}

export interface IterationState {
  format: "spri-discovery-iterations";
  version: 1;
  createdAt: string;
  updatedAt: string;
  dataset: { file: string; rows: number; idField: string };
  split: { seed: string; sizes: number[]; unused: number };
  nearDuplicate: { metric: "rougeL_f1"; threshold: number };
  iterations: IterationEntry[];
}

export function iterDir(dir: string, iter: number): string {
  return join(dir, `iter-${iter}`);
}

/** Default file names inside an iteration's directory. */
export const ITER_FILES = {
  prompts: "prompts.jsonl",
  mined: "mined.jsonl",
  constitution: "constitution.json",
  sft: "sft.jsonl",
  request: "mstep.request.json",
  evalInput: "eval.input.jsonl",
  eval: "eval.jsonl",
} as const;

export function iterFile(dir: string, iter: number, name: keyof typeof ITER_FILES): string {
  return join(iterDir(dir, iter), ITER_FILES[name]);
}

/** The state read from `file`, checked to be one; an InputError naming the file otherwise. */
export function checkIterationState(value: Record<string, unknown>, file: string): IterationState {
  const state = value as unknown as IterationState;
  if (state.format !== "spri-discovery-iterations") throw new InputError("not an iteration state file", { file, field: "format" });
  return state;
}

export function entry(state: IterationState, iter: number): IterationEntry {
  const found = state.iterations.find((e) => e.iter === iter);
  if (!found)
    throw new InputError(`there is no iteration ${iter}`, { field: "iter", hint: `iterations are 1 to ${state.iterations.length}` });
  return found;
}

// ---- slices ---------------------------------------------------------------------------------

/** Slice sizes: K equal slices (the remainder to the first ones), or the given sizes. */
export function sliceSizes(rows: number, options: { slices?: number; sizes?: readonly number[] }): number[] {
  if (options.sizes && options.sizes.length > 0) {
    if (options.sizes.some((s) => !Number.isInteger(s) || s <= 0))
      throw new InputError("slice sizes must be positive integers", { field: "sizes" });
    const total = options.sizes.reduce((a, b) => a + b, 0);
    if (total > rows)
      throw new InputError(`the slices need ${total} prompts but the dataset has ${rows}`, {
        field: "sizes",
        hint: "give smaller --sizes",
      });
    return [...options.sizes];
  }
  const k = options.slices ?? 4;
  if (!Number.isInteger(k) || k < 1) throw new InputError("--slices must be a positive integer", { field: "slices" });
  if (k > rows) throw new InputError(`cannot cut ${rows} prompts into ${k} non-empty slices`, { field: "slices" });
  const base = Math.floor(rows / k);
  return Array.from({ length: k }, (_, i) => base + (i < rows % k ? 1 : 0));
}

function orderKey(seed: string, id: string): string {
  return createHash("sha256").update(`${seed}\n${id}`).digest("hex");
}

/**
 * The rows of each slice, as indices into `ids` in input order: rows ordered by
 * sha256(seed + "\n" + id), cut into consecutive runs of `sizes`.
 */
export function assignSlices(ids: readonly string[], sizes: readonly number[], seed: string): number[][] {
  const ordered = ids.map((id, index) => ({ index, key: orderKey(seed, id) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const slices: number[][] = [];
  let at = 0;
  for (const size of sizes) {
    slices.push(
      ordered
        .slice(at, at + size)
        .map((row) => row.index)
        .sort((a, b) => a - b),
    );
    at += size;
  }
  return slices;
}

// ---- statistics -----------------------------------------------------------------------------

/** Representatives and members of a constitution, as texts. */
export function constitutionTexts(constitution: ConstitutionLike): string[] {
  const texts: string[] = [];
  for (const p of constitution.principles) {
    texts.push(p.text);
    for (const m of p.members ?? []) {
      if (typeof m === "string") texts.push(m);
      else if (m && typeof m === "object" && typeof (m as { text?: unknown }).text === "string") texts.push((m as { text: string }).text);
    }
  }
  return texts;
}

/** Accepted principles of mined records, normalised, exact duplicates merged (clustering's `principleKey`). */
export function acceptedPrinciples(records: Iterable<Record<string, unknown>>): string[] {
  const byKey = new Map<string, string>();
  for (const record of records) {
    const best = record.best as BestCandidate | null | undefined;
    if (record.accepted !== true || !best || typeof best.z !== "string") continue;
    const z = normalisePrinciple(best.z);
    if (z !== "" && !byKey.has(principleKey(z))) byKey.set(principleKey(z), z);
  }
  return [...byKey.values()];
}

/** The principles not near-duplicates (Rouge-L F1 ≥ threshold) of any earlier one. */
export function newPrinciples(principles: readonly string[], earlier: readonly string[], threshold: number): string[] {
  const earlierKeys = new Set(earlier.map(principleKey));
  return principles.filter((z) => {
    if (earlierKeys.has(principleKey(z))) return false;
    return !earlier.some((e) => rougeL(e, z).fmeasure >= threshold);
  });
}

export interface IterationStatsInput {
  /** The iteration's mined records. */
  records: readonly Record<string, unknown>[];
  /** Texts of earlier iterations' constitutions (representatives and members). */
  earlier: readonly string[];
  threshold: number;
  /** The iteration's own constitution, when it has one. */
  constitution?: ConstitutionLike;
  /** As recorded in the state: relative to the iterations directory. */
  minedFile: string;
  constitutionFile: string | null;
}

/** An iteration's statistics: accepted, unique and new principles, discovery rate, constitution size. */
export function iterationStats(input: IterationStatsInput): IterationStats {
  const principles = acceptedPrinciples(input.records);
  const summary = summariseMining(input.records);
  const fresh = newPrinciples(principles, input.earlier, input.threshold);
  return {
    mined: summary.examples,
    accepted: summary.accepted,
    acceptRate: summary.acceptRate,
    uniquePrinciples: principles.length,
    newPrinciples: fresh.length,
    discoveryRate: summary.examples === 0 ? 0 : roundScore(fresh.length / summary.examples),
    constitutionSize: input.constitution ? input.constitution.principles.length : null,
    constitutionDiversity: input.constitution ? constitutionDiversity(input.constitution.principles.map((p) => p.text)) : null,
    minedFile: input.minedFile,
    constitutionFile: input.constitutionFile,
    recordedAt: new Date().toISOString(),
  };
}

// ---- the table ------------------------------------------------------------------------------

export interface StatusRow {
  iter: number;
  prompts: number;
  model: string;
  mined: number | null;
  accepted: number | null;
  unique: number | null;
  new: number | null;
  discoveryRate: number | null;
  constitution: number | null;
}

export function statusRows(state: IterationState): StatusRow[] {
  return state.iterations.map((e) => ({
    iter: e.iter,
    prompts: e.slice.size,
    model: e.model ? `${e.model.baseModel}${e.model.baseUrl ? ` @ ${e.model.baseUrl}` : ""}` : "-",
    mined: e.stats?.mined ?? null,
    accepted: e.stats?.accepted ?? null,
    unique: e.stats?.uniquePrinciples ?? null,
    new: e.stats?.newPrinciples ?? null,
    discoveryRate: e.stats?.discoveryRate ?? null,
    constitution: e.stats?.constitutionSize ?? null,
  }));
}

export function formatStatus(state: IterationState): string {
  const header = ["iter", "prompts", "model", "mined", "accepted", "unique", "new", "discovery", "constitution"];
  const cell = (v: number | string | null) => (v === null ? "-" : String(v));
  const rows = statusRows(state).map((r) =>
    [
      r.iter,
      r.prompts,
      r.model,
      r.mined,
      r.accepted,
      r.unique,
      r.new,
      r.discoveryRate === null ? null : r.discoveryRate.toFixed(4),
      r.constitution,
    ].map(cell),
  );
  const { lines } = textTable([header, ...rows]);
  const next = nextStep(state);
  if (next) lines.push("", `next: ${next}`);
  return `${lines.join("\n")}\n`;
}

/** What to do next, in words (the first iteration without statistics). */
export function nextStep(state: IterationState): string | undefined {
  const open = state.iterations.find((e) => !e.stats);
  if (!open) return undefined;
  if (!open.model) {
    return open.iter === 1
      ? "record the initial model: spri discover iterate model --iter 1 --base-model <id> [--base-url <url>]"
      : `train on iteration ${open.iter - 1}'s export, serve the model, then: spri discover iterate model --iter ${open.iter} --base-model <id> --base-url <url>`;
  }
  return `mine, cluster and record iteration ${open.iter}: spri discover iterate mine --iter ${open.iter}; spri discover cluster …; spri discover iterate record --iter ${open.iter}`;
}
