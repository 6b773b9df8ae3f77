/**
 * What the batch lane's batches answered (see batch-lane.ts), beyond the cache entries themselves:
 * - fresh answers: keys answered by this output's batches and not yet claimed by an item's final
 *   pass. An item's pass claims each one once (`itemModels`), so the run's records and spend show
 *   its tokens as a paid call, not a cache hit; a pass that ends pending gives its claims back.
 * - failures: requests a batch answered with an error. Asking again in this process would fail the
 *   same way, so the collector throws the error instead (the item fails; a re-run asks again).
 * - retries: a line that failed transiently (5xx, 429, timeout) is asked again in a later round, up
 *   to `LINE_RETRIES` times, before it counts as a failure.
 * All of it is per process: a re-run rebuilds the fresh keys from the state's imported parts.
 */
import type { ModelError } from "../../base/errors/errors.ts";
import type { GenerateRequest, LanguageModel } from "../../models/language-model.ts";
import type { BatchLineResult } from "../../models/batch-provider.ts";
import type { CallCache } from "../store/call-cache.ts";
import type { PartState } from "./batch-state.ts";

/** How often a line that failed transiently (5xx, 429, timeout) goes into a later round again. */
export const LINE_RETRIES = 2;

type KeyedModel = LanguageModel & { keyOf(request: GenerateRequest): string };

export class BatchAnswers {
  private readonly cache: CallCache;
  /** Keys answered by this output's batches and not yet claimed by an item's final pass. */
  private readonly fresh = new Set<string>();
  private readonly failures = new Map<string, ModelError>();
  /** Transient line failures asked again, by key. */
  private readonly retried = new Map<string, number>();

  constructor(cache: CallCache) {
    this.cache = cache;
  }

  /** The error a batch answered `key` with, if it did. */
  failure(key: string): ModelError | undefined {
    return this.failures.get(key);
  }

  /** Answers an earlier process imported: their first hit in this process is still a paid call. */
  addFresh(keys: Iterable<string>): void {
    for (const key of keys) this.fresh.add(key);
  }

  /**
   * Models for one pass of one item (over the run's `CachedModel`s): a hit on an answer this
   * output's batches produced is reported as a paid call, once. `settle(false)` when the pass ended
   * pending gives the claims back for the item's later pass.
   */
  itemModels<M extends Record<string, KeyedModel>>(models: M): { models: M; settle(final: boolean): void } {
    const claims: string[] = [];
    const wrapped = new Map<LanguageModel, LanguageModel>();
    const wrap = (model: KeyedModel): LanguageModel => {
      let out = wrapped.get(model);
      if (!out) {
        out = {
          id: model.id,
          modelId: model.modelId,
          capabilities: model.capabilities,
          generate: async (request) => {
            const result = await model.generate(request);
            if (!result.cached) return result;
            const key = model.keyOf(request);
            if (!this.fresh.delete(key)) return result;
            claims.push(key);
            return { ...result, usage: { ...result.usage }, cached: false };
          },
        };
        wrapped.set(model, out);
      }
      return out;
    };
    const out = Object.fromEntries(Object.entries(models).map(([name, model]) => [name, wrap(model)])) as unknown as M;
    return {
      models: out,
      settle: (final) => {
        if (!final) for (const key of claims) this.fresh.add(key);
        claims.length = 0;
      },
    };
  }

  /**
   * Puts a batch's answers into the cache (each resolved once committed) and notes its errors.
   * `partOf` gives the part a line belongs to (its model and endpoint go with the cache entry).
   */
  async import(results: readonly BatchLineResult[], partOf: (key: string) => PartState): Promise<{ answered: number; failed: number }> {
    let answered = 0;
    let failed = 0;
    for (const result of results) {
      const part = partOf(result.customId);
      if (result.ok) {
        await this.cache.put(
          result.customId,
          { ...result.result, model: result.result.model || part.model },
          { endpoint: part.endpoint, modelId: part.model },
        );
        this.fresh.add(result.customId);
        this.failures.delete(result.customId);
        answered++;
      } else if (!result.notRun) {
        // A transient failure (5xx, 429, timeout) of one line is asked again in the next round, twice.
        const retried = this.retried.get(result.customId) ?? 0;
        if (result.error.retryable && retried < LINE_RETRIES) {
          this.retried.set(result.customId, retried + 1);
          continue;
        }
        this.failures.set(result.customId, result.error);
        failed++;
      }
    }
    return { answered, failed };
  }
}
