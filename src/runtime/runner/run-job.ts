/**
 * `spri run` at scale. The run store is the run's whole state: the input is enqueued into it, items
 * are leased from it (by this process and by any `spri worker` on the same store), and each finished
 * item is committed to it fenced by its lease, so every item is done exactly once however many
 * processes work the run and whichever of them is killed. The output file is derived from the store
 * by the process holding the run's output role (see output-tail.ts): re-running the same command
 * resumes, and cached calls cost nothing, so a run killed at any moment resumes without paying twice.
 * Items that fail go to the rejects file with a reason and are tried again on the next run. A hard
 * error (quota, key, unknown model) or a spent budget stops the run cleanly: no new items start,
 * the ones in flight finish.
 *
 * With `batch` set, the calls go through a provider's Batch API instead, one round per algorithm
 * step (see batch-lane.ts): each pass leases every unfinished item and takes it as far as the cache
 * answers it, and the round's misses go out as one batch.
 */
import { randomUUID } from "node:crypto";
import { resolve } from "node:path";
import { SpriError } from "../../base/errors/errors.ts";
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import type { CallRecord } from "../../io/records.ts";
import type { RunStore } from "../store/run-store.ts";
import { type Lease, thisWorker } from "../store/work-queue.ts";
import { Wake } from "../../base/util/wake.ts";
import type { BatchLane, FlushResult } from "./batch-lane.ts";
import { BATCH_PRICE_FACTOR, batchLane, batchRounds, wrapBatchModels } from "./batch-rounds.ts";
import { runArtifactState } from "./batch-state.ts";
import { Completer } from "./completer.ts";
import { countCall, emptySpend, requirePrices } from "./cost.ts";
import { enqueueInput } from "./enqueue.ts";
import { findOrCreateRun } from "./find-run.ts";
import { startLeaseHeartbeat } from "./heartbeat.ts";
import { itemRunner } from "./item-runner.ts";
import { itemsInFlight, wrapModels } from "./model-stack.ts";
import { OutputRole } from "./output-role.ts";
import type { RejectEntry } from "./output-tail.ts";
import { reapDeadLocalWorkers } from "./reap.ts";
import { DEFAULT_LEASE_MS, type RunJobOptions, type RunJobResult, type RunOutcome } from "./run-job-options.ts";
import { snapshot } from "./run-progress.ts";
import { RunSpend } from "./run-spend.ts";
import { COMMAND_ARTIFACT, INVOCATION_ARTIFACT, recordRunEnd } from "./run-state.ts";
import { RunStop } from "./run-stop.ts";
import { RetryWaits } from "./retry-waits.ts";
import { sampledIdentity } from "./samples.ts";
import { UnscoredWatch } from "./unscored-watch.ts";
import { END_POLL_MS, followPolls, WorkLoop } from "./work-loop.ts";

export { BATCH_PRICE_FACTOR } from "./batch-rounds.ts";
export { itemsInFlight, wrapModels } from "./model-stack.ts";
export {
  type BatchRunOptions,
  DEFAULT_LEASE_MS,
  type RunJobOptions,
  type RunJobResult,
  type RunOutcome,
  type StopKind,
} from "./run-job-options.ts";

/**
 * How often the run looks at the store for other workers' progress: a run that holds the output
 * (`--no-work`, or one whose own items are done) writes their finished items and ends within this
 * of the last one.
 */
const POLL_MS = 100;

/** Items this process counted: finished here, found finished, refused (fenced off), for progress and the summary. */
interface Counts {
  done: number;
  failed: number;
  skipped: number;
  refused: number;
}

