/**
 * Embeddings kept in the call cache, one entry per text, keyed by the model's endpoint, its model
 * and the text (canonical JSON, hashed), so an embedding pass cut short (kill -9, a crash, Ctrl-C)
 * and run again sends only the texts that have no vector yet.
 *
 * Contract of `CachedEmbeddingModel.embed`: it answers the texts it holds from the cache, sends the
 * others in one `embed` call of the inner model, and returns only once their vectors are committed
 * (it awaits the puts), so every batch a caller got back survives a kill -9 that comes after it.
 * Vectors are stored as sent by the backend (float64, before any normalisation), so an answer from
 * the cache equals the backend's to the bit. A stored entry that does not decode is a miss.
 */
import { ModelError } from "../../base/errors/errors.ts";
import type { EmbedOptions, EmbedResult, GenerateRequest, GenerateResult, LanguageModel } from "../../models/language-model.ts";
import { ModelDecorator } from "../../models/model-decorator.ts";
import type { CacheMode, CallCache } from "./call-cache.ts";
import { canonicalHash } from "./canonical.ts";

/** Version of the embedding key and of the stored vector's encoding; changing either must change it. */
const EMBEDDING_KEY_FORMAT = 1;

/** The cache key of `text` embedded by `model` at `endpoint` (`LanguageModel.id`, never a key). */
export function embeddingKey(endpoint: string, model: string, text: string): string {
  return canonicalHash({ kind: "embedding", endpoint, model, text, v: EMBEDDING_KEY_FORMAT });
}

/** A vector as the cache's text: its float64 values, little-endian, in base64. */
export function encodeVector(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 8);
  vector.forEach((x, i) => bytes.writeDoubleLE(x, i * 8));
  return bytes.toString("base64");
}

/** The vector `encodeVector` wrote; undefined for any other text. */
export function decodeVector(text: string): number[] | undefined {
  const bytes = Buffer.from(text, "base64");
  if (bytes.length === 0 || bytes.length % 8 !== 0 || bytes.toString("base64") !== text) return undefined;
  return Array.from({ length: bytes.length / 8 }, (_, i) => bytes.readDoubleLE(i * 8));
}

/** A model that can embed. */
export type EmbeddingModel = LanguageModel & Required<Pick<LanguageModel, "embed">>;

export function canEmbed(model: LanguageModel): model is EmbeddingModel {
  return typeof model.embed === "function";
}

/**
 * A `LanguageModel` whose `embed` goes through a `CallCache` (see the module comment); its other
 * calls and `close` are the inner model's (ModelDecorator). `mode` is the call cache's: `refresh`
 * embeds every text again and overwrites, `off` is not built (use the inner model).
 */
export class CachedEmbeddingModel extends ModelDecorator {
  private readonly embedder: EmbeddingModel;
  private readonly cache: CallCache;
  private readonly mode: Exclude<CacheMode, "off">;
  /** Texts answered from the cache so far. */
  hits = 0;

  constructor(inner: EmbeddingModel, cache: CallCache, mode: Exclude<CacheMode, "off"> = "use") {
    super(inner);
    this.embedder = inner;
    this.cache = cache;
    this.mode = mode;
  }

  generate(request: GenerateRequest): Promise<GenerateResult> {
    return this.inner.generate(request);
  }

  async embed(texts: string[], options: EmbedOptions = {}): Promise<EmbedResult> {
    const keys = texts.map((text) => embeddingKey(this.inner.id, this.inner.modelId, text));
    const stored = this.mode === "use" ? await Promise.all(keys.map((key) => this.cache.get(key))) : keys.map(() => undefined);
    const vectors = stored.map((hit) => (hit === undefined ? undefined : decodeVector(hit.text)));
    const missing = vectors.flatMap((vector, index) => (vector === undefined ? [index] : []));
    this.hits += texts.length - missing.length;
    const model = stored.find((hit) => hit !== undefined)?.model ?? this.inner.modelId;
    if (missing.length === 0) return { vectors: vectors as number[][], usage: { inputTokens: 0, outputTokens: 0 }, model };
    const sent = await this.embedder.embed(
      missing.map((index) => texts[index]!),
      options,
    );
    if (sent.vectors.length !== missing.length) {
      throw new ModelError(`the embedding model returned ${sent.vectors.length} vectors for ${missing.length} texts`, {
        kind: "bad-response",
        endpoint: this.inner.id,
      });
    }
    const meta = { endpoint: this.inner.id, modelId: this.inner.modelId };
    await Promise.all(
      missing.map((index, i) => {
        vectors[index] = sent.vectors[i]!;
        const answer: GenerateResult = {
          text: encodeVector(sent.vectors[i]!),
          finishReason: "stop",
          usage: { inputTokens: 0, outputTokens: 0 },
          latencyMs: 0,
          model: sent.model,
        };
        return this.cache.put(keys[index]!, answer, meta);
      }),
    );
    return { vectors: vectors as number[][], usage: sent.usage, model: sent.model };
  }
}
