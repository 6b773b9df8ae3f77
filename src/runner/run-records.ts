/**
 * A run's finished records straight from the run store, in finish order: what its output file holds,
 * for machines that have the store but not the file (workers wrote it elsewhere).
 */
import type { ItemRecord } from "../io/records.ts";
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
