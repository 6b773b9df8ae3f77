/**
 * `spri judge`'s `Prepare`: settings and judge options → the per-item algorithm of the chosen rubric
 * source, with every template checked before any call is paid for.
 *
 * - Items are read as the rubric task reads them (the instruction from `input`, its system prompt,
 *   the group from `capability`), and keyed `<id>/<model_name>` when the row names the responding
 *   model: a benchmark judges several responses to one instance, and the rows share the id.
 * - Judging calls (the grading and its refinements) sample deterministically by default:
 *   temperature `--judge-temperature` (0) and seed `--seed` (0 when not given), both recorded in every
 *   call's trace. Rubric generation and the critic keep the run's sampling. Under
 *   `--compat reference` every call samples as the reference's did (compat `judgeSampling`).
 */
import { compatPreset, type ResolvedSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import { checkRubricTemplate, JUDGE_TEMPLATES } from "../../algorithms/judge/grading-prompt.ts";
import { DEFAULT_JUDGE_SCALE, judgementSchema, parseJudgeScore } from "../../algorithms/judge/judge-score.ts";
import type { JudgeContext, JudgeOptions } from "../../algorithms/judge/rubric-source.ts";
import { rubricSource } from "../../algorithms/judge/rubric-sources.ts";
import type { SamplingOptions } from "../../models/language-model.ts";
import { builtinJudgePack } from "../../io/prompts/builtin-judge.ts";
import { directoryPack, type PromptPack } from "../../io/prompts/prompt-pack.ts";
import { resolveCompat } from "../../algorithms/spri/compat.ts";
import type { SpriSettings } from "../../algorithms/spri/spri.ts";
import { checkLoopLimits, type ItemKey, type Prepare, type PreparedTask, spriSettingsOf } from "./prepare.ts";
import { loadSeeds } from "./seeds.ts";
import { requiredTemplates, type TaskOptions, taskSteps } from "./spri-task.ts";

/** The field naming the responding model; with it, one instance's rows are told apart. */
export const RESPONDENT_FIELD = "model_name";

/** The seed of the judging calls when `--seed` is not given. */
export const DEFAULT_JUDGE_SEED = 0;

export const DEFAULT_JUDGE_OPTIONS: Readonly<JudgeOptions> = Object.freeze({
  rubrics: "spri",
  responseField: "response",
  rubricField: "score_rubric",
  groupField: "capability",
  idField: "id",
  scale: DEFAULT_JUDGE_SCALE,
  judgeTemperature: 0,
});

/** `<id>/<model_name>` when the row has a model name, else the id. */
export const judgeItemKey: ItemKey = (row, id) => {
  const respondent = row[RESPONDENT_FIELD];
  if (respondent === undefined || respondent === null || respondent === "") return id;
  return `${id}/${typeof respondent === "string" ? respondent : JSON.stringify(respondent)}`;
};

export function prepareJudge(judge: Partial<JudgeOptions> = {}): Prepare {
  const options: JudgeOptions = {
    ...DEFAULT_JUDGE_OPTIONS,
    ...Object.fromEntries(Object.entries(judge).filter(([, v]) => v !== undefined)),
  };
  return (settings) => prepareJudgeTask(settings, options);
}

export function prepareJudgeTask(settings: ResolvedSettings, options: JudgeOptions): PreparedTask {
  const source = rubricSource(options.rubrics);
  const preset = compatPreset(settings.compat);
  const compat = resolveCompat(preset);
  const { scale } = options;
  if (compat.judgeScoreParser === "biggen-regex" && (scale.min !== 1 || scale.max !== 5)) {
    throw new ConfigError(`--scale ${scale.min}-${scale.max} cannot be read by the reference's score regex, which reads 1-5 only`, {
      field: "scale",
      hint: "leave out --compat reference to judge on another scale",
    });
  }
  if (!Number.isFinite(options.judgeTemperature) || options.judgeTemperature < 0) {
    throw new ConfigError(`--judge-temperature must be a number of at least 0`, { field: "judgeTemperature" });
  }
  checkLoopLimits(settings);
  if (!source.usesSeeds && (settings.seeds || settings.seedsPerDomain)) {
    throw new ConfigError(`--seeds does not apply to --rubrics ${source.name}`, {
      field: "seeds",
      hint: "leave out --seeds and --seeds-per-domain",
    });
  }
  const seeds = settings.seeds ? loadSeeds(settings.seeds) : undefined;
  if (settings.seedsPerDomain && !seeds) throw new ConfigError("--seeds-per-domain needs --seeds", { field: "seedsPerDomain" });

  const pack: PromptPack = settings.prompts && settings.prompts.length > 0 ? directoryPack(settings.prompts) : builtinJudgePack();
  const judgeSampling: SamplingOptions | undefined =
    compat.judgeSampling === "deterministic"
      ? { temperature: options.judgeTemperature, maxTokens: settings.maxNewTokens, seed: settings.seed ?? DEFAULT_JUDGE_SEED }
      : undefined;
  // Constrained judges answer JSON, which only the lenient parser reads.
  const schema = compat.judgeScoreParser === "lenient" && compat.criticOutput === "auto" ? judgementSchema(scale) : undefined;
  const spri: SpriSettings = { ...spriSettingsOf(settings, preset, "both"), responseCalls: { sampling: judgeSampling, schema } };
  const rubricTask: TaskOptions = { task: "rubric", pack, seeds, seedsPerDomain: settings.seedsPerDomain, compat };
  const context: JudgeContext = {
    options,
    settings,
    compat,
    pack,
    spri,
    rubricStage: { steps: (item) => taskSteps(item, rubricTask), templates: requiredTemplates("rubric", "principles") },
    judgeSampling,
    score: (text) => parseJudgeScore(text, { parser: compat.judgeScoreParser, scale }),
  };
  for (const name of source.templates(context)) pack.get(name);
  if (pack.has(JUDGE_TEMPLATES.rubric)) checkRubricTemplate(pack);
  return {
    task: "rubric",
    taskOptions: rubricTask,
    spri,
    algorithm: source.algorithm(context),
    itemKey: judgeItemKey,
    identity: { ...options },
  };
}
