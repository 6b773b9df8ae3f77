/**
 * The one-call rubric sources of `spri judge` (spec §6.3): the judge grades the row's response once,
 * with the grading prompt SPRI's judge step uses (`grading-prompt.ts`: ABSOLUTE_PROMPT, or
 * ABSOLLUTE_REFINE_PROMPT for `llm_judge` ids; reference-free unless `--reference-field`), under the
 * judge system prompt. Only the rubric differs:
 *
 * | source | rubric | fields |
 * | --- | --- | --- |
 * | `oracle` | the row's gold rubric (`--rubric-field`, default `score_rubric`) | `[direct_eval]` |
 * | `vanilla` | a generic rubric (`task2-vanilla-rubric.txt`) | `[vanilla]` |
 * | `flask` | the FLASK skill rubric of the row's capability (`FLASK_RUBRICS.jsonl`) | `[baseline]-flask` |
 * | `seed-principles` | a seed principle (`SEED_PRINCIPLE_RUBRICS.jsonl`), compat `seedPrincipleChoice` | `[baseline]-[seed_principles_as_rubrics]` |
 *
 * Each writes `X` (the judgement), `X-score` and `X-prompt` (the messages sent). A rubric dict (a
 * gold rubric, a FLASK rubric) is rendered through the rubric template exactly as the reference's
 * `SCORE_RUBRIC_TEMPLATE.format(**rubric)`; any other rubric goes into the prompt as text.
 */
import type { ItemAlgorithm } from "../../contract/item-algorithm.ts";
import type { TaskItem } from "../../contract/task-item.ts";
import { ConfigError, InputError } from "../../../base/errors/errors.ts";
import type { ChatMessage } from "../../../models/language-model.ts";
import { JUDGE_BASELINE_TEMPLATES } from "../../../io/prompts/builtin-judge-baselines.ts";
import type { PromptPack } from "../../../io/prompts/prompt-pack.ts";
import { hash32 } from "../../../base/util/hash.ts";
import { pyRepr } from "../../../base/util/python.ts";
import { type GradingPrompt, gradingPrompt, JUDGE_TEMPLATES, RUBRIC_KEYS } from "../grading-prompt.ts";
import { inputId, type JudgeContext, judgedResponse, type RubricSource } from "../rubric-source.ts";
import {
  baselinePack,
  checkedTemplates,
  jsonlTemplate,
  judgeCall,
  judgementFields,
  ONE_CALL,
  rowCaller,
  scaledTemplate,
  system,
  user,
} from "./common.ts";
import { PythonRandom } from "./python-random.ts";

/** The templates every grading-based source reads from the judge's pack. */
export const GRADING_TEMPLATES = [
  JUDGE_TEMPLATES.system,
  JUDGE_TEMPLATES.grading,
  JUDGE_TEMPLATES.metaGrading,
  JUDGE_TEMPLATES.rubric,
] as const;

/** The judge's grading call for a row and a rubric: [judge system, grading prompt]. */
export function gradingRequest(
  pack: PromptPack,
  context: Pick<JudgeContext, "options">,
  item: TaskItem,
  rubric: string,
): { grading: GradingPrompt; messages: ChatMessage[] } {
  const { options } = context;
  const grading = gradingPrompt(pack, {
    id: inputId(item, options.idField),
    instruction: item.question,
    response: judgedResponse(item, options.responseField),
    rubric,
    reference: item.reference,
    scale: options.scale,
  });
  return { grading, messages: [system(pack.get(JUDGE_TEMPLATES.system)), user(grading.text)] };
}

/**
 * A rubric dict as the text the grading prompt parses back (Python literal syntax), so it is
 * rendered through the rubric template: the reference's `SCORE_RUBRIC_TEMPLATE.format(**rubric)`.
 * Undefined when it is not a dict with every rubric key.
 */
export function rubricDictText(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const dict = value as Record<string, unknown>;
  return RUBRIC_KEYS.every((key) => key in dict) ? pyRepr(dict) : undefined;
}

interface GradingSourceSpec {
  name: string;
  description: string;
  /** The output field X (`X-score`, `X-prompt` beside it). */
  field: string;
  /** Baseline templates it reads besides the grading templates. */
  templates: readonly string[];
  /** Called once per run: returns the row → rubric function (throws InputError for a row without one). */
  rubrics(context: JudgeContext, pack: PromptPack): (item: TaskItem) => string;
}

function gradingSource(spec: GradingSourceSpec): RubricSource {
  return {
    name: spec.name,
    description: spec.description,
    usesSeeds: false,
    scoreField: `${spec.field}-score`,
    templates: (context) => checkedTemplates(context, GRADING_TEMPLATES, spec.templates),
    algorithm(context): ItemAlgorithm {
      const pack = baselinePack(context);
      for (const name of [...GRADING_TEMPLATES, ...spec.templates]) pack.get(name);
      const rubricOf = spec.rubrics(context, pack);
      return {
        name: `judge/${spec.name}`,
        calls: ONE_CALL,
        async run(item, models, callContext) {
          const { messages } = gradingRequest(pack, context, item, rubricOf(item));
          const caller = rowCaller(context, callContext);
          const judgement = await judgeCall(caller, context, { model: models.base, step: `judge.${spec.name}`, iteration: 0, messages });
          return { fields: judgementFields(spec.field, judgement, messages), calls: caller.calls };
        },
      };
    },
  };
}

// --- oracle: the gold rubric -----------------------------------------------------------------------------

