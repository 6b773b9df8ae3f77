/**
 * In-process local GGUF models through node-llama-cpp (CPU build).
 *
 * Contracts:
 * - node-llama-cpp is imported only inside `LlamaCppModel.load`, so users who never ask for a local
 *   model never load the native addon; it is an optional peer dependency (util/optional-peer.ts),
 *   so a library install may lack it, and then `load` says what to install.
 * - Threads are capped to the machine's cores: node-llama-cpp's default oversubscribes small
 *   machines and is then many times slower.
 * - One context offers `parallelism` sequences; each `generate` takes a free one (waiting when none
 *   is) and clears it first, so calls never see each other's tokens.
 * - Every failure to find or open the model is a ConfigError with a hint; every failure while
 *   generating is a ModelError.
 * - Its parts: where the model file comes from (llama-cpp-model-file.ts), the context's sequences
 *   (llama-cpp-slots.ts), one generation in node-llama-cpp's terms (llama-cpp-generation.ts) and
 *   schemas made safe for its grammars (llama-cpp-grammar.ts).
 * - `embed` runs on its own embedding context, created on the first call (same thread cap) and
 *   disposed by `close()` before the generation context.
 */
import os from "node:os";
import type { GbnfJsonSchema, Llama, LlamaContext, LlamaEmbeddingContext, LlamaGrammar, LlamaModel } from "node-llama-cpp";
import { ConfigError, isSpriError, ModelError, type SpriError } from "../base/errors/errors.ts";
import { messageOf } from "../base/util/message-of.ts";
import { importOptionalPeer } from "../base/util/optional-peer.ts";
import type {
  EmbedOptions,
  EmbedResult,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  LogLikelihoodRequest,
  LogLikelihoodResult,
  ModelCapabilities,
  OutputSchema,
} from "./language-model.ts";
import { abortedError, finishReasonOf, generationOptions, Stopper, toHistory } from "./llama-cpp-generation.ts";
import { grammarSafe } from "./llama-cpp-grammar.ts";
import { displayLocation, isRemoteModel, MODEL_HINT, type ModelLocation, resolveModelPath } from "./llama-cpp-model-file.ts";
import { createSlots, type Slot, SlotPool } from "./llama-cpp-slots.ts";

export { grammarSafe, MAX_GRAMMAR_REPETITION } from "./llama-cpp-grammar.ts";
export { defaultModelsDir, ModelDownloadError, type ResolveModelFile, resolveModelPath } from "./llama-cpp-model-file.ts";
import { scoreContinuations } from "./llama-cpp-log-likelihood.ts";

type NodeLlamaCpp = typeof import("node-llama-cpp");

/** Where the model is (a path or a remote URI, see llama-cpp-model-file.ts) and how to run it. */
export interface LlamaCppOptions extends ModelLocation {
  /** Parallel sequences offered to concurrent `generate` calls; 1 to 8, default 1. */
  parallelism?: number;
  /** Upper bound on CPU threads; never more than the machine's cores. */
  threads?: number;
  /** Tokens per sequence; default 4096, never more than the model was trained on, shrunk to fit memory. */
  contextSize?: number;
}

const MAX_PARALLELISM = 8;
const DEFAULT_CONTEXT_SIZE = 4096;
const MIN_CONTEXT_SIZE = 512;
/** Tokens an embedding context holds; longer texts are truncated to fit. */
const EMBEDDING_CONTEXT_SIZE = 2048;

