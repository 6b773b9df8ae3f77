/**
 * WAL checkpoints on a thread of their own, so the thread that runs the model calls never waits on
 * one.
 *
 * SQLite's automatic checkpoint runs inside whichever COMMIT pushes the WAL past 1,000 pages: that
 * commit copies the WAL's pages into the database and fsyncs it (4–17 ms each here, every ~200 ms at
 * 2,400 calls a second, ~2 % of a run's wall time with every call in flight waiting). Once a store
 * writes at that rate, `SqliteStore` turns automatic checkpoints off on its own connection and
 * starts this checkpointer: a worker thread with its own connection to the same file that runs a
 * PASSIVE checkpoint every `intervalMs`. PASSIVE never blocks readers or writers; SQLite restarts
 * the WAL from its start once a checkpoint has copied all of it, so the file stays small.
 *
 * Durability is unchanged: committed transactions are in the WAL whether or not a checkpoint has
 * copied them (a kill -9 loses nothing committed). If the thread fails, the store turns automatic
 * checkpoints back on (see `onFailure`).
 */
import { Worker } from "node:worker_threads";

export interface WalCheckpointerOptions {
  /** Time between checkpoints, in ms. Default 250. */
  intervalMs?: number;
  /** Called once if the thread dies or cannot open the database. */
  onFailure?: (error: unknown) => void;
}

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 250;

// CommonJS, evaluated by the worker; `node:sqlite` loaded as in sqlite-module.ts, without its
// ExperimentalWarning (a worker's warnings print on the process's stderr).
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const emit = process.emitWarning;
process.emitWarning = (warning, ...rest) => {
  const message = typeof warning === "string" ? warning : warning.message;
  if (/^SQLite\\b/.test(message)) return;
  return emit.call(process, warning, ...rest);
};
const { DatabaseSync } = process.getBuiltinModule("node:sqlite");
process.emitWarning = emit;
const db = new DatabaseSync(workerData.path);
const statement = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
const checkpoint = () => {
  try {
    return statement.get();
  } catch (error) {
    return { error: String(error && error.message) };
  }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message.type === "checkpoint") return parentPort.postMessage({ id: message.id, result: checkpoint() });
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** What one PASSIVE checkpoint did: WAL frames in all (`log`) and copied into the database. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

export class WalCheckpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly waiting = new Map<number, { resolve: (result: CheckpointResult) => void; reject: (error: Error) => void }>();
  private nextId = 0;

  constructor(path: string, options: WalCheckpointerOptions = {}) {
    const intervalMs = Math.max(10, Math.floor(options.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS));
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs } });
    // A run never waits for its checkpointer: the process may exit with it running.
    this.worker.unref();
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      options.onFailure?.(error);
    };
    this.worker.on("error", fail);
    this.worker.on("message", (message: { id: number; result: CheckpointResult | { error: string } }) => {
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if ("error" in message.result) waiter?.reject(new Error(message.result.error));
      else waiter?.resolve(message.result);
    });
    this.exited = new Promise((resolve) => {
      this.worker.on("exit", (code) => {
        if (code !== 0) fail(new Error(`the WAL checkpoint thread exited with code ${code}`));
        // A checkpoint asked for but never answered would otherwise wait forever.
        for (const waiter of this.waiting.values()) waiter.reject(new Error("the WAL checkpoint thread has ended"));
        this.waiting.clear();
        resolve();
      });
    });
  }

  /** Runs a checkpoint on the thread now (besides the periodic ones); for tests and diagnostics. */
  checkpointNow(): Promise<CheckpointResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: "checkpoint", id });
    });
  }

  /**
   * Ends the thread; resolves when it has. It runs no last checkpoint: the store's own connection
   * closes after it, and the file's last connection to close (this process's, unless another
   * process still has the file open) checkpoints what is left and removes the WAL. A last
   * checkpoint here as well cost a bench run's end ~30 ms, its fsync included.
   */
  async stop(): Promise<void> {
    this.worker.ref();
    this.worker.postMessage({ type: "stop" });
    await this.exited;
  }
}
