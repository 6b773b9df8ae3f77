/**
 * The commands that judge a file of cases (`id`, `question`, …) with one judge model through the
 * runner (compare, eval reappraisal, win-rate, mt-bench, ifeval): the flags they share and their run.
 */
import type { Command } from "commander";
import type { ResolvedSettings, SettingName } from "../../config/config.ts";
import type { ItemAlgorithm } from "../../algorithms/contract/item-algorithm.ts";
import { prepareTask } from "../../presets/tasks/prepare.ts";
import { JUDGE_RUN_SETTINGS, addJudgeModelFlags, addSettingFlags } from "./options.ts";
import { executeRecordedRun, type FinishedRun, ONE_SAMPLE } from "./run.ts";
import { newRunOption } from "./run-options.ts";

/** --new-run, the judge model's flags, and the judge's run settings with the command's own `settings`. */
export function addJudgeCaseFlags(command: Command, settings: readonly SettingName[]): void {
  command.addOption(newRunOption());
  addJudgeModelFlags(command);
  addSettingFlags(command, [...JUDGE_RUN_SETTINGS, ...settings]);
}

export interface JudgeCases {
  /** The cases (JSONL: `id`, `question` and the algorithm's own fields). */
  cases: string;
  /** The judgements, one record per case. */
  output: string;
  /** The judge's algorithm and what identifies it in the run, from the resolved settings. */
  judge: (settings: ResolvedSettings) => { algorithm: ItemAlgorithm; identity: Record<string, unknown> };
  /** Settings flags the command sets itself (default: one sample per case). */
  extraFlags?: Readonly<Record<string, unknown>>;
  /** Settings the (unused) SPRI task must not see, e.g. a --prompts that names the judge's pack. */
  taskSettings?: Partial<ResolvedSettings>;
}

/** Judges the cases through the runner (`raw`: the command's options, for its settings flags); the run, undefined for a dry run. */
export function executeJudgeCases(raw: Record<string, unknown>, run: JudgeCases): Promise<FinishedRun | undefined> {
  return executeRecordedRun(
    { ...raw, input: run.cases, output: run.output, idField: "id", questionField: "question", json: false },
    (settings) => ({ ...prepareTask({ ...settings, task: "sft", ...run.taskSettings }), ...run.judge(settings) }),
    run.extraFlags ?? ONE_SAMPLE,
  );
}
