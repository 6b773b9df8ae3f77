/**
 * Embedding principles for clustering. Three sources behind one `Embedder` (config/embedder.ts
 * chooses one from the settings and builds it):
 * - `openai`: any OpenAI-compatible `/v1/embeddings` endpoint (OpenAI, vLLM, llama.cpp server,
 *   Ollama, TEI…) through the model port's `embed` (`OpenAICompatibleModel`, `embeddingModel`);
 * - `gguf`: a local GGUF model in-process through node-llama-cpp (`LlamaCppModel.embed`);
 * - `file`: precomputed vectors, JSONL lines `{"text", "vector"}` or `{"id", "vector"}` (also
 *   JSON arrays or Parquet with those columns). Text lines match by the normalised principle text
 *   (the de-duplication key of `clustering.ts`: whitespace collapsed, "Principle:" stripped,
 *   case-folded); id lines match the `id` of the input rows a principle came from.
 *
 * Every vector returned is L2-normalised (cosine similarity = dot product) and checked: finite,
 * non-zero, one dimension for all. Model sources are called in batches (`batchSize` texts per
 * request), one batch at a time.
 */
import type { EmbedderSpec, EmbeddingSource, ModelEmbedderSpec } from "../../config/embedder.ts";
import { ConfigError, InputError, ModelError } from "../../base/errors/errors.ts";
import { readInputRows } from "../../io/input-reader.ts";
import type { LanguageModel, Usage } from "../../models/language-model.ts";
import { principleKey } from "./principle-set.ts";

export interface EmbedItem {
  text: string;
  /** Ids of the input rows the text came from (used by vectors files keyed by id). */
  ids?: readonly string[];
}

export interface EmbedRunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface Embeddings {
  /** One unit-length vector per item, in input order. */
  vectors: Float32Array[];
  dimension: number;
  usage: Usage;
  /** The embedding model the backend reported, or the vectors file. */
  model: string;
}

export interface Embedder {
  readonly source: EmbeddingSource;
  /** The configured model id, GGUF location or vectors file; safe to log. */
  readonly model: string;
  embed(items: readonly EmbedItem[], options?: EmbedRunOptions): Promise<Embeddings>;
  close?(): Promise<void>;
}

/** Scales `vector` to unit length; undefined when it is not finite or has zero length. */
export function l2Normalize(vector: ArrayLike<number>): Float32Array | undefined {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) return undefined;
    sum += x * x;
  }
  const norm = Math.sqrt(sum);
  if (!(norm > 0) || !Number.isFinite(norm)) return undefined;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = vector[i]! / norm;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Model-backed embedder (openai, gguf)

export interface ModelEmbedderOptions {
  source: "openai" | "gguf";
  /** Texts per `embed` call; default 64 (openai) or 16 (gguf). */
  batchSize?: number;
  /** Close the model when the embedder closes (default true). */
  ownsModel?: boolean;
}

export class ModelEmbedder implements Embedder {
  readonly source: "openai" | "gguf";
  readonly model: string;
  private readonly languageModel: LanguageModel;
  private readonly batchSize: number;
  private readonly ownsModel: boolean;

  constructor(model: LanguageModel, options: ModelEmbedderOptions) {
    if (typeof model.embed !== "function") {
      throw new ConfigError(`the model ${model.id} cannot embed texts`, {
        hint: "use an OpenAI-compatible endpoint with /embeddings, a local GGUF, or a vectors file (--embeddings file --vectors FILE)",
      });
    }
    this.languageModel = model;
    this.source = options.source;
    this.model = model.modelId;
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? (options.source === "openai" ? 64 : 16)));
    this.ownsModel = options.ownsModel ?? true;
  }

  async embed(items: readonly EmbedItem[], options: EmbedRunOptions = {}): Promise<Embeddings> {
    const vectors: Float32Array[] = [];
    const usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let model = this.model;
    let dimension = 0;
    for (let start = 0; start < items.length; start += this.batchSize) {
      options.signal?.throwIfAborted();
      const batch = items.slice(start, start + this.batchSize).map((item) => item.text);
      const result = await this.languageModel.embed!(batch, { signal: options.signal });
      if (result.vectors.length !== batch.length) {
        throw new ModelError(`the embedding model returned ${result.vectors.length} vectors for ${batch.length} texts`, {
          kind: "bad-response",
        });
      }
      model = result.model || model;
      usage.inputTokens += result.usage.inputTokens;
      result.vectors.forEach((raw, offset) => {
        const index = start + offset;
        if (dimension === 0) dimension = raw.length;
        if (raw.length !== dimension) {
          throw new ModelError(`the embedding of text ${index + 1} has ${raw.length} dimensions, earlier ones ${dimension}`, {
            kind: "bad-response",
            hint: "if the server now serves another model under the same name, the run store still holds the old model's vectors: re-run with --cache refresh",
          });
        }
        const unit = l2Normalize(raw);
        if (unit === undefined) {
          throw new ModelError(`the embedding of text ${index + 1} is zero or not finite`, {
            kind: "bad-response",
            hint: "check the embedding model; a chat model served without embedding support can return zeros",
          });
        }
        vectors.push(unit);
      });
      options.onProgress?.({ done: vectors.length, total: items.length });
    }
    return { vectors, dimension, usage, model };
  }

  async close(): Promise<void> {
    if (this.ownsModel) await this.languageModel.close?.();
  }
}

