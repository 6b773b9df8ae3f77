/**
 * The batch port: what `spri run --batch` needs of a provider's batch service, and all the runner's
 * batch lane knows of one. A provider brings two parts, chosen by the CLI and injected:
 * - a `BatchFormat`: how a request becomes a line of a request file, how many lines and bytes a
 *   file may hold, and how the lines of an output or error file read back. Offline (`vllm
 *   run-batch`) the format is all there is.
 * - a `BatchApi` per model: the service that takes a request file and answers it later.
 * The OpenAI Batch API and its JSONL files (which vLLM reads and writes too) are openai-batch.ts.
 */
import type { ModelError } from "../base/errors/errors.ts";
import type { GenerateResult } from "./language-model.ts";

/** One line of an output or error file: the answer to the request whose cache key is `customId`, or its error. */
export type BatchLineResult =
  | { customId: string; ok: true; result: GenerateResult }
  | {
      customId: string;
      ok: false;
      error: ModelError;
      /** The line was never run (expired or cancelled batch): ask again. */
      notRun: boolean;
    };

export interface BatchFormat {
  /** The most request lines one file may hold. */
  readonly maxLines: number;
  /** The most bytes one file may hold. */
  readonly maxBytes: number;
  /** The request line (no newline) that asks `body`, answered under `customId`. */
  requestLine(customId: string, body: Record<string, unknown>): string;
  /** The `customId` of a line `requestLine` wrote; undefined for a line it cannot read. */
  requestKeyOf(line: string): string | undefined;
  /**
   * The lines of an output or error file. `where` names the file in errors (a malformed line is an
   * InputError with its line number); `endpoint` goes into each line's ModelError.
   */
  parseResults(text: string, where: string, endpoint?: string): BatchLineResult[];
}

export type BatchStatus = "validating" | "failed" | "in_progress" | "finalizing" | "completed" | "expired" | "cancelling" | "cancelled";
/** Statuses a batch never leaves. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "expired", "cancelled"]);

export interface BatchInfo {
  id: string;
  status: BatchStatus;
  inputFileId: string;
  outputFileId?: string;
  errorFileId?: string;
  /** Why a batch failed as a whole (validation), one line per error. */
  errors: string[];
  counts?: { total: number; completed: number; failed: number };
}

/** A provider's batch service, for the models it serves. */
export interface BatchApi {
  /** Where batches go, for messages (no key). */
  readonly endpoint: string;
  uploadFile(path: string, signal?: AbortSignal): Promise<string>;
  createBatch(inputFileId: string, metadata: Record<string, string>, signal?: AbortSignal): Promise<BatchInfo>;
  retrieveBatch(batchId: string, signal?: AbortSignal): Promise<BatchInfo>;
  /** A batch made from this input file, if one exists (a crash between create and saving its id). */
  findBatchByInputFile(inputFileId: string, signal?: AbortSignal): Promise<BatchInfo | undefined>;
  fileContent(fileId: string, signal?: AbortSignal): Promise<string>;
}
