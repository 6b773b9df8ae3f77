/** `spri discover apply`: self-correction with a constitution (or a trained model) through the runner. */
import type { Command } from "commander";
import { loadConstitution } from "../../../algorithms/discovery/constitution.ts";
import { DEFAULT_SELF_CORRECT_SAMPLING, SELF_CORRECT_MODES } from "../../../algorithms/discovery/self-correct.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import type { SamplingOptions } from "../../../models/language-model.ts";
import { prepareSelfCorrect } from "../../../presets/tasks/prepare-discovery.ts";
import { addSettingFlags, ENVIRONMENT_HELP } from "../options.ts";
import { executeRun, ONE_SAMPLE } from "../run.ts";
import { addRunOptions } from "../run-options.ts";
import { DISCOVERY_MODEL_SETTINGS, positiveInteger, SHARED_SAMPLING_FLAGS, sharedSampling, temperature } from "./discover-options.ts";
import { choice, optionalText, optionSchema, parseOptions } from "../option-schema.ts";

const APPLY_FLAGS = optionSchema({
  constitution: optionalText,
  mode: choice(SELF_CORRECT_MODES),
  responseField: optionalText,
  maxPrinciples: positiveInteger.optional(),
  answerTemperature: temperature,
  selectTemperature: temperature,
  refineTemperature: temperature,
  ...SHARED_SAMPLING_FLAGS,
});

export function applyCommand(discover: Command): Command {
  const command = discover
    .command("apply")
    .description(
      "self-correct at inference: answer, pick the most relevant constitution principle and revise if it applies (or --mode trained for a model trained on the export)",
    );
  // Items are read as the sft task reads them, with no seeds: none of the task-specific fields.
  addRunOptions(command);
  command
    .option("--constitution <file>", "the constitution (constitution mode)")
    .option("--mode <mode>", `${SELF_CORRECT_MODES.join(" or ")}`, "constitution")
    .option("--response-field <name>", "field holding an existing first response (default: the model answers)")
    .option("--max-principles <n>", "show at most this many principles (the largest clusters)")
    .option("--answer-temperature <t>", "temperature of the first answer", String(DEFAULT_SELF_CORRECT_SAMPLING.answer.temperature))
    .option("--select-temperature <t>", "temperature of the principle choice", String(DEFAULT_SELF_CORRECT_SAMPLING.select.temperature))
    .option(
      "--refine-temperature <t>",
      "temperature of the critique and refinement (trained mode: of the self-correction)",
      String(DEFAULT_SELF_CORRECT_SAMPLING.refine.temperature),
    );
  addSettingFlags(
    command,
    DISCOVERY_MODEL_SETTINGS.filter((name) => !name.startsWith("critic")),
  );
  command.addHelpText(
    "after",
    `
Records add init_response (y1), response_final (y2 when revised, else y1), self_correct_applied,
self_correct_principle_id, self_correct_principle, self_correct_critique, self_correct_reason.
Compare y2 with y1: spri compare --a out.jsonl --b out.jsonl --response-field init_response --response-field-b response_final …
${ENVIRONMENT_HELP}`,
  );
  command.action((raw: Record<string, unknown>) => {
    const options = parseOptions(APPLY_FLAGS, raw);
    const { mode } = options;
    if (mode === "constitution" && options.constitution === undefined)
      throw new ConfigError("--mode constitution needs --constitution <file>", { field: "constitution" });
    const shared = sharedSampling(options);
    const pick = (base: SamplingOptions, t: number): SamplingOptions => ({ ...base, ...shared, temperature: t });
    const refine = options.refineTemperature;
    const prepare = prepareSelfCorrect({
      mode,
      constitution: options.constitution === undefined ? undefined : loadConstitution(options.constitution),
      maxPrinciples: options.maxPrinciples,
      responseField: options.responseField,
      sampling: {
        answer: pick(DEFAULT_SELF_CORRECT_SAMPLING.answer, options.answerTemperature),
        select: pick(DEFAULT_SELF_CORRECT_SAMPLING.select, options.selectTemperature),
        critique: pick(DEFAULT_SELF_CORRECT_SAMPLING.critique, refine),
        refine: pick(DEFAULT_SELF_CORRECT_SAMPLING.refine, refine),
      },
    });
    return executeRun(raw, prepare, ONE_SAMPLE);
  });
  return command;
}
