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
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { InputError } from "../errors/errors.ts";
import { readInputRows } from "../io/input-reader.ts";
import { readJsonObjectFile, writeJsonFile } from "../io/json-file.ts";
import { JsonlOutput } from "../io/jsonl-output.ts";
import { principleKey } from "./principle-set.ts";
import type { BestCandidate } from "./mining.ts";
import { summariseMining } from "./mining-summary.ts";
import { normalisePrinciple } from "./mined-principle.ts";
import { rougeL } from "./rouge-l.ts";
import type { ConstitutionLike } from "./label-map.ts";

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
  minedFile: string;
  constitutionFile: string | null;
  recordedAt: string;
}

export interface IterationEntry {
  iter: number;
  slice: { file: string; size: number };
  model?: IterationModel;
  stats?: IterationStats;
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
} as const;

export function iterFile(dir: string, iter: number, name: keyof typeof ITER_FILES): string {
  return join(iterDir(dir, iter), ITER_FILES[name]);
}

function now(): string {
  return new Date().toISOString();
}

export function readState(dir: string): IterationState {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file))
    throw new InputError("no iteration state here", { file, hint: "start with `spri discover iterate init --dir <dir> --input <data>`" });
  const state = readJsonObjectFile(file, { what: "iteration state file" }) as unknown as IterationState;
  if (state.format !== "spri-discovery-iterations") throw new InputError("not an iteration state file", { file, field: "format" });
  return state;
}

