/**
 * The one way an algorithm calls a model. Every call of every item algorithm goes through
 * `ModelCaller.call`, which
 * - builds the request: the messages, the sampling (compat `gptSampling`, the item's seed under
 *   `sampleKey`, only the fields the model honours: `capabilities.sampling`), a schema only for
 *   models that can enforce one, and the call's `sampleIndex`;
 * - calls the model with the item's abort signal and timeout;
 * - records one `CallRecord` on `calls`, with the parsed value attached before `context.onCall` (or
 *   any other observer) sees it, also when the call fails (then it rethrows), unless the run's
 *   budget refused it (`BudgetError`: it was never made);
 * - returns the answer raw and cleaned (compat `outputStrip`).
 *
 * Draws: above temperature 0 (or with no temperature: the API default is 1) every call an item makes
 * is a draw of its own. Its `sampleIndex` starts at a base derived from the item's id and sample
 * (`--samples`), so a call cache never answers one item with another item's draw, however alike their
 * requests, while a resumed item, which makes the same calls in the same order, finds its own. At
 * temperature 0 identical requests may share an answer, so there the index starts at 0.
 *
 * Deliberate repeats: a request identical to an earlier one of the item (a critic re-asked, a
 * self-refine feedback prompt that recurs, a refinement that reproduced an earlier text) asks for a
 * new sample, so it gets the next `sampleIndex` and a call cache does not answer it with the earlier
 * one.
 *
 * Repeats are counted against the caller's `calls`, so an item's calls share one caller and its
 * `calls` are the item's trace. (`judgePair` makes a caller per pair; mining appends each pair's
 * calls to its own trace afterwards.)
 */
import { BudgetError, ModelError } from "../../base/errors/errors.ts";
import type { CallRecord } from "../../io/records.ts";
import {
  type ChatMessage,
  callLogLikelihood,
  honouredSampling,
  type LanguageModel,
  type LogLikelihoodResult,
  type OutputSchema,
  type SamplingOptions,
} from "../../models/language-model.ts";
import { messagesJson } from "../../models/messages-json.ts";
import { hash32 } from "../../base/util/hash.ts";
import { pyStrip, pythonClean, saneClean } from "../../base/util/python.ts";
import { messageOf } from "../../base/util/message-of.ts";

/** What the runner gives an item's calls. */
export interface CallContext {
  itemId: string;
  /**
   * Which of the item's independent runs this is (`--samples`), from 0; absent is 0. Each sample's
   * draws are its own, and a seed the user gave goes as given to sample 0 only: later samples send
   * seeds derived from it, so a seeded backend draws them anew (and reproducibly).
   */
  sample?: number;
  runId?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Receives each record as soon as its call ends, for progress displays and stores. */
  onCall?: (record: CallRecord) => void;
  /**
   * Gives every call of the item, at any temperature, a sample namespace of its own: sample indices
   * start at a base derived from this key, and every sampling seed is derived from it. For items
   * that send identical requests yet must each be their own sample even at temperature 0
   * (`spri judge`: the rows judging different responses to one instance send the same rubric
   * prompt); a resumed item still finds its own samples.
   */
  sampleKey?: string;
}

/** The compat switches (spri/compat.ts, docs/compat.md) that decide how a call is made and read. */
export interface CallCompat {
  /** `python` = the reference's `strip("\n#").strip()`; `sane` strips whitespace and `#` at both ends. */
  outputStrip: "sane" | "python";
  /**
   * `api-defaults`: base-model calls to GPT models (`isGptModel`) carry no sampling parameters (API
   * defaults: T=1, top_p=1), as the reference sent them; its other models used the configured ones.
   */
  gptSampling: "configured" | "api-defaults";
}

export interface CallSpec {
  model: LanguageModel;
  role: CallRecord["role"];
  step: string;
  iteration: number;
  /** Re-asks of the same step (an unscored critique) count up from 0. */
  attempt?: number;
  messages: ChatMessage[];
  sampling: SamplingOptions;
  /** Asked only of models that can enforce it (`capabilities.constrainedOutput`). */
  schema?: OutputSchema;
  /** Reads the parsed value (score, verdict) from the cleaned answer, before the record is traced. */
  parse?: (text: string) => CallRecord["parsed"];
  /** `whitespace`: under `outputStrip: python`, Python's plain `strip()`, as the reference stores GPT judgements. */
  strip?: "whitespace";
}

export interface LogLikelihoodSpec {
  model: LanguageModel;
  role: CallRecord["role"];
  step: string;
  context: string;
  continuations: string[];
}

export interface CallAnswer {
  /** The answer as the model returned it. */
  raw: string;
  /** The answer cleaned as `outputStrip` says; the raw answer when the caller has no compat. */
  text: string;
  record: CallRecord;
}

export class ModelCaller {
  /** The item's trace: one record per call, in call order. */
  readonly calls: CallRecord[] = [];
  private readonly context: CallContext;
  private readonly compat: CallCompat | undefined;
  /** `sampleKey` with the sample; seeds every call when set. */
  private readonly rowKey: string | undefined;
  /** Where the sample indices of a draw start (see the module comment); of every call under `rowKey`. */
  private readonly drawBase: number;

  /** Without `compat`, answers come back as returned and sampling is sent as given. */
  constructor(context: CallContext, compat?: CallCompat) {
    this.context = context;
    this.compat = compat;
    const sample = context.sample ?? 0;
    this.rowKey = context.sampleKey === undefined ? undefined : withSample(context.sampleKey, sample);
    this.drawBase = rowSampleBase(this.rowKey ?? withSample(context.itemId, sample));
  }

