/** `spri run`: a JSON or JSONL file of items through SPRI, one output record per item. */
import type { Command } from "commander";
import { InputError } from "../errors/errors.ts";
import { checkInputFile } from "../io/input-reader.ts";
import { runFile } from "../runner/run-file.ts";
import { ENVIRONMENT_HELP, addSettingFlags } from "./options.ts";
import { TerminalProgress } from "./progress.ts";
import { openSession } from "./session.ts";

export function runCommand(program: Command): void {
  const command = program
    .command("run")
    .description("run every item of an input file through SPRI and write one record per item")
    .requiredOption("--input <file>", "items as JSON Lines (.jsonl) or a JSON array (.json)")
    .requiredOption("--output <file>", "output JSON Lines; written as <file>.partial until the run completes")
    .option("--question-field <name>", "field holding the question (default: first of user_input, prompt, instruction, question, input; reappraisal: Reddit Post)")
    .option("--id-field <name>", "field holding the item id (default: id, else the line number)")
    .option("--goal-field <name>", "reappraisal: field holding the response goal (default: appraisal_dimension_aim)")
    .option("--reference-field <name>", "rubric: field holding a reference answer (default: reference-free)")
    .option("--system-prompt-field <name>", "rubric: field holding the input's system prompt (default: system_prompt)")
    .option("--domain-field <name>", "field matched against seeds with --seeds-per-domain (reappraisal: appraisal_dimension_id; rubric: capability)")
    .option("--json", "print the run summary as JSON");
  addSettingFlags(command);
  command.addHelpText("after", ENVIRONMENT_HELP);
  command.action(async (options: Record<string, unknown>) => {
    const input = String(options.input);
    const output = String(options.output);
    checkInputFile(input);
    if (output === input) throw new InputError("--output must differ from --input", { file: output });
    const session = await openSession(options);
    const progress = new TerminalProgress();
    const started = performance.now();
    let calls = 0;
    let items = 0;
    try {
      const summary = await runFile({
        input,
        output,
        prepared: session.prepared,
        models: session.models,
        concurrency: session.resolved.settings.concurrency,
        timeoutMs: session.resolved.settings.timeout * 1000,
        mapping: {
          questionField: options.questionField as string | undefined,
          idField: options.idField as string | undefined,
          goalField: options.goalField as string | undefined,
          referenceField: options.referenceField as string | undefined,
          systemPromptField: options.systemPromptField as string | undefined,
          domainField: options.domainField as string | undefined,
        },
        onCall: () => {
          calls++;
          progress.status(`spri: ${items} items done, ${calls} calls, ${((performance.now() - started) / 1000).toFixed(1)} s`);
        },
        onItem: () => {
          items++;
        },
      });
      progress.end();
      const seconds = (performance.now() - started) / 1000;
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ output, ...summary, seconds })}\n`);
      } else {
        process.stderr.write(`spri: wrote ${summary.items} records to ${output} (${summary.calls} calls, ${summary.inputTokens + summary.outputTokens} tokens, ${seconds.toFixed(1)} s)\n`);
      }
    } finally {
      progress.end();
      await session.close();
    }
  });
}