export const oracleRubricSource = gradingSource({
  name: "oracle",
  description: "the row's gold rubric (--rubric-field), one grading call",
  field: "[direct_eval]",
  templates: [],
  rubrics: (context) => {
    const field = context.options.rubricField;
    return (item) => {
      const value = item.row[field];
      if (typeof value === "string" && value.trim() !== "") return value;
      const text = rubricDictText(value);
      if (text !== undefined) return text;
      throw new InputError(
        value === undefined || value === null
          ? `the row has no gold rubric in "${field}"`
          : `the gold rubric in "${field}" is not a rubric`,
        {
          field,
          hint: `give each row a rubric: a dict with ${RUBRIC_KEYS.join(", ")} (or its text); name the field with --rubric-field`,
        },
      );
    };
  },
});

// --- vanilla: a generic rubric ---------------------------------------------------------------------------

export const vanillaRubricSource = gradingSource({
  name: "vanilla",
  description: "one generic rubric for every row, one grading call",
  field: "[vanilla]",
  templates: [JUDGE_BASELINE_TEMPLATES.vanillaRubric],
  rubrics: (context, pack) => {
    const rubric = scaledTemplate(pack, JUDGE_BASELINE_TEMPLATES.vanillaRubric, context);
    return () => rubric;
  },
});

// --- flask: the skill rubric of the row's capability -------------------------------------------------------

/** The reference's BiGGen capability → FLASK skill mapping (spec §6.3). */
export const FLASK_SKILL_OF_CAPABILITY: Readonly<Record<string, string>> = Object.freeze({
  instruction_following: "comprehension",
  grounding: "factuality",
  reasoning: "logical_robustness",
  planning: "insightfulness",
  refinement: "commonsense_understanding",
  safety: "harmlessness",
  theory_of_mind: "metacognition",
  tool_usage: "comprehension",
});

/** `FLASK_RUBRICS.jsonl`: skill → rubric text (Python literal of the rubric dict). */
export function flaskRubrics(pack: PromptPack): Map<string, string> {
  const name = JUDGE_BASELINE_TEMPLATES.flaskRubrics;
  const rubrics = new Map<string, string>();
  jsonlTemplate(pack, name).forEach((row, index) => {
    const skill = row.flask_task;
    const text = rubricDictText(row.flask_rubric);
    if (typeof skill !== "string" || text === undefined) {
      throw new ConfigError(
        `${name} entry ${index + 1} needs "flask_task" (a skill name) and "flask_rubric" (a dict with ${RUBRIC_KEYS.join(", ")})`,
      );
    }
    rubrics.set(skill, text);
  });
  return rubrics;
}

export const flaskRubricSource = gradingSource({
  name: "flask",
  description: "the FLASK skill rubric of the row's capability (--group-field), one grading call",
  field: "[baseline]-flask",
  templates: [JUDGE_BASELINE_TEMPLATES.flaskRubrics],
  rubrics: (context, pack) => {
    const rubrics = flaskRubrics(pack);
    for (const [capability, skill] of Object.entries(FLASK_SKILL_OF_CAPABILITY)) {
      if (!rubrics.has(skill))
        throw new ConfigError(`${JUDGE_BASELINE_TEMPLATES.flaskRubrics} has no rubric for the skill "${skill}" (capability ${capability})`);
    }
    const field = context.options.groupField;
    return (item) => {
      const group = item.row[field];
      const name = typeof group === "string" ? group : undefined;
      // A BiGGen capability, or a FLASK skill named directly.
      const rubric = name === undefined ? undefined : rubrics.get(FLASK_SKILL_OF_CAPABILITY[name] ?? name);
      if (rubric === undefined) {
        throw new InputError(
          name === undefined ? `the row has no capability in "${field}"` : `no FLASK skill for the capability "${name}"`,
          {
            field,
            hint: `use a BiGGen capability (${Object.keys(FLASK_SKILL_OF_CAPABILITY).join(", ")}) or a skill of ${JUDGE_BASELINE_TEMPLATES.flaskRubrics} (${[...rubrics.keys()].join(", ")}); name the field with --group-field`,
          },
        );
      }
      return rubric;
    };
  },
});

// --- seed-principles: a seed principle as the rubric ----------------------------------------------------------

/** `SEED_PRINCIPLE_RUBRICS.jsonl`: the principles, in file order. */
export function seedPrinciples(pack: PromptPack): string[] {
  const name = JUDGE_BASELINE_TEMPLATES.seedPrincipleRubrics;
  return jsonlTemplate(pack, name).map((row, index) => {
    if (typeof row.principle !== "string") throw new ConfigError(`${name} entry ${index + 1} needs a "principle" string`);
    return row.principle;
  });
}

/**
 * Which principle grades a row. `reference`: Python's `random.seed(0); random.choice(principles)`,
 * made anew for every row, so always the same index. `per-instance`: seeded by `--seed` (0 when not
 * given) and the input's id.
 */
export function seedPrincipleIndex(count: number, mode: "per-instance" | "reference", seed: number, instanceId: string): number {
  if (mode === "reference") return new PythonRandom(0).choiceIndex(count);
  return hash32(`${seed}\u0000${instanceId}`) % count;
}

export const seedPrinciplesRubricSource = gradingSource({
  name: "seed-principles",
  description: "a seed principle as the rubric (a seeded choice per instance), one grading call",
  field: "[baseline]-[seed_principles_as_rubrics]",
  templates: [JUDGE_BASELINE_TEMPLATES.seedPrincipleRubrics],
  rubrics: (context, pack) => {
    const principles = seedPrinciples(pack);
    const seed = context.settings.seed ?? 0;
    return (item) =>
      principles[seedPrincipleIndex(principles.length, context.compat.seedPrincipleChoice, seed, inputId(item, context.options.idField))]!;
  },
});