  async call(spec: CallSpec): Promise<CallAnswer> {
    const { context } = this;
    const startedAt = new Date().toISOString();
    // The messages' JSON, serialised once for the call: the cache key, the request body and the stored call reuse it.
    const fingerprint = messagesJson(spec.messages);
    let repeats = 0;
    for (const r of this.calls) if (r.endpoint === spec.model.id && messagesJson(r.request.messages) === fingerprint) repeats++;
    const sampling = this.sampling(spec);
    const schema = spec.schema && spec.model.capabilities.constrainedOutput ? spec.schema : undefined;
    const base = {
      runId: context.runId,
      itemId: context.itemId,
      step: spec.step,
      iteration: spec.iteration,
      attempt: spec.attempt ?? 0,
      role: spec.role,
      model: spec.model.modelId,
      endpoint: spec.model.id,
      request: { messages: spec.messages, sampling, schema: schema?.name },
      cacheHit: false,
      startedAt,
    };
    try {
      const result = await spec.model.generate({
        messages: spec.messages,
        sampling,
        schema,
        signal: context.signal,
        timeoutMs: context.timeoutMs,
        sampleIndex: this.sampleBaseOf(sampling) + repeats,
      });
      const record: CallRecord = {
        ...base,
        response: result.text,
        usage: result.usage,
        latencyMs: result.latencyMs,
        finishReason: result.finishReason,
        cacheHit: result.cached ?? false,
      };
      const text = this.clean(result.text, spec.strip);
      if (spec.parse) record.parsed = spec.parse(text);
      this.record(record);
      return { raw: result.text, text, record };
    } catch (error) {
      return this.recordFailure(base, error);
    }
  }

  /**
   * Scores continuations by log-likelihood (`LanguageModel.logLikelihood`), recorded like any call:
   * the request's messages are the context (user) and each continuation (assistant) in order, the
   * response the JSON list of their log-probabilities.
   */
  async logLikelihood(spec: LogLikelihoodSpec): Promise<LogLikelihoodResult> {
    const { context } = this;
    const messages: ChatMessage[] = [
      { role: "user", content: spec.context },
      ...spec.continuations.map((content): ChatMessage => ({ role: "assistant", content })),
    ];
    const base = {
      runId: context.runId,
      itemId: context.itemId,
      step: spec.step,
      iteration: 0,
      attempt: 0,
      role: spec.role,
      model: spec.model.modelId,
      endpoint: spec.model.id,
      request: { messages, sampling: {} },
      cacheHit: false,
      startedAt: new Date().toISOString(),
    };
    try {
      const result = await callLogLikelihood(spec.model, {
        context: spec.context,
        continuations: spec.continuations,
        signal: context.signal,
        timeoutMs: context.timeoutMs,
      });
      this.record({ ...base, response: JSON.stringify(result.logprobs), usage: result.usage, latencyMs: result.latencyMs });
      return result;
    } catch (error) {
      return this.recordFailure(base, error);
    }
  }

  /** Keeps a call in the item's trace and shows it to `onCall`. */
  private record(record: CallRecord): void {
    this.calls.push(record);
    this.context.onCall?.(record);
  }

  /** Records a call that failed, then rethrows its error; a call the run's budget refused was never made, so it is not recorded. */
  private recordFailure(base: Omit<CallRecord, "response" | "usage" | "latencyMs">, error: unknown): never {
    if (error instanceof BudgetError) throw error;
    this.record({
      ...base,
      response: null,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: 0,
      error: messageOf(error),
      ...(error instanceof ModelError && error.unsent ? { unsent: true } : {}),
    });
    throw error;
  }

  private sampling(spec: CallSpec): SamplingOptions {
    if (this.compat?.gptSampling === "api-defaults" && spec.role === "base" && isGptModel(spec.model.modelId)) return {};
    const sample = this.context.sample ?? 0;
    const seeded =
      this.rowKey !== undefined
        ? rowSeeded(spec.sampling, this.rowKey)
        : sample === 0
          ? spec.sampling
          : rowSeeded(spec.sampling, withSample("", sample));
    return honouredSampling(seeded, spec.model.capabilities);
  }

  private sampleBaseOf(sampling: SamplingOptions): number {
    return this.rowKey !== undefined || isDraw(sampling) ? this.drawBase : 0;
  }

  private clean(raw: string, strip: CallSpec["strip"]): string {
    if (this.compat === undefined) return raw;
    if (this.compat.outputStrip !== "python") return saneClean(raw);
    return strip === "whitespace" ? pyStrip(raw) : pythonClean(raw);
  }
}

/** The reference's transport test: OpenAI chat for ids containing "gpt", raw text otherwise. */
export function isGptModel(modelId: string): boolean {
  return modelId.includes("gpt");
}

/** Sampling above temperature 0, or with the API's default temperature (1). */
export function isDraw(sampling: SamplingOptions): boolean {
  return sampling.temperature === undefined || sampling.temperature > 0;
}

/** The key of an item's (or row's) `sample`-th run; sample 0 is the key itself. */
function withSample(key: string, sample: number): string {
  return sample === 0 ? key : `${key}\u0000sample ${sample}`;
}

/** Room for 2^16 deliberate repeats of a request within an item, above a 32-bit key hash (< 2^53). */
const REPEATS_PER_KEY = 0x10000;

/** The first sample index of a request under `sampleKey` (see `CallContext.sampleKey`). */
export function rowSampleBase(key: string): number {
  return hash32(key) * REPEATS_PER_KEY;
}

/** A seed of the key's own, derived from the configured one; sampling without a seed stays so. */
export function rowSeeded(sampling: SamplingOptions, key: string): SamplingOptions {
  return sampling.seed === undefined ? sampling : { ...sampling, seed: hash32(`${sampling.seed}\u0000${key}`) >>> 1 };
}
