/** `spri align "<question>"`: one question through SPRI, with live progress. */
import type { Command } from "commander";
import { runSpri, type SpriResult } from "../spri/spri.ts";
import { taskSteps } from "../tasks/spri-task.ts";
import type { CallRecord } from "../io/records.ts";
import { baselineResponseField } from "../tasks/baselines/baselines.ts";
import type { TaskItem } from "../algorithm/task-item.ts";
import { type BaselineTaskName, isBaselineTask, toTaskItem } from "../tasks/task-item.ts";
import { ENVIRONMENT_HELP, addSettingFlags } from "./options.ts";
import { callProgressLine, TerminalProgress } from "./progress.ts";
import { openSession, type Session } from "./session.ts";

export function alignCommand(program: Command): void {
  const command = program
    .command("align")
    .description("write principles for one question, then a response that follows them (with --task baseline-…: that baseline's answer)")
    .argument("<question>", "the user input")
    .option("--goal <text>", "response goal (reappraisal task)")
    .option("--reference <text>", "reference answer (rubric task)")
    .option("--json", "print one JSON object (the record and every call) instead of text");
  addSettingFlags(command, [
    "task", "baseModel", "baseUrl", "baseProvider", "criticModel", "criticUrl", "criticProvider",
    "threshold", "maxCritiques", "temperature", "topP", "topK", "maxNewTokens", "seed", "timeout",
    "compat", "onUnscored", "unscoredRetries", "prompts", "seeds", "structuredOutput", "httpClient", "model",
  ]);
  command.addHelpText("after", ENVIRONMENT_HELP);
  command.action(async (question: string, options: Record<string, unknown>) => {
    const session = await openSession(options, { concurrency: 1 });
    const progress = new TerminalProgress();
    try {
      const row: Record<string, unknown> = { question };
      if (options.goal !== undefined) row.goal = options.goal;
      const item = toTaskItem(session.prepared.task, row, {
        questionField: "question",
        goalField: options.goal === undefined ? undefined : "goal",
        referenceField: options.reference === undefined ? undefined : "reference",
      }, { file: "<command line>", line: 1 });
      if (options.reference !== undefined) item.reference = String(options.reference);
      const onCall = (call: CallRecord) => progress.line(callProgressLine(call));
      const { task } = session.prepared;
      const text = isBaselineTask(task)
        ? await alignBaseline(task, item, session, onCall, progress, Boolean(options.json))
        : await alignSpri(item, session, onCall, progress, Boolean(options.json));
      process.stdout.write(text);
    } finally {
      await session.close();
    }
  });
}

/** SPRI's two stages on the item; the record and calls as JSON, or principles and response as text. */
async function alignSpri(item: TaskItem, session: Session, onCall: (call: CallRecord) => void, progress: TerminalProgress, json: boolean): Promise<string> {
  progress.line(`spri: base ${session.models.base.modelId}, critic ${session.models.critic.modelId}, τ=${session.prepared.spri.threshold}, n_max=${session.prepared.spri.maxCritiques}`);
  const result = await runSpri(taskSteps(item, session.prepared.taskOptions), session.models, session.prepared.spri, { itemId: "1", onCall });
  if (json) return `${JSON.stringify({ record: { question: item.question, ...result.fields }, calls: result.calls }, null, 2)}\n`;
  return formatResult(result, session.prepared.task);
}

/** A baseline is its own algorithm (one call, or self-refine's turns), not SPRI's two stages. */
async function alignBaseline(task: BaselineTaskName, item: TaskItem, session: Session, onCall: (call: CallRecord) => void, progress: TerminalProgress, json: boolean): Promise<string> {
  progress.line(`spri: ${task}, base ${session.models.base.modelId}`);
  const outcome = await session.prepared.algorithm.run(item, session.models, { itemId: "1", onCall });
  if (json) return `${JSON.stringify({ record: { question: item.question, ...outcome.fields }, calls: outcome.calls }, null, 2)}\n`;
  return `Response (${task})\n${String(outcome.fields[baselineResponseField(task)] ?? "").trim()}\n\n`;
}

function scoreList(result: SpriResult["principles"]): string {
  return result.outcome.iterations.map((it) => (it.critique.score === null ? "unscored" : String(it.critique.score))).join(" → ");
}

export function formatResult(result: SpriResult, task: string): string {
  const lines: string[] = [];
  const noun = task === "rubric" ? "Rubric" : "Principles";
  lines.push(`${noun} (critic scores: ${scoreList(result.principles)}; stopped: ${result.principles.outcome.stop})`);
  lines.push(result.principles.outcome.final.trim(), "");
  if (result.response) {
    lines.push(`Response (critic scores: ${scoreList(result.response)}; stopped: ${result.response.outcome.stop})`);
    lines.push(result.response.outcome.final.trim(), "");
  }
  return `${lines.join("\n")}\n`;
}
