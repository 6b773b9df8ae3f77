/** `spri align "<question>"`: one question through SPRI, with live progress. */
import type { Command } from "commander";
import { SAMPLE_FIELD, sampleCount } from "../../runtime/runner/samples.ts";
import { UnscoredWatch } from "../../runtime/runner/unscored-watch.ts";
import { runSpri, type SpriResult } from "../../algorithms/spri/spri.ts";
import { taskSteps } from "../../presets/tasks/spri-task.ts";
import type { CallRecord } from "../../io/records.ts";
import { baselineResponseField } from "../../presets/tasks/baselines/baselines.ts";
import type { TaskItem } from "../../algorithms/contract/task-item.ts";
import { type BaselineTaskName, isBaselineTask, isResortTask, type ResortTaskName, toTaskItem } from "../../presets/tasks/task-item.ts";
import { ENVIRONMENT_HELP, SPRI_ITEM_SETTINGS, addSettingFlags } from "./options.ts";
import { callProgressLine, TerminalProgress } from "./progress.ts";
import { openSession, type Session } from "./session.ts";
import { flag, optionalText, optionSchema, parseOptions } from "./option-schema.ts";

const ALIGN_FLAGS = optionSchema({ goal: optionalText, reference: optionalText, dimension: optionalText, json: flag });

export function alignCommand(program: Command): void {
  const command = program
    .command("align")
    .description(
      "write principles for one question, then a response that follows them (with --task baseline-… or resort-…: that baseline's answer)",
    )
    .argument("<question>", "the user input")
    .option("--goal <text>", "response goal (reappraisal task)")
    .option("--reference <text>", "reference answer (rubric task)")
    .option("--dimension <id>", "appraisal dimension, 1–24 (resort-… tasks other than resort-vanilla and resort-self-refine)")
    .option("--json", "print one JSON object (the record and every call; with --samples above 1, {samples: [...]}) instead of text");
  addSettingFlags(command, [...SPRI_ITEM_SETTINGS, "samples"]);
  command.addHelpText("after", ENVIRONMENT_HELP);
  command.action(async (question: string, raw: Record<string, unknown>) => {
    const options = parseOptions(ALIGN_FLAGS, raw);
    const session = await openSession(raw, { concurrency: 1 });
    const progress = new TerminalProgress();
    try {
      const row: Record<string, unknown> = { question };
      if (options.goal !== undefined) row.goal = options.goal;
      if (options.dimension !== undefined) row.appraisal_dimension_id = options.dimension;
      const item = toTaskItem(
        session.prepared.task,
        row,
        {
          questionField: "question",
          goalField: options.goal === undefined ? undefined : "goal",
          referenceField: options.reference === undefined ? undefined : "reference",
        },
        { file: "<command line>", line: 1 },
      );
      if (options.reference !== undefined) item.reference = options.reference;
      const warn = (line: string) => process.stderr.write(`spri: ${line}\n`);
      const unscored = new UnscoredWatch({ warn });
      const onCall = (call: CallRecord) => {
        unscored.observe(call);
        progress.line(callProgressLine(call));
      };
      const samples = sampleCount(session.resolved.settings.samples);
      const { task } = session.prepared;
      const answers: Aligned[] = [];
      for (let sample = 0; sample < samples; sample++) {
        if (samples > 1) progress.line(`spri: sample ${sample + 1} of ${samples}`);
        const context = { itemId: "1", sample, onCall };
        answers.push(
          isBaselineTask(task) || isResortTask(task)
            ? await alignBaseline(task, item, session, context, progress)
            : await alignSpri(item, session, context, progress),
        );
      }
      const record = (answer: Aligned, sample: number) => ({ ...answer.record, ...(samples > 1 ? { [SAMPLE_FIELD]: sample } : {}) });
      if (options.json) {
        const out = answers.map((answer, sample) => ({ record: record(answer, sample), calls: answer.calls }));
        process.stdout.write(`${JSON.stringify(samples === 1 ? out[0] : { samples: out }, null, 2)}\n`);
      } else {
        const texts = answers.map((answer) => answer.text);
        process.stdout.write(
          samples === 1 ? texts[0]! : texts.map((text, sample) => `Sample ${sample + 1} of ${samples}\n\n${text}`).join("\n"),
        );
      }
      const note = unscored.summary();
      if (note) warn(note);
    } finally {
      await session.close();
    }
  });
}

/** SPRI's two stages on the item; the record and calls as JSON, or principles and response as text. */
/** One run of the algorithm on the question: its record, its calls, and the text shown for it. */
interface Aligned {
  record: Record<string, unknown>;
  calls: CallRecord[];
  text: string;
}

interface AlignContext {
  itemId: string;
  sample: number;
  onCall: (call: CallRecord) => void;
}

async function alignSpri(item: TaskItem, session: Session, context: AlignContext, progress: TerminalProgress): Promise<Aligned> {
  progress.line(
    `spri: base ${session.models.base.modelId}, critic ${session.models.critic.modelId}, τ=${session.prepared.spri.threshold}, n_max=${session.prepared.spri.maxCritiques}`,
  );
  const result = await runSpri(taskSteps(item, session.prepared.taskOptions), session.models, session.prepared.spri, context);
  return { record: { question: item.question, ...result.fields }, calls: result.calls, text: formatResult(result, session.prepared.task) };
}

/** A baseline is its own algorithm (one call, or self-refine's turns), not SPRI's two stages. */
async function alignBaseline(
  task: BaselineTaskName | ResortTaskName,
  item: TaskItem,
  session: Session,
  context: AlignContext,
  progress: TerminalProgress,
): Promise<Aligned> {
  progress.line(`spri: ${task}, base ${session.models.base.modelId}`);
  const outcome = await session.prepared.algorithm.run(item, session.models, context);
  const field = isResortTask(task) ? "response_final" : baselineResponseField(task);
  const text = `Response (${task})\n${String(outcome.fields[field] ?? "").trim()}\n\n`;
  return { record: { question: item.question, ...outcome.fields }, calls: outcome.calls, text };
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
