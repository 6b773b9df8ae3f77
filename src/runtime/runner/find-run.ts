import { resolve } from "node:path";
import type { RunMeta } from "../store/run-store.ts";
import { claimOutputFile } from "./output-owner.ts";
import type { RunJobOptions } from "./run-job-options.ts";
import { runKeyOf } from "./run-identity.ts";

/**
 * The run this command resumes (same task, settings, input and output), or a new one; never one whose
 * output file holds another run's records (output-owner.ts). Commands that
 * start together must find one run, not make two: the first run of a key gets an id derived from the
 * key, so a second creator fails to create it and finds it instead.
 */
export async function findOrCreateRun(options: RunJobOptions): Promise<RunMeta> {
  const { store, prepared } = options;
  const key = runKeyOf({
    task: prepared.algorithm.name,
    settings: options.runSettings,
    samples: options.samples,
    algorithm: prepared.identity,
    input: options.input,
    output: options.output,
  });
  const found = await store.findRunByKey(key);
  await claimOutputFile({
    store,
    output: options.output,
    runId: found?.id,
    task: prepared.algorithm.name,
    input: options.input,
    settings: options.runSettings,
    newRun: options.newRun,
  });
  if (found) return found;
  try {
    return await store.createRun({
      id: idOfKey(key),
      key,
      task: prepared.algorithm.name,
      settings: options.runSettings,
      inputPath: resolve(options.input),
      outputPath: resolve(options.output),
      baseModel: options.models.base.id,
      criticModel: options.models.critic.id,
    });
  } catch (error) {
    const raced = await store.findRunByKey(key);
    if (raced) return raced;
    throw error;
  }
}

/** A UUID-shaped id from a run key (a sha256 in hex). */
function idOfKey(key: string): string {
  const hex = key.replace(/[^0-9a-f]/g, "").padEnd(32, "0");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
