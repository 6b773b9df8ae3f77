/**
 * A scripted model for tests: answers come from rules or a function, every request is kept for
 * assertions. Exported to users as `spri/test`.
 */
import {
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LanguageModel,
  type ModelCapabilities,
  type SamplingField,
  unhonouredSampling,
} from "./language-model.ts";

export type ScriptedAnswer = string | { text: string; finishReason?: FinishReason; inputTokens?: number; outputTokens?: number };

export interface ScriptRule {
  /** Matched against the concatenated message contents; a function sees the whole request. */
  when: RegExp | string | ((request: GenerateRequest) => boolean);
  /** A fixed answer, answers used in turn (the last repeats), or a function of the request. */
  reply: ScriptedAnswer | readonly ScriptedAnswer[] | ((request: GenerateRequest, call: number) => ScriptedAnswer);
}

export interface ScriptedModelOptions {
  modelId?: string;
  rules?: readonly ScriptRule[];
  /** Used when no rule matches; by default an unmatched request throws. */
  fallback?: (request: GenerateRequest, call: number) => ScriptedAnswer;
  constrainedOutput?: boolean;
  /** The sampling fields it honours (default all); a request with another throws, as adapters do. */
  sampling?: readonly SamplingField[];
  /** Simulated latency in milliseconds. */
  latencyMs?: number;
}

export class ScriptedModel implements LanguageModel {
  readonly id: string;
  readonly modelId: string;
  readonly capabilities: ModelCapabilities;
  readonly requests: GenerateRequest[] = [];
  private readonly uses = new Map<ScriptRule, number>();

  private readonly options: ScriptedModelOptions;

  constructor(options: ScriptedModelOptions = {}) {
    this.options = options;
    this.modelId = options.modelId ?? "scripted";
    this.id = `scripted#${this.modelId}`;
    this.capabilities = {
      constrainedOutput: options.constrainedOutput ?? false,
      ...(options.sampling ? { sampling: options.sampling } : {}),
    };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const call = this.requests.length;
    this.requests.push(request);
    const refused = unhonouredSampling(request.sampling ?? {}, this.capabilities);
    if (refused.length > 0)
      throw new Error(`ScriptedModel ${this.modelId}: request ${call} sets ${refused.join(", ")}, which it does not honour`);
    if (this.options.latencyMs) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    request.signal?.throwIfAborted();
    const text = request.messages.map((m) => m.content).join("\n");
    const rule = this.options.rules?.find((r) =>
      typeof r.when === "string" ? text.includes(r.when) : r.when instanceof RegExp ? r.when.test(text) : r.when(request),
    );
    let answer: ScriptedAnswer;
    if (rule) {
      const used = this.uses.get(rule) ?? 0;
      this.uses.set(rule, used + 1);
      answer =
        typeof rule.reply === "function"
          ? rule.reply(request, call)
          : Array.isArray(rule.reply)
            ? (rule.reply[Math.min(used, rule.reply.length - 1)] as ScriptedAnswer)
            : (rule.reply as ScriptedAnswer);
    } else if (this.options.fallback) {
      answer = this.options.fallback(request, call);
    } else {
      throw new Error(`ScriptedModel ${this.modelId}: no rule matches request ${call}: ${text.slice(0, 120)}`);
    }
    const result = typeof answer === "string" ? { text: answer } : answer;
    return {
      text: result.text,
      finishReason: result.finishReason ?? "stop",
      usage: {
        inputTokens: result.inputTokens ?? Math.ceil(text.length / 4),
        outputTokens: result.outputTokens ?? Math.ceil(result.text.length / 4),
      },
      latencyMs: this.options.latencyMs ?? 0,
      model: this.modelId,
    };
  }
}
