/**
 * The run's output and rejects files, derived from the run store. The store decides what is done;
 * the process that holds the run's output role (`WorkQueue.claimOutput`) appends each record the
 * store has finished, in finish order, to `<output>.partial`, and each failure to the rejects file.
 * Whoever finished an item (this process or a worker elsewhere), it lands in the output exactly once.
 *
 * Opening takes over what an earlier command wrote: the records already in the output are kept (a
 * torn last line is cut off) and skipped, and any that the store lacks (an output written without
 * this store, or by an older spri) are imported into it as done, so store and file agree again.
 *
 * The store commits a result before the file gets it, so a process killed in between leaves the
 * store ahead of the file until the run resumes. For those who look at a run meanwhile, the tail
 * reports how many records the file holds (the run's `output` artifact, see run-state.ts): when it
 * opens, at most once a second while it appends, and when it closes.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { type RecordIdentity, RecordOutput, readRecords, recordLine } from "../../io/record-output.ts";
import type { ItemRecord } from "../../io/records.ts";
import type { ItemUpdate, RunStore } from "../store/run-store.ts";
import { OUTPUT_ARTIFACT, type OutputReport } from "./run-state.ts";

export interface OutputTailOptions {
  store: RunStore;
  runId: string;
  output: string;
  rejects: string;
  identity: RecordIdentity;
  /** Each record or failure as it is written. */
  onAppend?: (status: "done" | "failed") => void;
}

export interface RejectEntry {
  id?: string;
  line?: number;
  reason: string;
  kind?: string;
}

const IMPORT_BATCH = 500;
/** Finished items read from the store at a time. */
const PAGE = 500;
/**
 * Records appended between syncs of the output to disk. The store holds every finished record, so
 * records a power cut takes from the file's end come back when the run is resumed (they are
 * finished in the store and missing from the file); a sync every 64 records was 63 fdatasync calls
 * in bench (h), paid by the run's own CPU time.
 */
const SYNC_EVERY = 1024;

export class OutputTail {
  private readonly store: RunStore;
  private readonly runId: string;
  private readonly output: RecordOutput;
  private readonly rejectsPath: string;
  /** Ids already in the output file. */
  private readonly written: Set<string>;
  private cursor = 0;
  private catching: Promise<{ done: number; failed: number }> | undefined;
  /** The file and count last reported to the store, and when (ms). */
  private reported = { file: "", records: -1, at: 0 };
  /** Error kinds of the failures this process saw itself (the store keeps only the reason). */
  readonly kinds = new Map<string, string>();
  readonly samples: string[] = [];
  private readonly onAppend?: (status: "done" | "failed") => void;

  private constructor(options: OutputTailOptions, output: RecordOutput, written: Set<string>) {
    this.store = options.store;
    this.runId = options.runId;
    this.output = output;
    this.rejectsPath = options.rejects;
    this.written = written;
    this.onAppend = options.onAppend;
  }

  static async open(options: OutputTailOptions): Promise<OutputTail> {
    const { output, done } = await RecordOutput.open(options.output, options.identity);
    await importMissing(options, done);
    mkdirSync(dirname(options.rejects), { recursive: true });
    writeFileSync(options.rejects, "");
    const tail = new OutputTail(options, output, done);
    await tail.report(output.partial);
    return tail;
  }

  /** How many records the output holds. */
  get records(): number {
    return this.written.size;
  }

  /** A rejected input line (malformed, or not an item), written at once. */
  reject(entry: RejectEntry): void {
    appendFileSync(this.rejectsPath, `${JSON.stringify(entry)}\n`);
    if (this.samples.length < 5) this.samples.push(entry.reason);
  }

  /** Appends everything the store finished since the last call; one catch-up at a time. */
  catchUp(): Promise<{ done: number; failed: number }> {
    this.catching = (this.catching ?? Promise.resolve({ done: 0, failed: 0 })).then(() => this.readNew());
    return this.catching;
  }

  private async readNew(): Promise<{ done: number; failed: number }> {
    const added = { done: 0, failed: 0 };
    for (;;) {
      const page = await this.store.finishedSince(this.runId, this.cursor, PAGE);
      if (page.length === 0) break;
      const lines: string[] = [];
      const ids: string[] = [];
      for (const item of page) {
        this.cursor = item.finishSeq;
        if (item.status === "failed") {
          const kind = this.kinds.get(item.itemId);
          this.reject({ id: item.itemId, reason: item.reason ?? "failed", ...(kind ? { kind } : {}) });
          added.failed++;
          this.onAppend?.("failed");
          continue;
        }
        if (this.written.has(item.itemId)) continue;
        // The store's own text goes out as it is: no parse and re-serialisation per record.
        if (item.recordJson !== undefined) lines.push(recordLine(item.recordJson));
        else if (item.record !== undefined) lines.push(JSON.stringify(item.record));
        else continue;
        ids.push(item.itemId);
      }
      // The page's records go out in one write; each counts as written once the write is done.
      this.output.appendLines(lines, SYNC_EVERY);
      for (const id of ids) {
        this.written.add(id);
        added.done++;
        this.onAppend?.("done");
      }
      // A short page was all there was; asking again would only find it empty.
      if (page.length < PAGE) break;
    }
    if (added.done > 0 && Date.now() - this.reported.at >= REPORT_EVERY_MS) await this.report(this.output.partial);
    return added;
  }

  /** The whole input is through: the output gets its real name. */
  async commit(): Promise<void> {
    await this.catchUp();
    this.output.commit();
    await this.report(this.output.file);
  }

  /** Leaves `<output>.partial` for the next command to resume. */
  async close(): Promise<void> {
    await this.catchUp().catch(() => undefined);
    this.output.close();
    await this.report(this.output.partial).catch(() => undefined);
  }

  /** Tells the store how many records `file` holds now, unless that is what it was last told. */
  private async report(file: string): Promise<void> {
    const records = this.written.size;
    if (file === this.reported.file && records === this.reported.records) return;
    const at = Date.now();
    const value: OutputReport = { file: resolve(file), records, at: new Date(at).toISOString() };
    await this.store.putArtifact(this.runId, OUTPUT_ARTIFACT, value);
    this.reported = { file, records, at };
  }
}

/** How often, at most, the output's progress is reported to the store while records are appended. */
const REPORT_EVERY_MS = 1000;

/** Records in the output file that the store does not hold as done go into the store. */
async function importMissing(options: OutputTailOptions, inFile: ReadonlySet<string>): Promise<void> {
  if (inFile.size === 0) return;
  const statuses = await options.store.itemStatuses(options.runId);
  if ([...inFile].every((id) => statuses.get(id) === "done")) return;
  let batch: ItemUpdate[] = [];
  for await (const { id, record } of readRecords(options.output, options.identity)) {
    if (statuses.get(id) === "done" || !inFile.has(id)) continue;
    batch.push({ itemId: id, status: "done", record: record as ItemRecord });
    if (batch.length >= IMPORT_BATCH) {
      await options.store.setItemStatuses(options.runId, batch);
      batch = [];
    }
  }
  if (batch.length > 0) await options.store.setItemStatuses(options.runId, batch);
}
