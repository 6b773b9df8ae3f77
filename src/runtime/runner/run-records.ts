/**
 * A run's finished records straight from the run store, in finish order: what its output file holds,
 * for machines that have the store but not the file (workers wrote it elsewhere).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InputError } from "../../base/errors/errors.ts";
import { writeJsonlAtomically } from "../../io/jsonl-output.ts";
import type { ItemRecord } from "../../io/records.ts";
import type { RunStore } from "../store/run-store.ts";

export async function* runRecords(store: RunStore, runId: string): AsyncGenerator<ItemRecord> {
  for (let after = 0; ; ) {
    const page = await store.finishedSince(runId, after);
    if (page.length === 0) return;
    for (const item of page) {
      after = item.finishSeq;
      if (item.status === "done" && item.record !== undefined) yield item.record;
    }
  }
}

/** The run's finished records in a JSONL file of a fresh temporary directory (`spri export --run`), and the run's settings. */
export async function writeRunRecords(store: RunStore, runId: string): Promise<{ file: string; settings: Record<string, unknown> }> {
  const run = await store.getRun(runId);
  if (!run)
    throw new InputError(`no run with id "${runId}" in the store`, { field: "run", hint: "`spri status` lists the runs of a store" });
  const file = join(mkdtempSync(join(tmpdir(), "spri-export-")), "records.jsonl");
  await writeJsonlAtomically(file, runRecords(store, runId));
  return { file, settings: run.settings };
}
