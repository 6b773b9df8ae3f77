/** The library's one-call entry point: SPRI for one question, with the paper's defaults. */
import type { CallRecord } from "../io/records.ts";
import type { LanguageModel } from "../models/language-model.ts";
import { builtinPack, type PromptPack } from "../io/prompts/prompt-pack.ts";
import { type CompatOptions, resolveCompat } from "../algorithms/spri/compat.ts";
import { DEFAULT_SETTINGS, runSpri, type SpriResult, type SpriSettings } from "../algorithms/spri/spri.ts";
import type { SeedSet } from "./tasks/seeds.ts";
import { taskSteps } from "./tasks/spri-task.ts";
import { type TaskName, toTaskItem } from "./tasks/task-item.ts";

export interface AlignOptions {
  base: LanguageModel;
  /** Defaults to the base model. */
  critic?: LanguageModel;
  task?: TaskName;
  goal?: string;
  reference?: string;
  pack?: PromptPack;
  seeds?: SeedSet;
  compat?: "default" | "reference" | Partial<CompatOptions>;
  settings?: Partial<Omit<SpriSettings, "compat">>;
  signal?: AbortSignal;
  onCall?: (call: CallRecord) => void;
}

export async function align(question: string, options: AlignOptions): Promise<SpriResult> {
  const task = options.task ?? "sft";
  const compat = typeof options.compat === "string" ? resolveCompat(options.compat) : resolveCompat("default", options.compat ?? {});
  const row: Record<string, unknown> = { question, goal: options.goal, reference: options.reference };
  const item = toTaskItem(
    task,
    row,
    { questionField: "question", goalField: "goal", referenceField: options.reference === undefined ? undefined : "reference" },
    { file: "<align>", line: 1 },
  );
  const steps = taskSteps(item, { task, pack: options.pack ?? builtinPack(task), seeds: options.seeds, compat });
  const settings: SpriSettings = {
    ...DEFAULT_SETTINGS,
    stages: task === "rubric" ? "principles" : "both",
    ...options.settings,
    compat,
  };
  return runSpri(steps, { base: options.base, critic: options.critic ?? options.base }, settings, {
    itemId: "1",
    signal: options.signal,
    onCall: options.onCall,
  });
}
