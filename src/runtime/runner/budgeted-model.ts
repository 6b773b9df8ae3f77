/**
 * A model whose calls are paid from the run's budget (see run-spend.ts): before a call it holds the
 * call's worst case (`worstCaseCost` at the model's price), and when the call ends it charges what
 * the call cost. A call the budget cannot pay for is not made: `generate` throws `BudgetError`.
 * It sits inside the call cache (a cached answer costs nothing) and outside the retries (what is
 * charged is what the call finally reported).
 */
import type {
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  LogLikelihoodRequest,
  LogLikelihoodResult,
} from "../../models/language-model.ts";
import { ModelDecorator } from "../../models/model-decorator.ts";
import { costAt, type Price, worstCaseCost, worstCaseLogLikelihoodCost } from "./cost.ts";
import type { RunSpend } from "./run-spend.ts";

export class BudgetedModel extends ModelDecorator {
  private readonly spend: RunSpend;
  private readonly price: Price | undefined;
  private readonly factor: number;

  /** `price`: the model's, undefined without a cost budget; `factor` scales it (batch discounts). */
  constructor(inner: LanguageModel, spend: RunSpend, price: Price | undefined, factor = 1) {
    super(inner);
    this.spend = spend;
    this.price = price;
    this.factor = factor;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const worst = this.price ? worstCaseCost(request, this.price) * this.factor : 0;
    const hold = await this.spend.admit({ costUsd: worst, tokens: 1 }, this.modelId);
    let result: GenerateResult;
    try {
      result = await this.inner.generate(request);
    } catch (error) {
      this.spend.finish(hold, { costUsd: 0, tokens: 0 });
      throw error;
    }
    const costUsd = this.price ? costAt(this.price, result.usage) * this.factor : 0;
    this.spend.finish(hold, { costUsd, tokens: result.usage.inputTokens + result.usage.outputTokens });
    return result;
  }

  /** Its worst case: every byte of every prompt a token, nothing written. */
  override async logLikelihood(request: LogLikelihoodRequest): Promise<LogLikelihoodResult> {
    const worst = this.price ? worstCaseLogLikelihoodCost(request, this.price) * this.factor : 0;
    const hold = await this.spend.admit({ costUsd: worst, tokens: 1 }, this.modelId);
    let result: LogLikelihoodResult;
    try {
      result = await super.logLikelihood(request);
    } catch (error) {
      this.spend.finish(hold, { costUsd: 0, tokens: 0 });
      throw error;
    }
    const costUsd = this.price ? costAt(this.price, result.usage) * this.factor : 0;
    this.spend.finish(hold, { costUsd, tokens: result.usage.inputTokens });
    return result;
  }
}
