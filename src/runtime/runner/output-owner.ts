/**
 * One output file holds the records of one run. The run of a store that last wrote an output path
 * owns that file; a command whose run is another one (other settings, task or input) must not
 * write to it, because the output tail takes the records it finds in the file as its own run's
 * done items and the file would mix the two runs. Such a command is refused, naming the settings
 * that differ, unless it asks for a new run: then the old run's output files are removed and the
 * command's run writes its own records from the store (the old run stays in the store).
 */
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { InputError } from "../../base/errors/errors.ts";
import { partialPath } from "../../io/record-output.ts";
import { canonicalJson } from "../store/canonical.ts";
import type { RunMeta, RunStore } from "../store/run-store.ts";

export interface OutputClaim {
  store: RunStore;
  output: string;
  /** The run this command resumes, when the store has one with its key. */
  runId?: string;
  /** What the command's run would record: the algorithm's name, the input and the run settings. */
  task: string;
  input: string;
  settings: Record<string, unknown>;
  /** Replace an output that holds another run's records instead of refusing. */
  newRun?: boolean;
}

const PAGE = 500;

/** Refuses (or, with `newRun`, clears) an output file that holds another run's records. */
export async function claimOutputFile(claim: OutputClaim): Promise<void> {
  const files = [claim.output, partialPath(claim.output)].filter((file) => existsSync(file));
  if (files.length === 0) return;
  const owner = await outputOwner(claim.store, claim.output);
  if (owner === undefined || owner.id === claim.runId) return;
  if (claim.newRun) {
    for (const file of files) rmSync(file);
    return;
  }
  const differences = settingDifferences(
    { task: owner.task, input: resolve(owner.inputPath), ...owner.settings },
    { task: claim.task, input: resolve(claim.input), ...claim.settings },
  );
  const what = differences.length > 0 ? differences.join("; ") : "options of its algorithm";
  throw new InputError(`holds the records of run ${owner.id.slice(0, 8)}, made with other settings (${what})`, {
    file: claim.output,
    hint: "give --new-run to replace them with this command's run, or write to another --output",
  });
}

/** The run of the store that last wrote this output path (paths compare resolved). */
async function outputOwner(store: RunStore, output: string): Promise<RunMeta | undefined> {
  const path = resolve(output);
  let owner: RunMeta | undefined;
  for (let offset = 0; ; offset += PAGE) {
    const page = await store.listRuns({ limit: PAGE, offset });
    for (const run of page) {
      if (run.outputPath === undefined || resolve(run.outputPath) !== path) continue;
      if (owner === undefined || run.updatedAt > owner.updatedAt) owner = run;
    }
    if (page.length < PAGE) return owner;
  }
}

/** `name: old → new` for each top-level or nested field whose value differs (unset fields shown as such). */
export function settingDifferences(before: Record<string, unknown>, after: Record<string, unknown>, prefix = ""): string[] {
  const differences: string[] = [];
  for (const name of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const [was, is] = [before[name], after[name]];
    if (canonicalJson(was) === canonicalJson(is)) continue;
    if (isObject(was) && isObject(is)) differences.push(...settingDifferences(was, is, `${prefix}${name}.`));
    else differences.push(`${prefix}${name}: ${shown(was)} → ${shown(is)}`);
  }
  return differences;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shown(value: unknown): string {
  if (value === undefined || value === null) return "(unset)";
  return typeof value === "string" ? value : JSON.stringify(value);
}
