import { ModelError } from "../errors/errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "./language-model.ts";

export interface LlamaCppOptions {
  model: string;
  parallelism?: number;
}

/** Placeholder: replaced by the real adapter. */
export class LlamaCppModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities = { constrainedOutput: true };
  private constructor(options: LlamaCppOptions) {
    this.modelId = options.model;
    this.id = `llama-cpp#${options.model}`;
  }
  static async load(options: LlamaCppOptions): Promise<LlamaCppModel> {
    return new LlamaCppModel(options);
  }
  async generate(_request: GenerateRequest): Promise<GenerateResult> {
    throw new ModelError("the llama.cpp adapter is not implemented yet", { kind: "bad-request" });
  }
}
