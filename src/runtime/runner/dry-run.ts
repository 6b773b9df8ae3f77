/**
 * `spri run --dry-run`: what a run would cost before anything is spent. It streams the input, skips
 * items the output already holds, and prices the calls with rough token counts (4 characters per
 * token; prompts grow as drafts and critiques are embedded, outputs are assumed to fill a quarter
 * of the new-token limit). An estimate, stated as min / expected / max.
 */
import type { CallEstimate, SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import { InputError } from "../../base/errors/errors.ts";
import { readInputRows } from "../../io/input-reader.ts";
import { RecordOutput } from "../../io/record-output.ts";
import type { LanguageModel } from "../../models/language-model.ts";
import type { PreparedTask } from "../../presets/tasks/prepare.ts";
import { checkItemSize, DEFAULT_MAX_ITEM_BYTES } from "../../presets/tasks/item-size.ts";
import { taskSteps } from "../../presets/tasks/spri-task.ts";
import { type FieldMapping, toTaskItem } from "../../presets/tasks/task-item.ts";
import type { PriceTable } from "./cost.ts";
import { sampledIdentity, sampleItemId } from "./samples.ts";

export interface DryRunEstimate {
  /** Runs of the algorithm to make: an item counts once per sample (`--samples`). */
  items: number;
  alreadyDone: number;
  invalid: number;
  calls: { min: number; expected: number; max: number };
  tokens: { input: number; output: number };
  /** USD; null when a model has no known price. */
  costUsd: { min: number; expected: number; max: number } | null;
}

const CHARS_PER_TOKEN = 4;

export async function dryRun(options: {
  input: string;
  output: string;
  prepared: PreparedTask;
  models: Pick<SpriModels, "base" | "critic">;
  mapping: FieldMapping;
  /** Runs per item (`--samples`); default 1. */
  samples?: number;
  maxNewTokens: number;
  prices: PriceTable;
  /** As the run reads its input: the first `limit` rows, items of at most `maxItemBytes`. */
  limit?: number;
  maxItemBytes?: number;
}): Promise<DryRunEstimate> {
  const idField = options.mapping.idField ?? "id";
  const { itemKey } = options.prepared;
  const samples = options.samples ?? 1;
  const done = await RecordOutput.readDone(options.output, sampledIdentity(itemKey ? { field: idField, key: itemKey } : idField, samples));
  const calls: CallEstimate = options.prepared.algorithm.calls ?? { min: 1, expected: 1, max: 1, criticShare: 0 };
  let items = 0;
  let alreadyDone = 0;
  let invalid = 0;
  let promptTokens = 0;
  let rows = 0;
  for await (const row of readInputRows(options.input, { onMalformed: "yield" })) {
    if (rows++ === options.limit) break;
    if ("error" in row && row.error) {
      invalid++;
      continue;
    }
    try {
      const origin = { file: options.input, line: row.line };
      const item = toTaskItem(options.prepared.task, row.value, options.mapping, origin);
      const key = itemKey ? itemKey(item.row, item.id) : item.id;
      let todo = 0;
      for (let sample = 0; sample < samples; sample++) {
        if (done.has(sampleItemId(key, sample))) alreadyDone++;
        else todo++;
      }
      if (todo === 0) continue;
      checkItemSize(item, options.maxItemBytes ?? DEFAULT_MAX_ITEM_BYTES, origin);
      items += todo;
      const first = options.prepared.algorithm.name.startsWith("spri/")
        ? taskSteps(item, options.prepared.taskOptions).principleDraft()
        : [{ content: item.question }];
      promptTokens += (todo * first.reduce((n, m) => n + m.content.length, 0)) / CHARS_PER_TOKEN;
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      invalid++;
    }
  }
  const outputPerCall = options.maxNewTokens / 4;
  // Later calls embed earlier outputs: on average one more output's worth of prompt per call.
  const inputPerCall = items === 0 ? 0 : promptTokens / items + outputPerCall;
  const scale = (n: number) => Math.round(n * items);
  const estimate = { min: scale(calls.min), expected: scale(calls.expected), max: scale(calls.max) };
  const tokens = { input: Math.round(estimate.expected * inputPerCall), output: Math.round(estimate.expected * outputPerCall) };
  const costOf = (n: number): number | null => {
    const share = (model: LanguageModel, fraction: number) =>
      options.prices.cost(model.modelId, model.id, {
        inputTokens: n * fraction * inputPerCall,
        outputTokens: n * fraction * outputPerCall,
      });
    const base = share(options.models.base, 1 - calls.criticShare);
    const critic = calls.criticShare > 0 ? share(options.models.critic, calls.criticShare) : 0;
    return base === undefined || critic === undefined ? null : base + critic;
  };
  const min = costOf(estimate.min);
  const expected = costOf(estimate.expected);
  const max = costOf(estimate.max);
  return {
    items,
    alreadyDone,
    invalid,
    calls: estimate,
    tokens,
    costUsd: min === null || expected === null || max === null ? null : { min, expected, max },
  };
}
