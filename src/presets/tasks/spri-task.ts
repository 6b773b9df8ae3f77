/**
 * Task presets: how each SPRI step's messages are assembled for sft, reappraisal and rubric. The
 * assembly rules are the reference's (spec §4): a generation system prompt is the template, a blank
 * line and the few-shot block; critic calls are one user message, the critique template formatted
 * with the item's fields; refinement system prompts are the template as is.
 */
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import type { ChatMessage } from "../../models/language-model.ts";
import type { PromptPack } from "../../io/prompts/prompt-pack.ts";
import type { CompatOptions } from "../../algorithms/spri/compat.ts";
import type { SpriSteps } from "../../algorithms/spri/spri.ts";
import { pyFormat } from "../../base/util/python.ts";
import { type SeedSet, formatFewShot, seedsForDomain } from "./seeds.ts";
import type { TaskName } from "./task-item.ts";

export interface TaskOptions {
  task: TaskName;
  pack: PromptPack;
  seeds?: SeedSet;
  /** Keep only the seeds whose domain matches the item's. */
  seedsPerDomain?: boolean;
  compat: Pick<CompatOptions, "refinementContext">;
}

interface TemplateNames {
  gen: string;
  critique: string;
  refine: string;
  responseGen?: string;
  responseCritique?: string;
  responseRefine?: string;
}

const PRINCIPLE_TEMPLATES: TemplateNames = {
  gen: "instruct-stage1_01-principle_gen.txt",
  critique: "instruct-stage1_02-principle_critique.txt",
  refine: "instruct-stage1_02-principle_refinement.txt",
  responseGen: "instruct-stage2_01-gen_init_responses.txt",
  responseCritique: "instruct-stage2_02-response_critique.txt",
  responseRefine: "instruct-stage2_02-response_refinement.txt",
};

export const TASK_TEMPLATES: Record<TaskName, TemplateNames> = {
  sft: PRINCIPLE_TEMPLATES,
  reappraisal: PRINCIPLE_TEMPLATES,
  rubric: {
    gen: "instruct-stage1_01-rubric_gen.txt",
    critique: "instruct-stage1_02-rubric_critique.txt",
    refine: "instruct-stage1_02-rubric_refinement.txt",
  },
};

/** The templates a task needs, so a pack can be checked before any call is paid for. */
export function requiredTemplates(task: TaskName, stages: "both" | "principles"): string[] {
  const names = TASK_TEMPLATES[task];
  const stage1 = [names.gen, names.critique, names.refine];
  if (stages === "principles") return stage1;
  return [...stage1, names.responseGen, names.responseCritique, names.responseRefine].filter((n): n is string => n !== undefined);
}

/** Without examples, the template's sentence introducing them ("… follow these examples:") goes. */
const EXAMPLES_SENTENCE = / [^.!?\n]*\bthese examples:/;

const templatesWithoutExamples = new Map<string, string>();

/** The template without its examples sentence, worked out once per template (a pack holds a few). */
function withoutExamples(template: string): string {
  let found = templatesWithoutExamples.get(template);
  if (found === undefined) {
    found = `${template.replace(EXAMPLES_SENTENCE, "")}\n\n`;
    if (templatesWithoutExamples.size < 64) templatesWithoutExamples.set(template, found);
  }
  return found;
}

function system(content: string): ChatMessage {
  return { role: "system", content };
}
function user(content: string): ChatMessage {
  return { role: "user", content };
}

export function taskSteps(item: TaskItem, options: TaskOptions): SpriSteps {
  const { task, pack } = options;
  const names = TASK_TEMPLATES[task];
  const fullContext = options.compat.refinementContext === "full";

  const fewShotSystem = (): string => {
    let template = pack.get(names.gen);
    if (!options.seeds) return withoutExamples(template);
    const seeds = options.seedsPerDomain ? seedsForDomain(options.seeds, item.domain) : options.seeds.seeds;
    return `${template}\n\n${formatFewShot(options.seeds.kind, seeds, item.reference === undefined)}`;
  };

  if (task === "rubric") return rubricSteps(item, pack, names, fewShotSystem);

  const q = item.question;
  const goal = item.goal;
  const goalLine = goal === undefined ? "" : `### Response Goal: ${goal}\n`;
  const needResponse = (name: string | undefined): string => pack.get(name!);
  return {
    principleDraft: () => [system(fewShotSystem()), user(`### Question: ${q}\n${goalLine}### Principles:`)],
    principleCritique: (principles) => [
      user(pyFormat(pack.get(names.critique), { orig_question: q, response_goal: goal ?? "", orig_principle: principles }, names.critique)),
    ],
    principleRefine: (principles, feedback) => [
      system(pack.get(names.refine)),
      user(
        `### Question: ${q}\n${fullContext ? goalLine : ""}### Principles: ${principles}\n### Feedback: ${feedback}\n### Refined Principles:`,
      ),
    ],
    responseDraft: (principles) => [
      system(`${needResponse(names.responseGen)}\n\n`),
      user(`### Question: ${q}\n### Principles: ${principles}\n\n### Response:`),
    ],
    responseCritique: (principles, response) => [
      user(
        pyFormat(
          needResponse(names.responseCritique),
          { orig_question: q, response_goal: goal ?? "", orig_principle: principles, orig_response: response },
          names.responseCritique!,
        ),
      ),
    ],
    responseRefine: (principles, response, feedback) => [
      system(needResponse(names.responseRefine)),
      user(
        `### Question: ${q}\n${fullContext ? `### Principles: ${principles}\n` : ""}### Response: ${response}\n### Feedback: ${feedback}\n### Refined Response:`,
      ),
    ],
  };
}

function rubricSteps(item: TaskItem, pack: PromptPack, names: TemplateNames, fewShotSystem: () => string): SpriSteps {
  const input = item.systemPrompt === undefined ? item.question : `${item.systemPrompt}\n\n${item.question}`;
  const reference = item.reference === undefined ? "" : `### Reference Answer: ${item.reference}\n\n`;
  const stageTwo = (): never => {
    throw new Error("the rubric task has no response stage of its own; grading a response with the rubric is `spri judge`");
  };
  return {
    principleDraft: () => [system(fewShotSystem()), user(`### Input: ${input}\n\n${reference}### Rubric:`)],
    principleCritique: (rubric) => [
      user(
        pyFormat(
          pack.get(names.critique),
          { orig_input: input, orig_rubric: rubric, reference_answer: item.reference ?? "" },
          names.critique,
        ),
      ),
    ],
    principleRefine: (rubric, feedback) => [
      system(pack.get(names.refine)),
      user(`### Input: ${input}\n\n${reference}### Rubric: ${rubric}\n\n### Feedback: ${feedback}\n\n### Refined Rubric:`),
    ],
    responseDraft: stageTwo,
    responseCritique: stageTwo,
    responseRefine: stageTwo,
  };
}
