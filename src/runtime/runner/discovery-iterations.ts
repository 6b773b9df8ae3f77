/**
 * `spri discover iterate`: the iterations directory on disk (docs/discovery.md). The state, slices and
 * statistics are computed in discovery/iterations.ts; this file reads the dataset and mined records,
 * writes the slices and keeps `<dir>/state.json`.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import {
  assignSlices,
  checkIterationState,
  constitutionTexts,
  DEFAULT_NEAR_DUPLICATE,
  entry,
  type IterationModel,
  type IterationState,
  iterDir,
  iterationStats,
  iterFile,
  sliceSizes,
  STATE_FILE,
} from "../../algorithms/discovery/iterations.ts";
import type { ConstitutionLike } from "../../algorithms/discovery/label-map.ts";
import { InputError } from "../../base/errors/errors.ts";
import { readInputRecords, readInputRows } from "../../io/input-reader.ts";
import { readJsonObjectFile, writeJsonFile } from "../../io/json-file.ts";
import { JsonlOutput } from "../../io/jsonl-output.ts";

function now(): string {
  return new Date().toISOString();
}

export function readState(dir: string): IterationState {
  const file = join(dir, STATE_FILE);
  if (!existsSync(file))
    throw new InputError("no iteration state here", { file, hint: "start with `spri discover iterate init --dir <dir> --input <data>`" });
  return checkIterationState(readJsonObjectFile(file, { what: "iteration state file" }), file);
}

export function writeState(dir: string, state: IterationState): void {
  state.updatedAt = now();
  writeJsonFile(join(dir, STATE_FILE), state);
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
  const rows = await readDatasetRows(options.input, idField);
  const sizes = sliceSizes(rows.length, options);
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
  const slices = assignSlices(
    rows.map((row) => row.id),
    sizes,
    seed,
  );
  for (const [i, slice] of slices.entries()) {
    const iter = i + 1;
    const file = iterFile(dir, iter, "prompts");
    mkdirSync(iterDir(dir, iter), { recursive: true });
    const out = new JsonlOutput(file);
    for (const index of slice) await out.write(rows[index]!.value);
    await out.commit();
    state.iterations.push({ iter, slice: { file: relative(dir, file), size: slice.length } });
  }
  if (options.model) state.iterations[0]!.model = { ...options.model, setAt: now() };
  mkdirSync(dir, { recursive: true });
  writeState(dir, state);
  return state;
}

/** The dataset's rows with their ids (the id field, else the line number); ids must be unique. */
async function readDatasetRows(input: string, idField: string): Promise<{ id: string; value: unknown }[]> {
  const rows: { id: string; value: unknown }[] = [];
  const seen = new Set<string>();
  for await (const row of readInputRows(input)) {
    const value = row.value as Record<string, unknown>;
    const raw = value && typeof value === "object" ? value[idField] : undefined;
    const id = raw === undefined || raw === null || raw === "" ? String(row.line) : typeof raw === "string" ? raw : JSON.stringify(raw);
    if (seen.has(id))
      throw new InputError(`duplicate id "${id}"`, {
        file: input,
        line: row.line,
        field: idField,
        hint: "ids must be unique for a deterministic split",
      });
    seen.add(id);
    rows.push({ id, value: row.value });
  }
  return rows;
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

export interface RecordOptions {
  mined?: string;
  constitution?: string;
  threshold?: number;
  /** Reads a constitution file (`loadConstitution` of discovery/constitution.ts). */
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
  const records = await readInputRecords(minedFile);
  current.stats = iterationStats({
    records,
    earlier: earlierConstitutionTexts(dir, state, iter, options.readConstitution),
    threshold,
    constitution: constitutionFile ? options.readConstitution(constitutionFile) : undefined,
    minedFile: relative(dir, resolve(minedFile)),
    constitutionFile: constitutionFile ? relative(dir, resolve(constitutionFile)) : null,
  });
  writeState(dir, state);
  return state;
}

/** The texts of the constitutions recorded for iterations before `iter` whose files still exist. */
function earlierConstitutionTexts(dir: string, state: IterationState, iter: number, read: (file: string) => ConstitutionLike): string[] {
  const earlier: string[] = [];
  for (const e of state.iterations) {
    if (e.iter >= iter || !e.stats?.constitutionFile) continue;
    const file = resolve(dir, e.stats.constitutionFile);
    if (existsSync(file)) earlier.push(...constitutionTexts(read(file)));
  }
  return earlier;
}
