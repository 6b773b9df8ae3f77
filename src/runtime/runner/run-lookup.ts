/** A run named on the command line: its full id, or a prefix of it as `spri status` shows it. */
import { InputError } from "../../base/errors/errors.ts";
import type { RunMeta, RunStore } from "../store/run-store.ts";

/** The run with this id, or the one run whose id starts with it (the table shows 8 characters). */
export async function findRun(store: RunStore, id: string): Promise<RunMeta> {
  const exact = await store.getRun(id);
  if (exact) return exact;
  const matches = id.length === 0 ? [] : (await store.listRuns({ limit: 10_000 })).filter((run) => run.id.startsWith(id));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new InputError(`run id "${id}" is ambiguous: ${matches.length} runs start with it`, {
      field: "run",
      hint: "give more of the id",
    });
  }
  throw new InputError(`no run with id "${id}" in this store`, { field: "run", hint: "spri status without --run lists the runs" });
}
