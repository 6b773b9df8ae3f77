/**
 * A run's status as people read it, in the viewer and `spri status`. The store's status is what the
 * run's last process wrote; a process killed at any moment (kill -9, a crash, a machine gone) writes
 * nothing, so a run that the store calls `running` is shown `interrupted` once no process works it:
 * each of its workers stopped, lost (no heartbeat for longer than its lease) or, on this host, has
 * no process any more. Three artifacts of the run say the rest: why it failed or stopped
 * (`outcome`, written as it ends), the command that resumes it (`invocation`), and how many records
 * its output file held when its writer last reported (`output`).
 */
import type { ItemCounts, RunMeta, RunStatus, RunStore } from "../store/run-store.ts";
import type { WorkerInfo } from "../store/work-queue.ts";
import { shellQuote } from "../../base/util/shell-quote.ts";
import { isGoneLocally } from "./reap.ts";

/** What `spri worker` needs to rebuild the run elsewhere (recorded-command.ts writes and reads it). */
export const COMMAND_ARTIFACT = "command";
export const INVOCATION_ARTIFACT = "invocation";
export const OUTCOME_ARTIFACT = "outcome";
export const OUTPUT_ARTIFACT = "output";

/**
 * A run that no worker has joined yet is being set up (created, its first worker about to register)
 * for this long after its last update; quiet for longer, it was left by a process that is gone.
 */
export const STARTING_GRACE_MS = 60_000;

/** The command line that started a run (credentials in URLs redacted) and the directory it ran in. */
export interface Invocation {
  argv: string[];
  cwd: string;
}

/** How many records the run's output file held when its writer last reported. */
export interface OutputReport {
  /** `<output>.partial` while the run is unfinished, `<output>` once it is complete. */
  file: string;
  records: number;
  at: string;
}

export type ShownStatus = RunStatus | "interrupted";

export interface RunState {
  status: ShownStatus;
  /** Why it failed, stopped or was interrupted, when known. */
  reason?: string;
  /** Runs that did not complete: the shell command that resumes them, when one was recorded. */
  resume?: string;
  /** Runs that did not complete: the output file's last report, when one was made. */
  output?: OutputReport;
}

/** Sets how a run ended, with the reason when it did not simply complete (the outcome goes first). */
export async function recordRunEnd(store: RunStore, runId: string, status: RunStatus, reason?: string): Promise<void> {
  if (reason !== undefined) await store.putArtifact(runId, OUTCOME_ARTIFACT, { status, reason });
  await store.updateRun(runId, { status });
}

export interface RunStateOptions {
  /** The time to judge by (ms since the epoch); default now. */
  now?: number;
  /** `store.listWorkers(run.id)`, when the caller has it already. */
  workers?: readonly WorkerInfo[];
  counts?: ItemCounts;
}

export async function runState(store: RunStore, run: RunMeta, options: RunStateOptions = {}): Promise<RunState> {
  const state: RunState =
    run.status === "running" ? await liveState(store, run, options) : withReason(run.status, await endReason(store, run, options));
  if (state.status === "running" || state.status === "completed") return state;
  const [invocation, output] = await Promise.all([
    store.getArtifact(run.id, INVOCATION_ARTIFACT),
    store.getArtifact(run.id, OUTPUT_ARTIFACT),
  ]);
  if (isInvocation(invocation)) state.resume = resumeCommand(invocation);
  if (isOutputReport(output)) state.output = output;
  return state;
}

/** `cd <dir> && spri <args>`, quoted for a POSIX shell. */
export function resumeCommand(invocation: Invocation): string {
  return `cd ${shellQuote(invocation.cwd)} && ${["spri", ...invocation.argv].map(shellQuote).join(" ")}`;
}

/** Whether the worker works this run now: alive, and registered for it or for every running run. */
export function worksRun(worker: WorkerInfo, run: RunMeta): boolean {
  return worker.status === "active" && (worker.runId === run.id || (worker.runId === undefined && run.status === "running"));
}

/**
 * The workers as they are: an `active` worker of this host whose process is gone is `lost` at once
 * (the store learns it only when its lease runs out).
 */
export function withLocalLiveness<T extends WorkerInfo>(workers: readonly T[]): T[] {
  return workers.map((w) => (w.status === "active" && isGoneLocally(w) ? { ...w, status: "lost" } : w));
}

async function liveState(store: RunStore, run: RunMeta, options: RunStateOptions): Promise<RunState> {
  const workers = withLocalLiveness(options.workers ?? (await store.listWorkers(run.id)));
  if (workers.some((w) => worksRun(w, run))) return { status: "running" };
  const own = workers.filter((w) => w.runId === run.id || w.itemsDone + w.itemsFailed > 0);
  const last = own[0]; // most recent heartbeat first
  if (last !== undefined) {
    return {
      status: "interrupted",
      reason: `no process works it any more: its last worker, ${last.host} pid ${last.pid}, was last seen at ${last.heartbeatAt}`,
    };
  }
  const now = options.now ?? Date.now();
  if (now - Date.parse(run.updatedAt) <= STARTING_GRACE_MS) return { status: "running" };
  return { status: "interrupted", reason: `no process has worked on it since ${run.updatedAt}` };
}

async function endReason(store: RunStore, run: RunMeta, options: RunStateOptions): Promise<string | undefined> {
  if (run.status === "completed") return undefined;
  const outcome = await store.getArtifact(run.id, OUTCOME_ARTIFACT);
  if (isOutcome(outcome) && outcome.status === run.status) return outcome.reason;
  if (run.status !== "failed") return undefined;
  const counts = options.counts ?? (await store.itemCounts(run.id));
  return counts.failed > 0 ? `${counts.failed} of ${counts.total} items failed` : undefined;
}

function withReason(status: ShownStatus, reason: string | undefined): RunState {
  return reason === undefined ? { status } : { status, reason };
}

function isOutcome(value: unknown): value is { status: RunStatus; reason: string } {
  return typeof value === "object" && value !== null && typeof (value as { reason?: unknown }).reason === "string";
}

function isInvocation(value: unknown): value is Invocation {
  const v = value as Partial<Invocation> | null;
  return (
    typeof v === "object" && v !== null && Array.isArray(v.argv) && v.argv.every((a) => typeof a === "string") && typeof v.cwd === "string"
  );
}

function isOutputReport(value: unknown): value is OutputReport {
  const v = value as Partial<OutputReport> | null;
  return typeof v === "object" && v !== null && typeof v.file === "string" && typeof v.records === "number" && typeof v.at === "string";
}
