/**
 * The JSON text of the records a store connection committed, by run and item, kept for the runs
 * whose output role one of the connection's workers holds (`WorkQueue.claimOutput`): the output
 * tail appends them as `finishedSince` hands them out, so a run worked and written by one process
 * does not read back every record it has just written. A text leaves when it is handed out; a run's
 * texts go when its holder gives up the role. Past `MAX_TEXTS` texts or `MAX_CHARS` characters
 * nothing more is kept, and those records are read back like anyone else's.
 */

const MAX_TEXTS = 4096;
const MAX_CHARS = 16 * 1024 * 1024;

interface HeldRun {
  holder: string;
  texts: Map<string, string>;
  chars: number;
}

export class RecordTexts {
  private readonly runs = new Map<string, HeldRun>();

  /** `workerId` holds the run's output role: its records' texts are kept from now on. */
  hold(runId: string, workerId: string): void {
    if (this.runs.get(runId)?.holder !== workerId) this.runs.set(runId, { holder: workerId, texts: new Map(), chars: 0 });
  }

  /** `workerId` no longer holds the run's output role (another worker's hold stays). */
  release(runId: string, workerId: string): void {
    if (this.runs.get(runId)?.holder === workerId) this.runs.delete(runId);
  }

  releaseAll(workerId: string): void {
    for (const [runId, run] of this.runs) if (run.holder === workerId) this.runs.delete(runId);
  }

  /** Keeps a committed record's text, if the run is held and there is room. */
  keep(runId: string, itemId: string, text: string): void {
    const run = this.runs.get(runId);
    if (!run || run.texts.has(itemId) || run.texts.size >= MAX_TEXTS || run.chars + text.length > MAX_CHARS) return;
    run.texts.set(itemId, text);
    run.chars += text.length;
  }

  /** Whether any text of the run is kept. */
  holds(runId: string): boolean {
    return (this.runs.get(runId)?.texts.size ?? 0) > 0;
  }

  /**
   * The texts of `itemIds`, taken out, when every one of them is kept; otherwise undefined, and
   * nothing is taken.
   */
  takeAll(runId: string, itemIds: readonly string[]): string[] | undefined {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    const texts: string[] = [];
    for (const itemId of itemIds) {
      const text = run.texts.get(itemId);
      if (text === undefined) return undefined;
      texts.push(text);
    }
    for (const itemId of itemIds) this.forget(runId, itemId);
    return texts;
  }

  /** Drops an item's text, if kept (its record was read from the database instead). */
  forget(runId: string, itemId: string): void {
    const run = this.runs.get(runId);
    const text = run?.texts.get(itemId);
    if (run === undefined || text === undefined) return;
    run.texts.delete(itemId);
    run.chars -= text.length;
  }
}