export class LlamaCppModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities: ModelCapabilities = { constrainedOutput: true, logLikelihood: true };

  private readonly llama: Llama;
  private readonly model: LlamaModel;
  private readonly context: LlamaContext;
  private readonly pool: SlotPool;
  private readonly threads: number;
  /** Created by the first `embed`, disposed by `close()`. */
  private embeddingContext: Promise<LlamaEmbeddingContext> | undefined;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Aborted by `close()` so running generations stop before their context is disposed. */
  private readonly shutdown = new AbortController();
  private closing: Promise<void> | undefined;

  private constructor(parts: {
    options: LlamaCppOptions;
    llama: Llama;
    model: LlamaModel;
    context: LlamaContext;
    slots: Slot[];
    threads: number;
  }) {
    this.modelId = parts.options.model;
    this.id = `llama-cpp:${displayLocation(parts.options.model)}`;
    this.llama = parts.llama;
    this.model = parts.model;
    this.context = parts.context;
    this.pool = new SlotPool(parts.slots);
    this.threads = parts.threads;
  }

  static async load(options: LlamaCppOptions): Promise<LlamaCppModel> {
    const lib = await importNodeLlamaCpp();
    const modelPath = await resolveModelPath(options, lib.resolveModelFile);
    const threads = threadCap(options.threads);
    const llama = await openLlama(lib, threads);
    let model: LlamaModel | undefined;
    try {
      model = await openModel(llama, modelPath, isRemoteModel(options.model));
      const parallelism = clampInt(options.parallelism ?? 1, 1, MAX_PARALLELISM);
      const context = await openContext(model, { parallelism, threads, contextSize: options.contextSize });
      const slots = createSlots(lib, context, parallelism);
      return new LlamaCppModel({ options, llama, model, context, slots, threads });
    } catch (error) {
      await model?.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
      throw error;
    }
  }

  /** Sequences generating right now (for tests and diagnostics). */
  get activeSequences(): number {
    return this.pool.active;
  }

  /** The most sequences that ever generated at once; never above `parallelism`. */
  get maxObservedConcurrency(): number {
    return this.pool.maxActive;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const run = this.generateOnFreeSlot(request);
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  /**
   * Embeds each text with the model's own embedding output (node-llama-cpp `getEmbeddingFor`),
   * one text at a time on one lazily created embedding context with the same thread cap. Texts
   * longer than the context are truncated to fit.
   */
  async embed(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const run = this.embedAll(texts, options.signal);
    this.inFlight.add(run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(run);
    }
  }

  /** Scores continuations on a free sequence (llama-cpp-log-likelihood.ts); `timeoutMs` bounds the scoring. */
  async logLikelihood(request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
    const start = performance.now();
    if (this.closing) throw this.closedError();
    const slot = await this.pool.acquire(request.signal);
    const stopper = new Stopper([request.signal, this.shutdown.signal], request.timeoutMs);
    const run = scoreContinuations(this.model, slot.sequence, request.context, request.continuations, stopper.signal);
    this.inFlight.add(run);
    try {
      const scores = await run;
      const latencyMs = Math.round((performance.now() - start) * 1000) / 1000;
      return {
        logprobs: scores.logprobs,
        tokens: scores.tokens,
        usage: { inputTokens: scores.evaluated, outputTokens: 0 },
        latencyMs,
        model: this.modelId,
      };
    } catch (error) {
      throw this.generationError(error, stopper, request.timeoutMs);
    } finally {
      this.inFlight.delete(run);
      stopper.dispose();
      this.pool.release(slot);
    }
  }

  /** Stops running generations, then releases context, model and native backend, in that order. */
  close(): Promise<void> {
    this.closing ??= this.dispose();
    return this.closing;
  }

  private async dispose(): Promise<void> {
    this.shutdown.abort();
    this.pool.close(this.closedError());
    await Promise.allSettled([...this.inFlight]);
    const embedding = await this.embeddingContext?.catch(() => undefined);
    await embedding?.dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }

  private async embedAll(texts: string[], signal: AbortSignal | undefined): Promise<EmbedResult> {
    if (this.closing) throw this.closedError();
    const context = await this.getEmbeddingContext();
    const vectors: number[][] = [];
    let inputTokens = 0;
    for (const text of texts) {
      if (this.closing) throw this.closedError();
      if (signal?.aborted) throw abortedError(signal.reason);
      let tokens = this.model.tokenize(text);
      // BOS/EOS are added by node-llama-cpp; the input must stay below the context size.
      const limit = this.embeddingContextSize();
      while (tokens.length > 0 && context.calculateInputLength(tokens) >= limit) {
        tokens = tokens.slice(0, Math.max(0, Math.min(tokens.length - 1, limit - 4)));
      }
      let vector: readonly number[];
      try {
        vector = (await context.getEmbeddingFor(tokens)).vector;
      } catch (error) {
        if (this.closing) throw this.closedError(error);
        throw new ModelError(`local embedding failed: ${messageOf(error)}`, { kind: "bad-response", cause: error });
      }
      if (vector.length === 0) {
        throw new ModelError(`the local model produced no embedding for text ${vectors.length + 1} (it has no tokens)`, {
          kind: "bad-request",
          hint: "embed non-empty texts",
        });
      }
      vectors.push(Array.from(vector));
      inputTokens += tokens.length;
    }
    return { vectors, usage: { inputTokens, outputTokens: 0 }, model: this.modelId };
  }

  /** At most EMBEDDING_CONTEXT_SIZE, and never more than the model was trained on (512 for MiniLM). */
  private embeddingContextSize(): number {
    const trained = this.model.trainContextSize > 0 ? this.model.trainContextSize : EMBEDDING_CONTEXT_SIZE;
    return Math.min(EMBEDDING_CONTEXT_SIZE, trained);
  }

  private getEmbeddingContext(): Promise<LlamaEmbeddingContext> {
    this.embeddingContext ??= this.model
      .createEmbeddingContext({ contextSize: this.embeddingContextSize(), threads: this.threads })
      .catch((error: unknown) => {
        this.embeddingContext = undefined;
        throw new ModelError(`cannot create an embedding context for ${this.modelId}: ${messageOf(error)}`, {
          kind: "bad-request",
          cause: error,
          hint: "use a GGUF model that can produce embeddings (decoder or encoder-only, e.g. an all-MiniLM-L6-v2 GGUF)",
        });
      });
    return this.embeddingContext;
  }

  private async generateOnFreeSlot(request: GenerateRequest): Promise<GenerateResult> {
    const start = performance.now();
    if (this.closing) throw this.closedError();
    if (request.signal?.aborted) throw abortedError(request.signal.reason);
    const grammar = request.schema ? await this.grammarFor(request.schema) : undefined;
    const slot = await this.pool.acquire(request.signal);
    try {
      const { response, usage } = await this.runOnSlot(slot, request, grammar);
      return {
        text: response.response,
        finishReason: finishReasonOf(response.metadata.stopReason),
        usage,
        latencyMs: Math.round((performance.now() - start) * 1000) / 1000,
        model: this.modelId,
      };
    } finally {
      this.pool.release(slot);
    }
  }

  /** `timeoutMs` bounds the generation itself; waiting for a free sequence is bounded only by `signal`. */
  private async runOnSlot(slot: Slot, request: GenerateRequest, grammar: LlamaGrammar | undefined) {
    const stopper = new Stopper([request.signal, this.shutdown.signal], request.timeoutMs);
    try {
      await slot.sequence.clearHistory();
      const before = slot.sequence.tokenMeter.getState();
      const response = await slot.chat.generateResponse(toHistory(request.messages), generationOptions(request, grammar, stopper.signal));
      const used = slot.sequence.tokenMeter.diff(before);
      return { response, usage: { inputTokens: used.usedInputTokens, outputTokens: used.usedOutputTokens } };
    } catch (error) {
      throw this.generationError(error, stopper, request.timeoutMs);
    } finally {
      stopper.dispose();
    }
  }

  /** Grammars are compiled once per schema: compilation costs far more than a short generation. */
  private grammarFor(schema: OutputSchema): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema.schema);
    let grammar = this.grammars.get(key);
    if (grammar === undefined) {
      grammar = this.llama
        .createGrammarForJsonSchema<GbnfJsonSchema>(grammarSafe(schema.schema) as GbnfJsonSchema)
        .catch((error: unknown) => {
          this.grammars.delete(key);
          throw new ModelError(`cannot build a grammar for output schema "${schema.name}": ${messageOf(error)}`, {
            kind: "bad-request",
            cause: error,
            hint: "use the JSON-schema subset node-llama-cpp supports (objects, arrays, strings, numbers, enums, const)",
          });
        });
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  private generationError(error: unknown, stopper: Stopper, timeoutMs: number | undefined): SpriError {
    if (isSpriError(error)) return error;
    if (this.closing) return this.closedError(error);
    if (stopper.timedOut) return new ModelError(`local generation timed out after ${timeoutMs} ms`, { kind: "timeout", cause: error });
    if (stopper.signal.aborted) return abortedError(error);
    return new ModelError(`local generation failed: ${messageOf(error)}`, { kind: "bad-response", cause: error });
  }

  private closedError(cause?: unknown): ModelError {
    return new ModelError(`the local model ${this.modelId} was closed`, {
      kind: "aborted",
      cause,
      hint: "generate before calling close(), or load the model again",
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Loading

function importNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  return importOptionalPeer<NodeLlamaCpp>("node-llama-cpp", "local GGUF models", { hint: `or ${MODEL_HINT}` });
}

function threadCap(requested: number | undefined): number {
  const cores = os.availableParallelism();
  return requested === undefined ? cores : clampInt(requested, 1, cores);
}

async function openLlama(lib: NodeLlamaCpp, maxThreads: number): Promise<Llama> {
  try {
    // GPU builds are not shipped with spri; "never" forbids compiling llama.cpp at run time.
    return await lib.getLlama({ gpu: false, build: "never", maxThreads });
  } catch (error) {
    throw new ConfigError(`node-llama-cpp has no usable CPU binary here: ${messageOf(error)}`, {
      cause: error,
      hint: `reinstall node-llama-cpp so its prebuilt binary for ${process.platform}-${process.arch} is present, or ${MODEL_HINT}`,
    });
  }
}

/** `downloaded`: the file came from a download, which is kept and reused, so a bad one must be deleted to get another. */
async function openModel(llama: Llama, modelPath: string, downloaded: boolean): Promise<LlamaModel> {
  try {
    return await llama.loadModel({ modelPath });
  } catch (error) {
    const again = downloaded ? `delete ${modelPath} to download it again` : "get a complete copy";
    throw new ConfigError(`cannot load the model file ${modelPath}: ${messageOf(error)}`, {
      file: modelPath,
      cause: error,
      hint: `the file must be a complete GGUF model this node-llama-cpp supports: ${again}, or ${MODEL_HINT}`,
    });
  }
}

async function openContext(
  model: LlamaModel,
  o: { parallelism: number; threads: number; contextSize: number | undefined },
): Promise<LlamaContext> {
  const trained = model.trainContextSize > 0 ? model.trainContextSize : Number.POSITIVE_INFINITY;
  const max = Math.max(1, Math.min(o.contextSize ?? DEFAULT_CONTEXT_SIZE, trained));
  try {
    // A {min, max} range lets node-llama-cpp shrink the per-sequence size to fit memory.
    return await model.createContext({
      sequences: o.parallelism,
      threads: o.threads,
      contextSize: { min: Math.min(MIN_CONTEXT_SIZE, max), max },
    });
  } catch (error) {
    throw new ConfigError(`cannot create a context for ${o.parallelism} sequence(s): ${messageOf(error)}`, {
      cause: error,
      hint: "lower the concurrency or the context size, or use a smaller model",
    });
  }
}

function clampInt(value: number, min: number, max: number): number {
  if (!Number.isFinite(value)) return min;
  return Math.min(max, Math.max(min, Math.floor(value)));
}