export function writeState(dir: string, state: IterationState): void {
  state.updatedAt = now();
  writeJsonFile(join(dir, STATE_FILE), state);
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

export interface InitOptions {
  dir: string;
  input: string;
  slices?: number;
  sizes?: readonly number[];
  seed?: string;
  idField?: string;
  /** Overwrite an existing state. */
  force?: boolean;
  /** The initial model (iteration 1), when known. */
  model?: Omit<IterationModel, "setAt">;
}

/** Splits the dataset into disjoint slices and writes the initial state. */
export async function initIterations(options: InitOptions): Promise<IterationState> {
  const { dir } = options;
  const idField = options.idField ?? "id";
  const seed = options.seed ?? "0";
  if (existsSync(join(dir, STATE_FILE)) && !options.force) {
    throw new InputError("the directory already holds an iteration state", {
      file: join(dir, STATE_FILE),
      hint: "use another --dir, or --force to start over",
    });
  }
  const rows: { id: string; line: number; value: unknown }[] = [];
  const seen = new Set<string>();
  for await (const row of readInputRows(options.input)) {
    const value = row.value as Record<string, unknown>;
    const raw = value && typeof value === "object" ? value[idField] : undefined;
    const id = raw === undefined || raw === null || raw === "" ? String(row.line) : typeof raw === "string" ? raw : JSON.stringify(raw);
    if (seen.has(id))
      throw new InputError(`duplicate id "${id}"`, {
        file: options.input,
        line: row.line,
        field: idField,
        hint: "ids must be unique for a deterministic split",
      });
    seen.add(id);
    rows.push({ id, line: row.line, value: row.value });
  }
  const sizes = sliceSizes(rows.length, options);
  const ordered = rows
    .map((r, index) => ({ ...r, index, key: orderKey(seed, r.id) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const state: IterationState = {
    format: "spri-discovery-iterations",
    version: 1,
    createdAt: now(),
    updatedAt: now(),
    dataset: { file: resolve(options.input), rows: rows.length, idField },
    split: { seed, sizes, unused: rows.length - sizes.reduce((a, b) => a + b, 0) },
    nearDuplicate: { metric: "rougeL_f1", threshold: DEFAULT_NEAR_DUPLICATE },
    iterations: [],
  };
  let at = 0;
  for (let i = 0; i < sizes.length; i++) {
    const iter = i + 1;
    const slice = ordered.slice(at, at + sizes[i]!).sort((a, b) => a.index - b.index);
    at += sizes[i]!;
    const file = iterFile(dir, iter, "prompts");
    mkdirSync(iterDir(dir, iter), { recursive: true });
    const out = new JsonlOutput(file);
    for (const row of slice) await out.write(row.value);
    await out.commit();
    state.iterations.push({ iter, slice: { file: relative(dir, file), size: slice.length } });
  }
  if (options.model) state.iterations[0]!.model = { ...options.model, setAt: now() };
  mkdirSync(dir, { recursive: true });
  writeState(dir, state);
  return state;
}

/** Records the model that mines iteration `iter` (for t > 1: the one trained after t − 1). */
export function setIterationModel(dir: string, iter: number, model: Omit<IterationModel, "setAt">): IterationState {
  const state = readState(dir);
  entry(state, iter).model = {
    ...Object.fromEntries(Object.entries(model).filter(([, v]) => v !== undefined)),
    setAt: now(),
  } as IterationModel;
  writeState(dir, state);
  return state;
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

/** Accepted principles of a mined file, normalised, exact duplicates merged (clustering's `principleKey`). */
export async function acceptedPrinciples(file: string): Promise<{ principles: string[]; records: Record<string, unknown>[] }> {
  const byKey = new Map<string, string>();
  const records: Record<string, unknown>[] = [];
  for await (const row of readInputRows(file)) {
    const record = row.value as Record<string, unknown>;
    records.push(record);
    const best = record.best as BestCandidate | null | undefined;
    if (record.accepted !== true || !best || typeof best.z !== "string") continue;
    const z = normalisePrinciple(best.z);
    if (z !== "" && !byKey.has(principleKey(z))) byKey.set(principleKey(z), z);
  }
  return { principles: [...byKey.values()], records };
}

/** The principles not near-duplicates (Rouge-L F1 ≥ threshold) of any earlier one. */
export function newPrinciples(principles: readonly string[], earlier: readonly string[], threshold: number): string[] {
  const earlierKeys = new Set(earlier.map(principleKey));
  return principles.filter((z) => {
    if (earlierKeys.has(principleKey(z))) return false;
    return !earlier.some((e) => rougeL(e, z).fmeasure >= threshold);
  });
}

export interface RecordOptions {
  mined?: string;
  constitution?: string;
  threshold?: number;
  /** Reads a constitution file (src/discovery/constitution.ts `readConstitution`). */
  readConstitution: (file: string) => ConstitutionLike;
}

/** Computes and stores iteration `iter`'s statistics from its mined records and constitution. */
export async function recordIteration(dir: string, iter: number, options: RecordOptions): Promise<IterationState> {
  const state = readState(dir);
  const current = entry(state, iter);
  const threshold = options.threshold ?? state.nearDuplicate.threshold;
  state.nearDuplicate.threshold = threshold;
  const minedFile = options.mined ?? iterFile(dir, iter, "mined");
  if (!existsSync(minedFile))
    throw new InputError("no mined records for this iteration", {
      file: minedFile,
      hint: "run `spri discover iterate mine` first, or pass --mined",
    });
  const constitutionFile =
    options.constitution ?? (existsSync(iterFile(dir, iter, "constitution")) ? iterFile(dir, iter, "constitution") : undefined);
  const { principles, records } = await acceptedPrinciples(minedFile);
  const summary = summariseMining(records);
  const earlier: string[] = [];
  for (const e of state.iterations) {
    if (e.iter >= iter || !e.stats?.constitutionFile) continue;
    const file = resolve(dir, e.stats.constitutionFile);
    if (existsSync(file)) earlier.push(...constitutionTexts(options.readConstitution(file)));
  }
  const fresh = newPrinciples(principles, earlier, threshold);
  const constitution = constitutionFile ? options.readConstitution(constitutionFile) : undefined;
  current.stats = {
    mined: summary.examples,
    accepted: summary.accepted,
    acceptRate: summary.acceptRate,
    uniquePrinciples: principles.length,
    newPrinciples: fresh.length,
    discoveryRate: summary.examples === 0 ? 0 : Math.round((fresh.length / summary.examples) * 10000) / 10000,
    constitutionSize: constitution ? constitution.principles.length : null,
    minedFile: relative(dir, resolve(minedFile)),
    constitutionFile: constitutionFile ? relative(dir, resolve(constitutionFile)) : null,
    recordedAt: now(),
  };
  writeState(dir, state);
  return state;
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
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const lines = [line(header), ...rows.map(line)];
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