export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  const { store, prepared } = options;
  // Configuration errors (an unpriced model under a cost budget, batch mode's) come before anything is created or written.
  requirePrices(options.budget, options.prices, [options.models.base, options.models.critic]);
  const lane = options.batch ? batchLane(options, options.batch) : undefined;
  const rejectsPath = options.rejects ?? `${options.output}.rejects.jsonl`;
  const idField = options.mapping.idField ?? "id";
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const pollMs = options.pollMs ?? POLL_MS;

  // 1. The run, and this process as one of its workers (a running run without a live worker is shown as interrupted).
  const run = await findOrCreateRun(options);
  lane?.useStateStore(runArtifactState(store, run.id));
  const workerId = randomUUID();
  await store.registerWorker(thisWorker(workerId, run.id));
  await reapDeadLocalWorkers(store, run.id);
  if (options.command !== undefined) await store.putArtifact(run.id, COMMAND_ARTIFACT, options.command);
  if (options.invocation !== undefined) await store.putArtifact(run.id, INVOCATION_ARTIFACT, options.invocation);

  // 2. Progress, and the output role (or joining the process that holds it).
  const counts: Counts = { done: 0, failed: 0, skipped: 0, refused: 0 };
  let total: number | undefined;
  const startedAt = performance.now();
  const spend = emptySpend();
  const waits = new RetryWaits();
  const progressCounts = () => ({ done: counts.done, failed: counts.failed, skipped: counts.skipped, total });
  const progressNow = () => snapshot(progressCounts(), spend, startedAt, waits.view());
  const report = () => options.progress?.update(progressNow);
  const role = new OutputRole({
    store,
    runId: run.id,
    workerId,
    leaseMs,
    pollMs,
    output: options.output,
    rejects: rejectsPath,
    identity: sampledIdentity(prepared.itemKey ? { field: idField, key: prepared.itemKey } : idField, options.samples ?? 1),
    onAppend: options.work === false ? (status) => (status === "done" ? counts.done++ : counts.failed++, report()) : undefined,
  });
  if (!(await role.claim(true))) {
    options.log?.(`run ${run.id} is held by ${await role.holderName()}, which writes ${options.output}; joining it as a worker`);
  }
  counts.skipped = (await store.itemCounts(run.id)).done;

  // 3. The models: cache, budget, shared rate limits, retries (or the batch lane's collectors).
  const runSpend = new RunSpend(store, run.id, options.budget);
  if (options.work !== false) await runSpend.start();
  const onRetry = (event: { delayMs: number }) => {
    waits.add(event.delayMs);
    report();
  };
  const cachedModels = lane ? wrapBatchModels(options, lane) : undefined;
  const models = cachedModels ?? wrapModels({ ...options, spend: runSpend, onRetry });
  const stop = new RunStop();
  const onOuterAbort = () => stop.cancel("interrupted", "interrupted");
  options.signal?.addEventListener("abort", onOuterAbort);
  // Calls are paid from the run's budget as they are made (BudgetedModel); a batch round's calls, made together, as their answers come.
  const priceFactor = options.batch ? (options.batch.priceFactor ?? (options.batch.offline ? 1 : BATCH_PRICE_FACTOR)) : 1;
  const price = (call: CallRecord): number | undefined => {
    const cost = countCall(spend, call, options.prices, priceFactor);
    const spent = !lane || call.cacheHit ? runSpend.reason() : runSpend.charge(cost ?? 0, call.usage.inputTokens + call.usage.outputTokens);
    if (spent) stop.request(spent, "budget");
    report();
    return cost;
  };

  // 4. Each leased item runs the algorithm and is completed, fenced by its lease, in group commits.
  const wake = new Wake();
  const completer = new Completer(store, workerId, {
    onCompletion: (completion, results) => {
      countCompletions(counts, completion.accepted, results);
      report();
      void role.tail?.catchUp().catch(() => {});
    },
  });
  const unscored = new UnscoredWatch({ warn: (line) => options.log?.(line) });
  const failureKinds = new Map<string, string>();
  const batchPending: Lease[] = [];
  const runItem = itemRunner({
    prepared,
    models: lane && cachedModels ? () => lane.itemModels(cachedModels) : models,
    idField,
    timeoutMs: options.timeoutMs,
    completer,
    cancel: stop.cancelling.signal,
    price,
    onCall: (call, costUsd) => {
      unscored.observe(call);
      options.onCall?.(call, costUsd);
    },
    onFatal: (reason) => stop.cancel(reason, "provider"),
    onBudgetSpent: (reason) => stop.request(reason, "budget"),
    onFailure: (itemId, kind) => {
      if (kind) (role.tail?.kinds ?? failureKinds).set(itemId, kind);
    },
    onBatchPending: (lease) => batchPending.push(lease),
  });

  // 5. The input goes into the store while the first items run.
  let rejectedRows = 0;
  let enqueueDone = false;
  const onReject = (entry: RejectEntry) => {
    counts.failed++;
    rejectedRows++;
    role.reject(entry);
    report();
  };
  await store.updateRun(run.id, { inputComplete: false });
  const enqueuing = enqueueInput({
    store,
    runId: run.id,
    input: options.input,
    prepared,
    mapping: options.mapping,
    keyed: keyedBy(prepared.itemKey, idField),
    samples: options.samples,
    onReject,
    // New items are work for a process that works them; one that only writes the output has
    // nothing to do until items finish (waking it here cost a query per batch while workers start).
    onBatch: options.work === false ? undefined : () => wake.notify(),
    signal: stop.signal,
    limit: options.limit,
    maxItemBytes: options.maxItemBytes,
  }).then(async () => {
    enqueueDone = !stop.signal.aborted;
    if (enqueueDone) {
      await store.updateRun(run.id, { inputComplete: true });
      total = (await store.itemCounts(run.id)).total + rejectedRows;
      report();
    }
    wake.notify();
  });

  // 6. The lease loop, until the run is finished or stopped; the heartbeat keeps the leases and the output role.
  const loop = (idle: () => Promise<boolean>) =>
    new WorkLoop({
      store,
      workerId,
      runId: run.id,
      slots: options.work === false ? 0 : itemsInFlight(options.concurrency),
      leaseMs,
      pollMs: loopPollMs,
      stop: stop.signal,
      wake,
      runItem,
      idle,
    });
  // In the run's last second (by the items this process saw finish, at their pace so far) the output
  // holder looks every END_POLL_MS, for two seconds at most each time the estimate falls that low (a
  // last item stuck in retries must not keep it querying that often), so the last items are written
  // and the run ends soon after they finish; a process that works items also does while it follows
  // others' last items (followPolls). A holder that works none is idle from the start: only the
  // first rule applies to it.
  const follow = followPolls(pollMs);
  let endSince: number | undefined;
  const loopPollMs = (idleMs: number | undefined): number => {
    const eta = enqueueDone && role.tail ? progressNow().etaSeconds : undefined;
    if (eta !== undefined && eta < 1) {
      endSince ??= performance.now();
      if (performance.now() - endSince < 2_000) return Math.min(END_POLL_MS, pollMs);
    } else if (eta === undefined || eta >= 2) endSince = undefined;
    return options.work === false ? pollMs : follow(idleMs);
  };
  /** The run is over when the whole input is queued and nothing is pending. */
  const runFinished = async () => enqueueDone && !(await store.hasPending(run.id));
  let current: WorkLoop | undefined;
  const heartbeat = startLeaseHeartbeat({ store, workerId, leaseMs, loop: () => current, afterBeat: () => role.keep() });
  const finish = async (completed: boolean): Promise<void> => {
    await runSpend.release().catch(() => {});
    await heartbeat.stop();
    if (role.tail) await (completed ? role.tail.commit() : role.tail.close());
  };

  let awaiting: Extract<FlushResult, { kind: "offline" }> | undefined;
  try {
    if (!lane) {
      current = loop(async () => {
        await completer.flush();
        await role.tail?.catchUp();
        // The budget is the run's: workers elsewhere may spend it while this process waits.
        const spent = options.work === false ? await runSpend.probe() : runSpend.reason();
        if (spent) stop.request(spent, "budget");
        return stop.signal.aborted || (await runFinished());
      });
      await current.run();
    } else {
      await enqueuing;
      const pass = async () => {
        current = loop(async () => true);
        await current.run();
        await completer.flush();
        await store.releaseItems(workerId, batchPending.splice(0));
      };
      await batchRounds(
        lane,
        pass,
        stop.signal,
        (reason, kind) => stop.request(reason, kind),
        (result) => (awaiting = result),
      );
    }
    stop.stopping.abort();
    await enqueuing;
    await completer.flush();
  } catch (error) {
    stop.stopping.abort();
    await enqueuing.catch(() => {});
    await completer.flush().catch(() => {});
    await finish(false);
    if (role.tail)
      await recordRunEnd(store, run.id, "failed", error instanceof SpriError ? error.describe() : String(error)).catch(() => {});
    await store.stopWorker(workerId).catch(() => {});
    throw error;
  } finally {
    options.signal?.removeEventListener("abort", onOuterAbort);
  }

  // 7. The whole input was seen and every item finished: the output gets its real name. A stopped run stays partial.
  const finished = !stop.reason && !awaiting && (await runFinished());
  if (finished && !role.tail) await role.awaitHolder(wake, options.signal);
  await finish(finished);
  const outcome: RunOutcome = stop.reason
    ? "stopped"
    : awaiting
      ? "awaiting-batch"
      : counts.failed > 0
        ? "completed-with-failures"
        : "completed";
  // The holder says how the run ended, then lets go of the role (joiners wait for the one or the other).
  if (role.tail) await recordEnd(store, run.id, outcome, stop.reason, rejectsPath);
  await store.stopWorker(workerId);
  options.progress?.finish(progressNow());

  const { refused: _refused, ...reported } = counts;
  const result: RunJobResult = {
    runId: run.id,
    outcome,
    stopReason: stop.reason,
    ...(stop.kind ? { stopKind: stop.kind } : {}),
    ...reported,
    spend,
    output: options.output,
    rejects: rejectsPath,
    rejectSamples: role.rejectSamples(),
    critiques: unscored.counts,
    ...(unscored.summary() === undefined ? {} : { unscored: unscored.summary() }),
  };
  if (lane) result.batch = batchSummary(lane, awaiting);
  return result;
}

