/**
 * One item as a run of its own (the viewer's playground): the run is created with its one item
 * queued, then worked by `runWorker` in this process, so the item goes through the same model stack
 * (cache, budget, rate limits, retries), item runner and fenced completion as every `spri run` item.
 * Its calls are cached like any run's: the same item with the same settings again costs nothing.
 * With the run's `command` recorded, a `spri worker --run <id>` elsewhere can finish it if this
 * process goes away first.
 */
import { describeError } from "../../base/errors/errors.ts";
import type { CallRecord, ItemRecord } from "../../io/records.ts";
import type { RunStore } from "../store/run-store.ts";
import { type FieldMapping, toTaskItem } from "../../presets/tasks/task-item.ts";
import { COMMAND_ARTIFACT, recordRunEnd } from "./run-state.ts";
import { runWorker, type WorkerRun } from "./worker.ts";

export interface SingleItemRunOptions {
  store: RunStore;
  /** The run's key (see RunMeta.key); a fresh one makes a new run each time. */
  key: string;
  /** What the run says its input was (shown in the viewer), and the origin of the row's errors. */
  inputPath: string;
  /** The row, read with `mapping` as an input file's row would be. */
  row: Record<string, unknown>;
  mapping: FieldMapping;
  /** The algorithm, models and runner settings; closed when the run ends. */
  run: WorkerRun;
  /** The run's settings as stored (redacted). */
  settings: Record<string, unknown>;
  /** What `spri worker` needs to rebuild the run (the `command` artifact); none: only this process can work it. */
  command?: unknown;
  /** Once the run exists, before any of its calls. */
  onCreated?: (runId: string, itemId: string) => void;
  /** Every call as it ends, after pricing. */
  onCall?: (call: CallRecord, costUsd: number | undefined) => void;
}

/** How the item ended, as the store holds it. */
export type SingleItemEnd = { status: "done"; record: ItemRecord } | { status: "failed" | "stopped"; reason: string };

export interface SingleItemRun {
  runId: string;
  itemId: string;
  /** Settles once the worker is gone and the run's status says how it ended; never rejects. */
  ended: Promise<SingleItemEnd>;
}

/**
 * Creates the run and starts working it; resolves once this process is registered as its worker (so
 * the run is never shown interrupted while it runs). A row the task cannot read is an InputError
 * before anything is created.
 */
export async function startSingleItemRun(options: SingleItemRunOptions): Promise<SingleItemRun> {
  const { store, run } = options;
  const item = toTaskItem(run.prepared.task, options.row, options.mapping, { file: options.inputPath, line: 1 });
  const meta = await store.createRun({
    key: options.key,
    task: run.prepared.algorithm.name,
    settings: options.settings,
    inputPath: options.inputPath,
    baseModel: run.models.base.id,
    criticModel: run.models.critic.id,
  });
  options.onCreated?.(meta.id, item.id);
  if (options.command !== undefined) await store.putArtifact(meta.id, COMMAND_ARTIFACT, options.command);
  await store.enqueueItems(meta.id, [{ itemId: item.id, input: item, line: 1 }]);
  await store.updateRun(meta.id, { inputComplete: true });
  let started!: () => void;
  const registered = new Promise<void>((resolve) => (started = resolve));
  const ended = work(options, meta.id, item.id, started);
  await Promise.race([registered, ended]);
  return { runId: meta.id, itemId: item.id, ended };
}

async function work(options: SingleItemRunOptions, runId: string, itemId: string, onStarted: () => void): Promise<SingleItemEnd> {
  const { store } = options;
  let closed = false;
  const close = async () => {
    if (!closed) await options.run.close().catch(() => {});
    closed = true;
  };
  try {
    const result = await runWorker({
      store,
      runId,
      concurrency: 1,
      drain: true,
      onStarted,
      onCall: options.onCall,
      openRun: async () => ({ ...options.run, close }),
    });
    const end = await endOf(store, runId, itemId, result.stopReason);
    await recordRunEnd(store, runId, end.status === "done" ? "completed" : end.status, end.status === "done" ? undefined : end.reason);
    return end;
  } catch (error) {
    const reason = describeError(error);
    await recordRunEnd(store, runId, "failed", reason).catch(() => {});
    return { status: "failed", reason };
  } finally {
    await close();
  }
}

/** The item's state after the worker left: done, failed, or still pending because the worker stopped early. */
async function endOf(store: RunStore, runId: string, itemId: string, stopReason: string | undefined): Promise<SingleItemEnd> {
  const item = await store.getItem(runId, itemId);
  if (item?.status === "done" && item.record) return { status: "done", record: item.record };
  if (item?.status === "failed") return { status: "failed", reason: item.reason ?? "the item failed" };
  return { status: "stopped", reason: stopReason ?? "the worker stopped before the item was finished" };
}
