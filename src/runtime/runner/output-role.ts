/**
 * The output role of a run: one process writes the run's output and rejects files (output-tail.ts).
 * Another `spri run` of the same run joins as a worker and takes the role over if its holder goes
 * away; a joiner whose work is over waits for the holder to finish the output.
 */
import { resolve } from "node:path";
import type { RunStore } from "../store/run-store.ts";
import type { Wake } from "../../base/util/wake.ts";
import { OutputTail, type RejectEntry } from "./output-tail.ts";
import { reapDeadLocalWorkers } from "./reap.ts";
import type { sampledIdentity } from "./samples.ts";

export interface OutputRoleOptions {
  store: RunStore;
  runId: string;
  workerId: string;
  leaseMs: number;
  pollMs: number;
  output: string;
  rejects: string;
  identity: ReturnType<typeof sampledIdentity>;
  /** Each record the tail appends (a process that does no items itself reports progress this way). */
  onAppend?: (status: "done" | "failed") => void;
}

export class OutputRole {
  /** The output writer, while this process holds the role. */
  tail: OutputTail | undefined;
  /** Input rows rejected before this process held the role: written when it takes it. */
  private readonly early: RejectEntry[] = [];
  private readonly options: OutputRoleOptions;

  constructor(options: OutputRoleOptions) {
    this.options = options;
  }

  /**
   * Takes the role if nobody holds it; false when another process does. The first claim of a
   * command retries the run's failed items (their rejects are written again as they fail again).
   */
  async claim(first: boolean): Promise<boolean> {
    const { store, runId, workerId } = this.options;
    const holder = await store.claimOutput(runId, workerId, this.options.leaseMs);
    if (holder?.id !== workerId) return false;
    const tail = await OutputTail.open({
      store,
      runId,
      output: this.options.output,
      rejects: this.options.rejects,
      identity: this.options.identity,
      onAppend: this.options.onAppend,
    });
    for (const entry of this.early) tail.reject(entry);
    this.tail = tail;
    if (first) await store.retryFailed(runId);
    await store.updateRun(runId, { status: "running", outputPath: resolve(this.options.output) });
    return true;
  }

  /** Who holds the role instead of this process, for the user. */
  async holderName(): Promise<string> {
    const holder = (await this.options.store.listWorkers(this.options.runId)).find(
      (w) => w.status === "active" && w.id !== this.options.workerId,
    );
    return holder ? `${holder.host} pid ${holder.pid}` : "another process";
  }

  reject(entry: RejectEntry): void {
    if (this.tail) this.tail.reject(entry);
    else this.early.push(entry);
  }

  /** On each heartbeat: keep the role (or take it from a lost holder) and write what is new. */
  async keep(): Promise<void> {
    if (this.tail) await this.options.store.claimOutput(this.options.runId, this.options.workerId, this.options.leaseMs);
    else await this.claim(false);
    await this.tail?.catchUp();
  }

  /** A joiner whose work is over waits for the holder to end the run, or takes over from a lost one. */
  async awaitHolder(wake: Wake, signal: AbortSignal | undefined): Promise<void> {
    const { store, runId } = this.options;
    while (!this.tail && !signal?.aborted) {
      if ((await store.getRun(runId))?.status !== "running") return;
      await reapDeadLocalWorkers(store, runId);
      if (await this.claim(false)) return;
      await wake.wait(this.options.pollMs, signal);
    }
  }

  /** The first few reject reasons, for the command's summary. */
  rejectSamples(): string[] {
    return this.tail?.samples ?? this.early.slice(0, 5).map((r) => r.reason);
  }
}
