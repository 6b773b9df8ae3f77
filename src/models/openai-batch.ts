/**
 * The OpenAI Batch API, as `spri run --batch` uses it: request lines, result lines, and a small
 * client (the official `openai` SDK) for the Files and Batches endpoints.
 *
 * Files are the OpenAI batch JSONL formats, which `vllm run-batch` reads and writes too:
 *
 *   request: {"custom_id": "<cache key>", "method": "POST", "url": "/v1/chat/completions", "body": {...}}
 *   result:  {"id": "...", "custom_id": "<cache key>", "response": {"status_code": 200, "request_id": "...",
 *             "body": <chat completion>}, "error": null}
 *
 * `body` is exactly what `OpenAICompatibleModel.requestBody` builds for the online call. A result
 * line fails when it carries an `error` (an object on OpenAI, a string on vLLM), a non-2xx status,
 * or a body without message content.
 */
import { createReadStream } from "node:fs";
import type OpenAI from "openai";
import { InputError, ModelError, type ModelErrorKind } from "../base/errors/errors.ts";
import type { BatchApi, BatchFormat, BatchInfo, BatchLineResult } from "./batch-provider.ts";
import { kindOfAnswer } from "./error-kinds.ts";
import { scrub } from "./http-helpers.ts";
import { finishReason } from "./openai-completion.ts";
import { OpenAISdkClient, type OpenAISdkOptions } from "./openai-sdk-client.ts";

export const BATCH_URL = "/v1/chat/completions";
/** OpenAI's limits per input file: 50,000 requests and 200 MB (we stay under the latter). */
export const MAX_BATCH_LINES = 50_000;
export const MAX_BATCH_BYTES = 190 * 1024 * 1024;

export interface BatchRequestLine {
  custom_id: string;
  method: "POST";
  url: typeof BATCH_URL;
  body: Record<string, unknown>;
}

export function batchRequestLine(customId: string, body: Record<string, unknown>): BatchRequestLine {
  return { custom_id: customId, method: "POST", url: BATCH_URL, body };
}

/** The OpenAI batch JSONL files (OpenAI's Batch API and `vllm run-batch`), as the batch lane writes and reads them. */
export const OPENAI_BATCH_FORMAT: BatchFormat = {
  maxLines: MAX_BATCH_LINES,
  maxBytes: MAX_BATCH_BYTES,
  requestLine: (customId, body) => JSON.stringify(batchRequestLine(customId, body)),
  requestKeyOf: batchRequestKey,
  parseResults: (text, where, endpoint) => parseBatchResults(text, where, endpoint),
};

