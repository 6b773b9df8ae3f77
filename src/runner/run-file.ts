/**
 * `spri run`: every input item through SPRI, one output record per item (the input's fields, then
 * the SPRI fields). Items run `concurrency` at a time; records are written in input order.
 */
import type { CallRecord, ItemRecord } from "../io/records.ts";
import { readInputRows } from "../io/input-reader.ts";
import { JsonlOutput } from "../io/jsonl-output.ts";
import type { SpriModels } from "../spri/spri.ts";
import type { PreparedTask } from "../tasks/prepare.ts";
import { type FieldMapping, type TaskItem, toTaskItem } from "../tasks/task-item.ts";
import { runInOrder } from "./run-items.ts";

export interface RunFileOptions {
  input: string;
  output: string;
  prepared: PreparedTask;
  models: SpriModels;
  mapping: FieldMapping;
  concurrency: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  onCall?: (call: CallRecord) => void;
  onItem?: (record: ItemRecord, item: TaskItem) => void;
}

export interface RunFileSummary {
  items: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
}

export async function runFile(options: RunFileOptions): Promise<RunFileSummary> {
  const { prepared, models } = options;
  const output = new JsonlOutput(options.output);
  const summary: RunFileSummary = { items: 0, calls: 0, inputTokens: 0, outputTokens: 0 };

  async function* items(): AsyncGenerator<TaskItem> {
    for await (const row of readInputRows(options.input)) {
      yield toTaskItem(prepared.task, row.value, options.mapping, { file: options.input, line: row.line });
    }
  }

  try {
    await runInOrder(items(), {
      concurrency: options.concurrency,
      work: (item) =>
        prepared.algorithm.run(item, models, {
          itemId: item.id,
          signal: options.signal,
          timeoutMs: options.timeoutMs,
          onCall: options.onCall,
        }),
      onResult: async (result, item) => {
        const record: ItemRecord = { ...item.row, ...result.fields };
        await output.write(record);
        summary.items++;
        for (const call of result.calls) {
          summary.calls++;
          summary.inputTokens += call.usage.inputTokens;
          summary.outputTokens += call.usage.outputTokens;
        }
        options.onItem?.(record, item);
      },
    });
  } catch (error) {
    await output.close();
    throw error;
  }
  await output.commit();
  return summary;
}
