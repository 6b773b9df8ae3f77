/**
 * `--samples N`: N independent runs of the algorithm per input item. Each (item, sample) is an item
 * of the run's work queue of its own, so leasing, fencing, resume and the output's exactly-once hold
 * for it as for any item, whichever process works it. Its run id is the item's for sample 0 (so
 * sample 0 is the item's one sample of a run without `--samples`, and finds its cached answers) and
 * `<id>#<sample>` after; its record carries the sample in `spri_sample`, from which the run id is
 * recomputed on resume.
 */
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import type { RecordIdentity } from "../../io/record-output.ts";

export const SAMPLE_FIELD = "spri_sample";

/** `--samples` checked: a whole number of runs per item, at least 1. */
export function sampleCount(value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`--samples must be a whole number of runs per item, at least 1; got ${value}`, {
      field: "samples",
      hint: "leave it out for one run per item",
    });
  }
  return value;
}

/** The run id of an item's `sample`-th run. */
export function sampleItemId(itemId: string, sample: number | undefined): string {
  return sample === undefined || sample === 0 ? itemId : `${itemId}#${sample}`;
}

/** The item's runs as queued: the item itself for one sample, else one copy per sample, numbered. */
export function itemSamples(item: TaskItem, samples: number): TaskItem[] {
  if (samples === 1) return [item];
  return Array.from({ length: samples }, (_, sample) => ({ ...item, sample }));
}

/** How output records are told apart: by id (or key), and by sample when there are several. */
export function sampledIdentity(identity: RecordIdentity, samples: number): RecordIdentity {
  if (samples === 1) return identity;
  const field = typeof identity === "string" ? identity : identity.field;
  const key = typeof identity === "string" ? (_record: Readonly<Record<string, unknown>>, id: string) => id : identity.key;
  return {
    field,
    key: (record, id) => {
      const sample = record[SAMPLE_FIELD];
      return sampleItemId(key(record, id), typeof sample === "number" ? sample : undefined);
    },
  };
}
