/**
 * What a run is known by: the one definition. The same command (task, the settings that change the
 * outputs, field mapping, samples, the algorithm's own identity, input and output) finds the same
 * run and resumes it; settings of speed, budget and display do not count, so changing them resumes
 * rather than starts over. The key must stay stable across versions: a store made by an earlier
 * spri must find its runs (run-identity.test.ts holds two keys made before this file).
 */
import { runKey } from "../store/run-store.ts";
import type { FieldMapping } from "../../presets/tasks/task-item.ts";

/** Settings that change how fast, how far or how visibly a run goes, never what it writes. */
const NOT_IDENTITY: readonly string[] = [
  "concurrency",
  "timeout",
  "maxResponseMib",
  "cache",
  "store",
  "rejects",
  "maxTries",
  "retryDelay",
  "maxRetryWait",
  "progressInterval",
  "maxCost",
  "maxTokens",
  "prices",
  "rpm",
  "tpm",
];

/** `settings` less those of speed, budget and display (NOT_IDENTITY): what shapes the outputs. */
export function withoutRunControls(settings: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const kept: Record<string, unknown> = { ...settings };
  for (const name of NOT_IDENTITY) delete kept[name];
  return kept;
}

/**
 * The settings a run is known by, and stores: `settings` (already redacted: no credentials) less
 * NOT_IDENTITY, with the field mapping. One sample per item is how every run was before
 * `--samples`, so `samples: 1` is left out and such runs keep their keys.
 */
export function identitySettings(settings: Readonly<Record<string, unknown>>, mapping: FieldMapping): Record<string, unknown> {
  const identity = withoutRunControls(settings);
  if (identity.samples === 1) delete identity.samples;
  return { ...identity, mapping };
}

export interface RunIdentity {
  task: string;
  /** identitySettings(...), or what a library caller chose to identify its run by. */
  settings: Record<string, unknown>;
  /** Samples per item; one (the default) leaves the key as it was before `--samples`. */
  samples?: number;
  /** What the prepared algorithm adds (PreparedTask.identity). */
  algorithm?: Record<string, unknown>;
  input: string;
  output: string;
}

/** The run's key (store/run-store.ts's runKey over the identity). */
export function runKeyOf(identity: RunIdentity): string {
  const samples = (identity.samples ?? 1) > 1 ? { samples: identity.samples } : {};
  return runKey({
    task: identity.task,
    settings: { ...identity.settings, ...samples, algorithm: identity.algorithm ?? {} },
    inputPath: identity.input,
    outputPath: identity.output,
  });
}