/** The custom_id of a request line; undefined when the line is not JSON or has none. */
export function batchRequestKey(line: string): string | undefined {
  // Lines `batchRequestLine` wrote start with their custom_id (a cache key); parse anything else.
  const head = /^\{"custom_id":"([0-9a-f]+)"/.exec(line);
  if (head) return head[1]!;
  try {
    const id = (JSON.parse(line) as { custom_id?: unknown }).custom_id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Error codes of lines a batch never ran; their requests go into the next round. */
const NOT_RUN = new Set(["batch_expired", "batch_cancelled"]);

/**
 * Parses a batch output or error file (OpenAI or vLLM). Blank lines are skipped; a line that is
 * not JSON or has no `custom_id` is an InputError naming the file and line.
 */
export function parseBatchResults(text: string, where: string, endpoint = where): BatchLineResult[] {
  const results: BatchLineResult[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new InputError(`not a JSON line: ${(error as Error).message}`, {
        file: where,
        line: i + 1,
        hint: "give the output file of the batch (OpenAI batch output JSONL)",
      });
    }
    const record = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    if (typeof record.custom_id !== "string" || record.custom_id === "") {
      throw new InputError("batch result line without a custom_id", {
        file: where,
        line: i + 1,
        hint: "give the output file of the batch (OpenAI batch output JSONL)",
      });
    }
    results.push(parseResultLine(record.custom_id, record, endpoint));
  }
  return results;
}

function parseResultLine(customId: string, record: Record<string, unknown>, endpoint: string): BatchLineResult {
  const response = (record.response ?? undefined) as { status_code?: number; body?: unknown } | undefined;
  const status = typeof response?.status_code === "number" ? response.status_code : undefined;
  const body = (response?.body ?? undefined) as Record<string, unknown> | undefined;
  const fail = (message: string, kind: ModelErrorKind, code?: string): BatchLineResult => ({
    customId,
    ok: false,
    notRun: code !== undefined && NOT_RUN.has(code),
    error: new ModelError(`batch request failed${status === undefined ? "" : ` (${status})`}: ${scrub(message)}`, {
      kind,
      status,
      endpoint,
    }),
  });

  const lineError = record.error;
  if (lineError !== undefined && lineError !== null && (status === undefined || status < 200 || status >= 300)) {
    if (typeof lineError === "string") return fail(lineError, kindOf(status, lineError));
    const { message: said, code: saidCode } = lineError as { message?: unknown; code?: unknown };
    const message = typeof said === "string" ? said : JSON.stringify(lineError);
    const code = typeof saidCode === "string" ? saidCode : undefined;
    return fail(message, kindOf(status, message, code), code);
  }
  if (status === undefined || status < 200 || status >= 300) {
    const error = (body?.error ?? undefined) as { message?: unknown; code?: unknown } | undefined;
    const message = typeof error?.message === "string" ? error.message : status === undefined ? "no response" : `status ${status}`;
    const code = typeof error?.code === "string" ? error.code : undefined;
    return fail(message, kindOf(status, message, code), code);
  }
  const choices = body?.choices as { message?: { content?: unknown }; finish_reason?: string | null }[] | undefined;
  const choice = choices?.[0];
  if (!choice || typeof choice.message?.content !== "string") return fail("answered without message content", "bad-response");
  const usage = (body?.usage ?? {}) as { prompt_tokens?: number; completion_tokens?: number };
  return {
    customId,
    ok: true,
    result: {
      text: choice.message.content,
      finishReason: finishReason(choice.finish_reason),
      usage: { inputTokens: usage.prompt_tokens ?? 0, outputTokens: usage.completion_tokens ?? 0 },
      // A batch has no per-request latency worth recording.
      latencyMs: 0,
      model: typeof body?.model === "string" ? body.model : "",
    },
  };
}

/** A line the batch refused without any status (expired, cancelled, invalid) was never the server's to answer. */
function kindOf(status: number | undefined, detail: string, code?: string): ModelErrorKind {
  return status === undefined ? "bad-request" : kindOfAnswer({ status, code, detail });
}

export type OpenAIBatchApiOptions = OpenAISdkOptions;

/** How many batches `findBatchByInputFile` looks through, newest first. */
const FIND_LIMIT = 1000;

export class OpenAIBatchApi implements BatchApi {
  readonly endpoint: string;
  private readonly sdk: OpenAISdkClient;

  constructor(options: OpenAIBatchApiOptions = {}) {
    this.sdk = new OpenAISdkClient(options, {
      feature: "the OpenAI Batch API (--batch)",
      installHint: "or write the batch files for `vllm run-batch` with --batch-offline",
      errorHint: (kind) =>
        kind === "not-found"
          ? "this server has no Batch API (vLLM's server has none): use --batch-offline and run the files with `vllm run-batch`"
          : kind === "auth"
            ? "check the API key (OPENAI_API_KEY) and that it may use the Batch API"
            : undefined,
    });
    this.endpoint = this.sdk.endpoint;
  }

  async uploadFile(path: string, signal?: AbortSignal): Promise<string> {
    const file = await this.sdk.call("upload a batch file", (client) =>
      client.files.create({ file: createReadStream(path), purpose: "batch" }, { signal }),
    );
    return file.id;
  }

  async createBatch(inputFileId: string, metadata: Record<string, string>, signal?: AbortSignal): Promise<BatchInfo> {
    const batch = await this.sdk.call("create a batch", (client) =>
      client.batches.create({ input_file_id: inputFileId, endpoint: BATCH_URL, completion_window: "24h", metadata }, { signal }),
    );
    return info(batch);
  }

  async retrieveBatch(batchId: string, signal?: AbortSignal): Promise<BatchInfo> {
    return info(await this.sdk.call(`read batch ${batchId}`, (client) => client.batches.retrieve(batchId, { signal })));
  }

  async findBatchByInputFile(inputFileId: string, signal?: AbortSignal): Promise<BatchInfo | undefined> {
    return this.sdk.call("list batches", async (client) => {
      let seen = 0;
      for await (const batch of client.batches.list({ limit: 100 }, { signal })) {
        if (batch.input_file_id === inputFileId) return info(batch);
        if (++seen >= FIND_LIMIT) break;
      }
      return undefined;
    });
  }

  async fileContent(fileId: string, signal?: AbortSignal): Promise<string> {
    return this.sdk.call(`download file ${fileId}`, async (client) => {
      const response = await client.files.content(fileId, { signal });
      return response.text();
    });
  }
}

function info(batch: OpenAI.Batches.Batch): BatchInfo {
  const out: BatchInfo = {
    id: batch.id,
    status: batch.status,
    inputFileId: batch.input_file_id,
    errors: (batch.errors?.data ?? []).map((e) =>
      [e.line === undefined || e.line === null ? undefined : `line ${e.line}`, e.code, e.message].filter(Boolean).join(": "),
    ),
  };
  if (batch.output_file_id) out.outputFileId = batch.output_file_id;
  if (batch.error_file_id) out.errorFileId = batch.error_file_id;
  if (batch.request_counts) out.counts = { ...batch.request_counts };
  return out;
}
