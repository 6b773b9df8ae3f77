/**
 * The call cache: model answers keyed by a canonical hash of the full request, so re-running a
 * command pays only for calls it has not made before. `CachedModel` puts any `LanguageModel` behind
 * a cache; the SQLite cache lives in the run store's database (`SqliteStore.cache`).
 */
import { ModelError } from "../../base/errors/errors.ts";
import {
  type ChatMessage,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type OutputSchema,
  type SamplingOptions,
} from "../../models/language-model.ts";
import { ModelDecorator } from "../../models/model-decorator.ts";
import { canonicalMessagesJson } from "../../models/messages-json.ts";
import { canonicalJson, sha256Hex } from "./canonical.ts";
import { perObject } from "../../base/util/per-object.ts";

/** Everything that decides a model's answer; nothing else (no signal, timeout or credentials). */
export interface RequestKeyParts {
  /** `LanguageModel.id`: endpoint + model, never a key. */
  endpoint: string;
  /** `LanguageModel.modelId`. */
  model: string;
  messages: readonly ChatMessage[];
  sampling?: SamplingOptions;
  schema?: OutputSchema;
  /** Version of the prompt templates that produced the messages; bump it to invalidate answers. */
  templateVersion?: string;
  /** Deliberate repeats of a request; absent counts as 0. */
  sampleIndex?: number;
}

/** Version of the key format itself; changing how keys are built must change it. */
const KEY_FORMAT = 1;

/**
 * sha256 (hex) of the canonical JSON of the request: object keys sorted recursively, undefined
 * fields dropped, so equivalent requests hash equally whatever their key order. An absent sampling
 * equals `{}`, an absent `sampleIndex` equals 0. Message and stop-sequence order matter.
 */
export function requestKey(parts: RequestKeyParts): string {
  return sha256Hex(requestKeyText(parts));
}

/**
 * The canonical JSON `requestKey` hashes: `canonicalJson` of the object below, written out field by
 * field in its sorted key order so the messages' text (already serialised for the call, see
 * messages-json.ts) is reused rather than walked again.
 */
export function requestKeyText(parts: RequestKeyParts): string {
  const schema = parts.schema ? canonicalJson({ name: parts.schema.name, schema: parts.schema.schema }) : "null";
  const templateVersion = parts.templateVersion === undefined ? "null" : canonicalJson(parts.templateVersion);
  // Sorted: endpoint, messages, model, sampleIndex, sampling, schema, templateVersion, v.
  return (
    `{"endpoint":${canonicalJson(parts.endpoint)},"messages":${canonicalMessagesJson(parts.messages)},"model":${canonicalJson(parts.model)}` +
    `,"sampleIndex":${canonicalJson(parts.sampleIndex ?? 0)},"sampling":${samplingJson(parts.sampling)},"schema":${schema}` +
    `,"templateVersion":${templateVersion},"v":${KEY_FORMAT}}`
  );
}

/** `SamplingOptions`' fields in canonicalJson's (sorted) order. */
const SAMPLING_FIELDS = ["maxTokens", "seed", "stop", "temperature", "topK", "topP"] as const;
const SAMPLING_FIELD_SET: ReadonlySet<string> = new Set(SAMPLING_FIELDS);

/**
 * `canonicalJson(sampling ?? {})`, written field by field when the object holds only
 * `SamplingOptions`' fields with number values (and a list of stop strings), as every model call's
 * does; anything else goes through canonicalJson. Sorting the keys of a new object on every call
 * was measurable CPU.
 */
function samplingJson(sampling: SamplingOptions | undefined): string {
  return sampling === undefined || sampling === null ? "{}" : samplingTexts(sampling);
}

/**
 * `samplingJson`'s texts by sampling object: a run's calls share a few (the settings' base and
 * critic sampling), and building the text again for each call was ~500 bytes of garbage a call. A
 * sampling object, like a messages array (see messages-json.ts), must not change once it was sent.
 */
const samplingTexts = perObject(samplingText);

