/**
 * The paper's GPT-4 judge of task 1 as a ReappraisalJudge: the prompts eval_prompts.py builds (read
 * from the pack at run time), the evaluation script's system prompt, and the paper's score parsers.
 * Its functions take keyword arguments named as the script passes them: `post`, `reappraisal_aim`,
 * `reappraisal_standard` and `reappraisal` (the reply).
 */
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import { hash32 } from "../../base/util/hash.ts";
import type { SamplingOptions } from "../../models/language-model.ts";
import type { PaperJudgePack } from "../../io/prompts/paper-judge-pack.ts";
import { renderFString } from "../../io/prompts/python-source.ts";
import { PAPER_EVAL_TASKS, paperScore } from "./paper-reappraisal-scores.ts";
import type { ReappraisalCase, ReappraisalJudge } from "./reappraisal-eval.ts";
import { REPORT_CRITERIA, type ReportCriterion } from "./reappraisal-report.ts";

/** Each argument of the prompt functions, and the case field (with its flag) that fills it. */
const ARGUMENTS: Record<string, { value: (c: ReappraisalCase) => string | undefined; what: string }> = {
  post: { value: (c) => c.post, what: "the post (--post-field)" },
  reappraisal: { value: (c) => c.response, what: "the reply (--response-field)" },
  reappraisal_aim: { value: (c) => c.aim, what: "the reply's aim (--aim-field)" },
  reappraisal_standard: { value: (c) => c.standards, what: "the reappraisal standards (--standards-field)" },
};

const functionOf = (criterion: ReportCriterion) => `build_eval_prompt_${PAPER_EVAL_TASKS[criterion]}`;

/** The prompt functions the pack must hold, one per criterion. */
export function paperPromptFunctions(): string[] {
  return REPORT_CRITERIA.map(functionOf);
}

export function paperReappraisalJudge(pack: PaperJudgePack): ReappraisalJudge {
  for (const criterion of REPORT_CRITERIA) {
    const fstring = pack.prompts[functionOf(criterion)]!;
    const unknown = fstring.params.filter((param) => !(param in ARGUMENTS));
    if (unknown.length > 0) {
      throw new ConfigError(`${fstring.name} takes ${unknown.join(", ")}, which the evaluation script does not pass`, {
        file: fstring.file,
        line: fstring.line,
        hint: `its arguments are ${Object.keys(ARGUMENTS).join(", ")}`,
      });
    }
  }
  return {
    system: pack.system,
    prompt(criterion, c) {
      const fstring = pack.prompts[functionOf(criterion)]!;
      const values: Record<string, string> = {};
      for (const param of fstring.params) {
        const value = ARGUMENTS[param]!.value(c);
        if (value === undefined) {
          throw new InputError(`the paper's ${criterion} prompt needs ${ARGUMENTS[param]!.what}, which this record lacks`, {
            field: param,
          });
        }
        values[param] = value;
      }
      return renderFString(fstring, values);
    },
    parse: (criterion, text) => paperScore(criterion, text),
  };
}

/** The judge's sampling: the flags', else the pack's settings, else the paper's evaluator settings (0.1, seed 36). */
export function paperJudgeSampling(
  flags: { temperature?: number; seed?: number; maxNewTokens?: number },
  pack: PaperJudgePack | undefined,
): SamplingOptions {
  const temperature = flags.temperature ?? pack?.settings.temperature ?? 0.1;
  const seed = flags.seed ?? pack?.settings.seed ?? 36;
  const maxTokens = flags.maxNewTokens ?? pack?.settings.maxTokens;
  return maxTokens === undefined ? { temperature, seed } : { temperature, seed, maxTokens };
}

/** What identifies the pack's judge in a run: its directory and a digest of what it sends. */
export function paperJudgePackIdentity(pack: PaperJudgePack): Record<string, unknown> {
  return { dir: pack.dir, digest: hash32(JSON.stringify([pack.system, pack.prompts])).toString(16) };
}
