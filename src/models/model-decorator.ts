/**
 * The base of a `LanguageModel` that wraps another (call cache, budget, shared rate limits, retries):
 * it answers as the inner model (`id`, `modelId`, capabilities), closes it, and passes
 * log-likelihood calls on; a decorator writes only how its own calls pass.
 */
import { callLogLikelihood } from "./language-model.ts";
import type { GenerateRequest, GenerateResult, LanguageModel, LogLikelihoodRequest, LogLikelihoodResult } from "./language-model.ts";

export abstract class ModelDecorator implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities: LanguageModel["capabilities"];
  readonly inner: LanguageModel;

  constructor(inner: LanguageModel) {
    this.inner = inner;
    this.id = inner.id;
    this.modelId = inner.modelId;
    this.capabilities = inner.capabilities;
  }

  abstract generate(request: GenerateRequest): Promise<GenerateResult>;

  /** Passed on as it is; the port's not-found error when the inner model has no log-likelihood. */
  logLikelihood(request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
    return callLogLikelihood(this.inner, request);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