function samplingText(sampling: SamplingOptions): string {
  for (const key of Object.keys(sampling)) if (!SAMPLING_FIELD_SET.has(key)) return canonicalJson(sampling);
  let text = "";
  for (const field of SAMPLING_FIELDS) {
    const value = sampling[field];
    if (value === undefined) continue;
    const json = typeof value === "number" ? JSON.stringify(value) : canonicalJson(value);
    text += `${text === "" ? "" : ","}"${field}":${json}`;
  }
  return `{${text}}`;
}

/** Stored beside a cached answer, for inspection; not part of the key. */
export interface CacheEntryMeta {
  endpoint: string;
  modelId: string;
  templateVersion?: string;
}

/**
 * How long a store's cache waits after a batch's first put for others to join it (both stores
 * group-commit their puts; see sqlite-call-cache.ts and postgres-cache.ts), in ms.
 */
export const DEFAULT_COMMIT_DELAY_MS = 20;

export interface CallCache {
  /** The stored answer for `key` (without `cached` set), or undefined. */
  get(key: string): Promise<GenerateResult | undefined>;
  /**
   * What `get` would answer, when it can be told without waiting: the stored answer, `null` when
   * the key is certainly not stored, or `undefined` when only `get` can tell (a shared store's
   * read). A call that misses then skips `get`'s promise (every call of a fresh run misses).
   */
  tryGet?(key: string): GenerateResult | null | undefined;
  /** Stores (or overwrites) the answer for `key`: text, finish reason, usage, latency, model. */
  put(key: string, result: GenerateResult, meta: CacheEntryMeta): Promise<void>;
  /**
   * Gets ready for lookups in the background (a shared store's key filter: its first load), so that
   * the first calls of a run need not ask the store; callers that are about to make calls say so.
   * Resolves when ready (never rejects).
   */
  warm?(): Promise<void>;
}

/** A cache in memory, for tests and one-process use. */
export class MemoryCallCache implements CallCache {
  readonly entries = new Map<string, { result: GenerateResult; meta: CacheEntryMeta }>();

  async get(key: string): Promise<GenerateResult | undefined> {
    return this.tryGet(key) ?? undefined;
  }

  tryGet(key: string): GenerateResult | null {
    const entry = this.entries.get(key);
    return entry ? { ...entry.result } : null;
  }

  async put(key: string, result: GenerateResult, meta: CacheEntryMeta): Promise<void> {
    const { cached: _cached, ...stored } = result;
    this.entries.set(key, { result: { ...stored, usage: { ...result.usage } }, meta: { ...meta } });
  }
}

/**
 * - `use`: answer from the cache when it can, otherwise call the model and store its answer.
 * - `refresh`: always call the model and overwrite the stored answer.
 * - `off`: pass every call through; the cache is neither read nor written.
 */
export type CacheMode = "use" | "refresh" | "off";

export interface CachedModelOptions {
  mode?: CacheMode;
  /** Goes into every key (see `RequestKeyParts.templateVersion`). */
  templateVersion?: string;
}

interface InFlight {
  promise: Promise<GenerateResult>;
  signal?: AbortSignal;
}

/**
 * A `LanguageModel` behind a `CallCache`, with the inner model's `id`, `modelId` and capabilities.
 *
 * - A cache hit returns the stored answer with `cached: true` and `latencyMs: 0` (no backend call
 *   was made; the original latency stays in the cache), without calling the inner model.
 * - Only successful answers are stored (whatever their finish reason); errors never are, so a failed
 *   call is tried again next time.
 * - In `use` mode identical requests in flight at once are coalesced: the first calls the model, the
 *   others wait for its answer and get it with `cached: true`, `latencyMs: 0` (they paid nothing).
 *   They share its error too (marked `unsent`: a waiter sent nothing itself), except when the first
 *   was aborted by its own signal: then a waiter whose signal is still live makes the call itself. A
 *   waiter's own signal aborts its wait.
 * - The answer is stored off the request path: a call returns as soon as the inner model answered,
 *   while its put waits for the cache's group commit (a `CallCache` answers a key whose put is
 *   still queued, see SqliteCallCache). Closing the store commits what is queued.
 * - Cache failures stop the model (the store is broken; the run should stop): a failed read rejects
 *   its call; a failed write, which no call is waiting for, rejects every later call of this model.
 * - Log-likelihood calls are not cached (ModelDecorator passes them on): such an item is resumed
 *   whole by the runner (see cli/eval-truthfulqa.ts).
 */
