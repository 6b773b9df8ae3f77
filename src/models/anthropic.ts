import { ModelError } from "../errors/errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "./language-model.ts";

export interface AnthropicOptions {
  model: string;
  apiKey: string;
  baseURL?: string;
  timeoutMs?: number;
}

/** Placeholder: replaced by the real adapter. */
export class AnthropicModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities = { constrainedOutput: false };
  constructor(options: AnthropicOptions) {
    this.modelId = options.model;
    this.id = `anthropic#${options.model}`;
  }
  async generate(_request: GenerateRequest): Promise<GenerateResult> {
    throw new ModelError("the Anthropic adapter is not implemented yet", { kind: "bad-request" });
  }
}
