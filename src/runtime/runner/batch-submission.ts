/**
 * One part of a batch round on its provider's Batch API (see batch-lane.ts): `submitPart` uploads
 * its request file and creates the batch, or finds the batch an earlier process already made from
 * the same upload; `settlePart` polls the batch with backoff until it ends and imports its answers
 * into the cache. The part's state is saved after every step, and the next step begins only once
 * the save is done, so a re-run polls a submitted batch again instead of submitting it twice.
 */
import { join } from "node:path";
import { ModelError } from "../../base/errors/errors.ts";
import { type BatchApi, type BatchFormat, type BatchInfo, type BatchLineResult, TERMINAL_STATUSES } from "../../models/batch-provider.ts";
import type { BatchAnswers } from "./batch-answers.ts";
import type { PartState } from "./batch-state.ts";

/** A part of a round and what handling it needs. */
export interface PartContext {
  round: number;
  part: PartState;
  api: BatchApi;
  format: BatchFormat;
  answers: BatchAnswers;
  /** The folder of the part's request file. */
  dir: string;
  /** Saves the lane's state (the part's included). */
  save(): Promise<void>;
  log(line: string): void;
  /** Seconds before the first poll; later polls back off up to 10 times this. Default 30. */
  pollSeconds?: number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Uploads the part's file (unless an earlier process did) and creates its batch (unless one was made from that upload). */
export async function submitPart(context: PartContext, signal?: AbortSignal): Promise<void> {
  const { round, part, api } = context;
  if (part.inputFileId && !part.batchId) {
    const existing = await api.findBatchByInputFile(part.inputFileId, signal);
    if (existing) {
      context.log(`batch round ${round}: found batch ${existing.id} already made from ${part.inputFileId}`);
      Object.assign(part, { batchId: existing.id, status: existing.status });
      await context.save();
      return;
    }
  }
  if (!part.inputFileId) {
    part.inputFileId = await api.uploadFile(join(context.dir, part.file), signal);
    part.status = "uploaded";
    await context.save();
  }
  const batch = await api.createBatch(part.inputFileId, { spri_round: String(round), spri_file: part.file }, signal);
  Object.assign(part, { batchId: batch.id, status: batch.status });
  await context.save();
  context.log(`batch round ${round}: submitted ${part.lines} request(s) for ${part.model} as ${batch.id}`);
}

/** Polls the part's batch until it ends, then imports its answers. */
export async function settlePart(context: PartContext, signal?: AbortSignal): Promise<{ answered: number; failed: number }> {
  const { round, part, api } = context;
  const batch = await pollUntilEnded(context, signal);
  part.outputFileId = batch.outputFileId;
  part.errorFileId = batch.errorFileId;
  if (batch.status === "failed") {
    Object.assign(part, { imported: true, answered: 0, failed: 0 });
    await context.save();
    throw new ModelError(`batch ${batch.id} (round ${round}, ${part.file}) failed: ${batch.errors.join("; ") || "no reason given"}`, {
      kind: "bad-request",
      endpoint: api.endpoint,
      hint: `fix the cause and re-run the same command: round ${round} is submitted again`,
    });
  }
  const results: BatchLineResult[] = [];
  for (const fileId of [batch.outputFileId, batch.errorFileId]) {
    if (fileId)
      results.push(...context.format.parseResults(await api.fileContent(fileId, signal), `${api.endpoint}/files/${fileId}`, api.endpoint));
  }
  const counts = await context.answers.import(results, () => part);
  if (batch.status === "completed" && results.length === 0 && part.lines > 0) {
    throw new ModelError(`batch ${batch.id} (round ${round}) completed without any result for its ${part.lines} request(s)`, {
      kind: "bad-response",
      endpoint: api.endpoint,
    });
  }
  Object.assign(part, { imported: true, ...counts });
  await context.save();
  return counts;
}

/** The batch once it reached a terminal status; every status change is saved and logged on the way. */
async function pollUntilEnded(context: PartContext, signal?: AbortSignal): Promise<BatchInfo> {
  const { round, part, api } = context;
  const first = Math.max(0, (context.pollSeconds ?? 30) * 1000);
  const cap = Math.max(first, first * 10);
  let delay = first;
  for (;;) {
    const batch = await api.retrieveBatch(part.batchId!, signal);
    if (batch.status !== part.status) {
      part.status = batch.status;
      await context.save();
      const counts = batch.counts ? ` (${batch.counts.completed + batch.counts.failed}/${batch.counts.total})` : "";
      context.log(`batch round ${round}: ${batch.id} ${batch.status}${counts}`);
    }
    if (TERMINAL_STATUSES.has(batch.status)) return batch;
    await (context.sleep ?? sleep)(delay, signal);
    delay = Math.min(cap, delay * 1.5);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