/**
 * `PreparedTask.itemKey`: the derived run key becomes the item's id (dedupe, resume, traces), and the
 * row keeps its own id field for the record, from which the key is recomputed to resume.
 */
function keyedBy(itemKey: RunJobOptions["prepared"]["itemKey"], idField: string): (item: TaskItem) => TaskItem {
  return (item) => (itemKey ? { ...item, id: itemKey(item.row, item.id), row: { [idField]: item.id, ...item.row } } : item);
}

function countCompletions(
  counts: Counts,
  accepted: readonly { itemId: string }[],
  results: readonly { itemId: string; status: string }[],
): void {
  const ids = new Set(accepted.map((a) => a.itemId));
  for (const result of results) {
    if (!ids.has(result.itemId)) counts.refused++;
    else if (result.status === "done") counts.done++;
    else counts.failed++;
  }
}

/** The run's status and, unless it completed, why: the viewer and `spri status` show it. */
async function recordEnd(
  store: RunStore,
  runId: string,
  outcome: RunOutcome,
  stopReason: string | undefined,
  rejectsPath: string,
): Promise<void> {
  if (outcome === "completed") return recordRunEnd(store, runId, "completed");
  if (outcome === "stopped") return recordRunEnd(store, runId, "stopped", stopReason ?? "stopped");
  if (outcome === "awaiting-batch") {
    return recordRunEnd(
      store,
      runId,
      "stopped",
      "an offline batch round waits to be run: run it, then this command again with --batch-results",
    );
  }
  const { failed, total } = await store.itemCounts(runId);
  const reason = `${failed} of ${total} items failed; their reasons are in ${resolve(rejectsPath)}; running the command again retries them`;
  return recordRunEnd(store, runId, "failed", reason);
}

function batchSummary(lane: BatchLane, awaiting: Extract<FlushResult, { kind: "offline" }> | undefined): RunJobResult["batch"] {
  return { dir: lane.dir, rounds: lane.roundsRun, ...(awaiting ? { awaiting } : {}) };
}