// ---------------------------------------------------------------------------------------------
// Vectors file

export interface VectorsFile {
  file: string;
  dimension: number;
  byKey: Map<string, Float32Array>;
  byId: Map<string, Float32Array>;
  /** Lines whose text or id was already seen (the first one wins). */
  duplicates: number;
}

/** Reads and checks a vectors file (see the module comment for its shape). */
export async function loadVectorsFile(file: string): Promise<VectorsFile> {
  const byKey = new Map<string, Float32Array>();
  const byId = new Map<string, Float32Array>();
  let dimension = 0;
  let duplicates = 0;
  for await (const { line, value } of readInputRows(file)) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw new InputError("a vectors line must be an object {text, vector} or {id, vector}", { file, line });
    }
    const row = value as Record<string, unknown>;
    const vector = row.vector ?? row.embedding;
    if (!Array.isArray(vector) || vector.length === 0 || !vector.every((x) => typeof x === "number")) {
      throw new InputError("no vector: expected a non-empty array of numbers", { file, line, field: "vector" });
    }
    if (dimension === 0) dimension = vector.length;
    if (vector.length !== dimension) {
      throw new InputError(`the vector has ${vector.length} dimensions, earlier lines ${dimension}`, {
        file,
        line,
        field: "vector",
        hint: "use one embedding model for the whole file",
      });
    }
    const unit = l2Normalize(vector as number[]);
    if (unit === undefined) throw new InputError("the vector is zero or not finite", { file, line, field: "vector" });
    const text = typeof row.text === "string" ? row.text : typeof row.principle === "string" ? row.principle : undefined;
    const id = typeof row.id === "string" || typeof row.id === "number" ? String(row.id) : undefined;
    if (text === undefined && id === undefined) {
      throw new InputError("a vectors line needs a text (or principle) or an id", {
        file,
        line,
        hint: 'write {"text": "...", "vector": [...]} or {"id": "...", "vector": [...]}',
      });
    }
    if (text !== undefined) {
      const key = principleKey(text);
      if (byKey.has(key)) duplicates++;
      else byKey.set(key, unit);
    }
    if (id !== undefined) {
      if (byId.has(id)) duplicates++;
      else byId.set(id, unit);
    }
  }
  if (dimension === 0) throw new InputError("the vectors file holds no vectors", { file });
  return { file, dimension, byKey, byId, duplicates };
}

export class VectorsFileEmbedder implements Embedder {
  readonly source = "file" as const;
  readonly model: string;
  private readonly vectors: VectorsFile;

  constructor(vectors: VectorsFile) {
    this.vectors = vectors;
    this.model = vectors.file;
  }

  static async open(file: string): Promise<VectorsFileEmbedder> {
    return new VectorsFileEmbedder(await loadVectorsFile(file));
  }

  async embed(items: readonly EmbedItem[], options: EmbedRunOptions = {}): Promise<Embeddings> {
    const out: Float32Array[] = [];
    const missing: string[] = [];
    for (const item of items) {
      let vector = this.vectors.byKey.get(principleKey(item.text));
      for (const id of item.ids ?? []) {
        if (vector !== undefined) break;
        vector = this.vectors.byId.get(id);
      }
      if (vector === undefined) missing.push(item.text);
      else out.push(vector);
    }
    if (missing.length > 0) {
      const shown = missing
        .slice(0, 3)
        .map((t) => JSON.stringify(t.length > 80 ? `${t.slice(0, 77)}...` : t))
        .join(", ");
      throw new InputError(`no vector for ${missing.length} of ${items.length} principles, e.g. ${shown}`, {
        file: this.vectors.file,
        hint: "add {text, vector} lines for them (texts match after whitespace and case folding) or {id, vector} lines for their input rows",
      });
    }
    options.onProgress?.({ done: out.length, total: items.length });
    return { vectors: out, dimension: this.vectors.dimension, usage: { inputTokens: 0, outputTokens: 0 }, model: this.vectors.file };
  }
}

// ---------------------------------------------------------------------------------------------
// Factory

/** Builds the model of an openai or gguf source (config/embedder.ts `createEmbeddingModel`). */
export type EmbeddingModelFactory = (spec: ModelEmbedderSpec) => Promise<LanguageModel>;

/** The embedder of a source: a vectors file, or the model `createModel` builds, in batches. */
export async function createEmbedder(spec: EmbedderSpec, createModel: EmbeddingModelFactory): Promise<Embedder> {
  if (spec.source === "file") return VectorsFileEmbedder.open(spec.file);
  return new ModelEmbedder(await createModel(spec), { source: spec.source, batchSize: spec.batchSize });
}
