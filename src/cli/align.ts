/** `spri align "<question>"`: one question through SPRI, with live progress. */
import type { Command } from "commander";
import { SAMPLE_FIELD, sampleCount } from "../runner/samples.ts";
import { UnscoredWatch } from "../runner/unscored-watch.ts";
import { runSpri, type SpriResult } from "../spri/spri.ts";
import { taskSteps } from "../tasks/spri-task.ts";
import { toTaskItem } from "../tasks/task-item.ts";
import { ENVIRONMENT_HELP, addSettingFlags } from "./options.ts";
import { callProgressLine, TerminalProgress } from "./progress.ts";
import { openSession } from "./session.ts";

export function alignCommand(program: Command): void {
  const command = program
    .command("align")
    .description("write principles for one question, then a response that follows them")
    .argument("<question>", "the user input")
    .option("--goal <text>", "response goal (reappraisal task)")
    .option("--reference <text>", "reference answer (rubric task)")
    .option("--json", "print one JSON object (the record and every call; with --samples above 1, {samples: [...]}) instead of text");
  addSettingFlags(command, [
    "task", "baseModel", "baseUrl", "baseProvider", "criticModel", "criticUrl", "criticProvider",
    "threshold", "maxCritiques", "temperature", "topP", "topK", "maxNewTokens", "seed", "timeout", "maxResponseMib",
    "compat", "onUnscored", "unscoredRetries", "prompts", "seeds", "structuredOutput", "httpClient", "model", "samples",
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
      const samples = sampleCount(session.resolved.settings.samples);
      progress.line(`spri: base ${session.models.base.modelId}, critic ${session.models.critic.modelId}, τ=${session.prepared.spri.threshold}, n_max=${session.prepared.spri.maxCritiques}`);
      const warn = (line: string) => process.stderr.write(`spri: ${line}\n`);
      const unscored = new UnscoredWatch({ warn });
      const results: SpriResult[] = [];
      for (let sample = 0; sample < samples; sample++) {
        if (samples > 1) progress.line(`spri: sample ${sample + 1} of ${samples}`);
        results.push(
          await runSpri(taskSteps(item, session.prepared.taskOptions), session.models, session.prepared.spri, {
            itemId: "1",
            sample,
            onCall: (call) => {
              unscored.observe(call);
              progress.line(callProgressLine(call));
            },
          }),
        );
      }
      const record = (result: SpriResult, sample: number) => ({ question, ...result.fields, ...(samples > 1 ? { [SAMPLE_FIELD]: sample } : {}) });
      if (options.json) {
        const out = results.map((result, sample) => ({ record: record(result, sample), calls: result.calls }));
        process.stdout.write(`${JSON.stringify(samples === 1 ? out[0] : { samples: out }, null, 2)}\n`);
      } else {
        const texts = results.map((result) => formatResult(result, session.prepared.task));
        process.stdout.write(samples === 1 ? texts[0]! : texts.map((text, sample) => `Sample ${sample + 1} of ${samples}\n\n${text}`).join("\n"));
      }
      const note = unscored.summary();
      if (note) warn(note);
    } finally {
      await session.close();
    }
  });
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
