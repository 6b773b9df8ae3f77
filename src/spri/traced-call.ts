/** One model call, recorded. Every call SPRI makes goes through here so the trace is complete. */
import type { CallRecord } from "../io/records.ts";
import type { ChatMessage, GenerateResult, LanguageModel, OutputSchema, SamplingOptions } from "../models/language-model.ts";

export interface CallContext {
  itemId: string;
  runId?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Receives each record as soon as its call ends, for progress displays and stores. */
  onCall?: (record: CallRecord) => void;
}

export interface TracedCallSpec {
  model: LanguageModel;
  role: CallRecord["role"];
  step: string;
  iteration: number;
  attempt?: number;
  messages: ChatMessage[];
  sampling: SamplingOptions;
  schema?: OutputSchema;
  /**
   * Reads the parsed value (score, verdict) from the raw answer. It runs before the record is
   * traced, so every observer (progress, stores) sees the record complete.
   */
  parse?: (text: string) => CallRecord["parsed"];
}

export async function tracedCall(
  context: CallContext,
  trace: CallRecord[],
  spec: TracedCallSpec,
): Promise<{ result: GenerateResult; record: CallRecord }> {
  const startedAt = new Date().toISOString();
  // A request identical to an earlier one of this item is a deliberate repeat (a critic re-asked, a
  // self-refine feedback prompt that recurs, a refinement that reproduced an earlier text): it asks
  // for a new sample, so a call cache must not answer it with the earlier one.
  const fingerprint = JSON.stringify(spec.messages);
  const sampleIndex = trace.filter((r) => r.endpoint === spec.model.id && fingerprintOf(r) === fingerprint).length;
  const base = {
    runId: context.runId,
    itemId: context.itemId,
    step: spec.step,
    iteration: spec.iteration,
    attempt: spec.attempt ?? 0,
    role: spec.role,
    model: spec.model.modelId,
    endpoint: spec.model.id,
    request: { messages: spec.messages, sampling: spec.sampling, schema: spec.schema?.name },
    cacheHit: false,
    startedAt,
  };
  try {
    const result = await spec.model.generate({
      messages: spec.messages,
      sampling: spec.sampling,
      schema: spec.schema,
      signal: context.signal,
      timeoutMs: context.timeoutMs,
      sampleIndex,
    });
    const record: CallRecord = {
      ...base,
      response: result.text,
      usage: result.usage,
      latencyMs: result.latencyMs,
      finishReason: result.finishReason,
      cacheHit: result.cached ?? false,
    };
    if (spec.parse) record.parsed = spec.parse(result.text);
    trace.push(record);
    context.onCall?.(record);
    return { result, record };
  } catch (error) {
    const record: CallRecord = {
      ...base,
      response: null,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: 0,
      error: error instanceof Error ? error.message : String(error),
    };
    trace.push(record);
    context.onCall?.(record);
    throw error;
  }
}

const fingerprints = new WeakMap<CallRecord, string>();

/** The messages of a traced call as one string, computed once per record. */
function fingerprintOf(record: CallRecord): string {
  let value = fingerprints.get(record);
  if (value === undefined) {
    value = JSON.stringify(record.request.messages);
    fingerprints.set(record, value);
  }
  return value;
}