export class CachedModel extends ModelDecorator {
  readonly cache: CallCache;
  readonly mode: CacheMode;
  readonly templateVersion?: string;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly meta: CacheEntryMeta;
  /** The first failed write, which every later call rejects with. */
  private writeFailure: { error: unknown } | undefined;

  constructor(inner: LanguageModel, cache: CallCache, options: CachedModelOptions = {}) {
    super(inner);
    this.cache = cache;
    this.mode = options.mode ?? "use";
    this.templateVersion = options.templateVersion;
    this.meta = { endpoint: inner.id, modelId: inner.modelId, templateVersion: this.templateVersion };
  }

  /** The cache key this model uses for `request`. */
  keyOf(request: GenerateRequest): string {
    return requestKey({
      endpoint: this.inner.id,
      model: this.inner.modelId,
      messages: request.messages,
      sampling: request.sampling,
      schema: request.schema,
      templateVersion: this.templateVersion,
      sampleIndex: request.sampleIndex,
    });
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (this.mode === "off") return this.inner.generate(request);
    if (this.writeFailure) throw this.writeFailure.error;
    const key = this.keyOf(request);
    if (this.mode === "refresh") return this.callAndStore(key, request);

    const pending = this.inFlight.get(key);
    if (pending) return this.follow(pending, request);
    const known = this.cache.tryGet?.(key);
    if (known) return hitOf(known);
    const promise = known === null ? this.callAndStore(key, request) : this.lookupOrCall(key, request);
    const entry: InFlight = { promise, signal: request.signal };
    this.inFlight.set(key, entry);
    const settle = () => {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    };
    promise.then(settle, settle);
    return promise;
  }

  private async lookupOrCall(key: string, request: GenerateRequest): Promise<GenerateResult> {
    const hit = await this.cache.get(key);
    if (hit) return hitOf(hit);
    return this.callAndStore(key, request);
  }

  private async callAndStore(key: string, request: GenerateRequest): Promise<GenerateResult> {
    const result = await this.inner.generate(request);
    this.cache.put(key, result, this.meta).catch((error: unknown) => {
      this.writeFailure ??= { error };
    });
    return result;
  }

  private async follow(leader: InFlight, request: GenerateRequest): Promise<GenerateResult> {
    try {
      const result = await untilAborted(leader.promise, request.signal, this.inner.id);
      return { ...result, usage: { ...result.usage }, latencyMs: 0, cached: true };
    } catch (error) {
      if (leader.signal?.aborted && !request.signal?.aborted) return this.generate(request);
      throw error instanceof ModelError && !error.unsent ? waiterError(error) : error;
    }
  }
}

/** A stored answer as a call's: nothing was paid or waited for. */
function hitOf(stored: GenerateResult): GenerateResult {
  return { ...stored, latencyMs: 0, cached: true };
}

/** The first call's error as a waiter's: the same failure, with nothing sent by the waiter. */
function waiterError(error: ModelError): ModelError {
  return new ModelError(error.message, {
    kind: error.kind,
    status: error.status,
    endpoint: error.endpoint,
    retryAfterSeconds: error.retryAfterSeconds,
    hint: error.hint,
    file: error.file,
    line: error.line,
    field: error.field,
    cause: error,
    unsent: true,
  });
}

/** `promise`, or a ModelError(aborted) as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, endpoint: string): Promise<T> {
  if (!signal) return promise;
  const aborted = () =>
    new ModelError(`call to ${endpoint} was aborted while waiting for an identical call`, {
      kind: "aborted",
      endpoint,
      cause: signal.reason,
      unsent: true,
    });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
