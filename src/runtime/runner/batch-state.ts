/**
 * The batch lane's state (see batch-lane.ts): every round's parts, with the file each part's
 * request lines are in, its model, the uploaded input file, the batch, its status and whether its
 * answers are in the cache. It is what a re-run needs to poll a submitted batch again instead of
 * submitting it twice, so it lives in the run store, as the run's `batch-lane` artifact: one
 * `putArtifact` per save, which is one transaction in both backends, so a kill -9 at any moment
 * leaves either the state before the save or the state after it.
 *
 * Earlier versions of spri kept it in `<output>.batch/state.json`; `loadState` moves such a file
 * into the store once, so a batch run interrupted under an older spri resumes after the upgrade.
 */
import { existsSync, renameSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../base/errors/errors.ts";
import { readJsonFile } from "../../io/json-file.ts";
import type { RunStore } from "../store/run-store.ts";

export interface PartState {
  /** File name inside the batch directory. */
  file: string;
  /** `LanguageModel.id` of the model the lines are for (never a key). */
  endpoint: string;
  model: string;
  lines: number;
  /** sha256 of the part's sorted custom ids: the same requests give the same digest. */
  digest: string;
  /** `written`, `uploaded`, then the batch's own status. */
  status: string;
  inputFileId?: string;
  batchId?: string;
  outputFileId?: string;
  errorFileId?: string;
  /** Its answers are in the cache (or it ended with none to import): nothing more to do. */
  imported: boolean;
  /** Offline: the results file it was imported from. */
  resultsFile?: string;
  answered?: number;
  failed?: number;
}

export interface RoundState {
  round: number;
  parts: PartState[];
}

export interface LaneState {
  version: 1;
  rounds: RoundState[];
}

/**
 * Where the lane keeps its state. `save` replaces the whole state atomically (a crash leaves the
 * old state or the new one, never a mix) and has happened once it resolves; `load` gives what the
 * last save stored, undefined before the first.
 */
export interface LaneStateStore {
  load(): Promise<unknown | undefined>;
  save(state: LaneState): Promise<void>;
}

/** The name of the run artifact that holds the lane's state. */
export const LANE_ARTIFACT = "batch-lane";

/** The state of an older spri's lane, in the lane's directory; renamed to `<name>.imported` once imported. */
export const LEGACY_STATE_FILE = "state.json";

/** The lane's state as the run's `batch-lane` artifact (the run must exist by the first load or save). */
export function runArtifactState(store: Pick<RunStore, "getArtifact" | "putArtifact">, runId: string): LaneStateStore {
  return {
    load: () => store.getArtifact(runId, LANE_ARTIFACT),
    save: (state) => store.putArtifact(runId, LANE_ARTIFACT, state),
  };
}

export function emptyState(): LaneState {
  return { version: 1, rounds: [] };
}

/** Checks a loaded state's format; `where` says where it came from, for the error. */
function parseState(value: unknown, where: { what: string; file?: string; hint: string }): LaneState {
  const state = value as LaneState | null | undefined;
  if (state?.version !== 1 || !Array.isArray(state.rounds))
    throw new InputError(`unknown batch state format in ${where.what}`, { file: where.file, hint: where.hint });
  return state;
}

/**
 * Loads the lane's state from `store`. When the store holds none and `dir` has an older spri's
 * `state.json`, that file's state is saved into the store first and the file is then renamed to
 * `state.json.imported`, so it is imported once. A crash between the save and the rename leaves
 * both; the store's state wins, and the file is renamed on the next load. A `state.json` that
 * cannot be read as a state is an error and stays where it is.
 */
export async function loadState(store: LaneStateStore, dir: string): Promise<LaneState> {
  const stored = await store.load();
  const legacy = join(dir, LEGACY_STATE_FILE);
  if (stored !== undefined) {
    if (existsSync(legacy)) renameSync(legacy, `${legacy}.imported`);
    return parseState(stored, {
      what: `the run's "${LANE_ARTIFACT}" artifact`,
      hint: "it was written by a newer spri: go on with that version, or start over with another --output",
    });
  }
  if (!existsSync(legacy)) return emptyState();
  const value = readJsonFile(legacy, { what: "batch state", hint: "restore it, or delete it to start the batch rounds over" });
  const state = parseState(value, { what: "the batch directory", file: legacy, hint: "delete it to start the batch rounds over" });
  await store.save(state);
  renameSync(legacy, `${legacy}.imported`);
  return state;
}
