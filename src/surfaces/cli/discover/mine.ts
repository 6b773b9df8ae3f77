/** `spri discover mine`: the mining algorithm over --input through the runner, then the records' summary. */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import {
  DEFAULT_MINING_OPTIONS,
  DEFAULT_MINING_SAMPLING,
  type MiningOptions,
  miningOptions,
  SIMILARITY_KINDS,
} from "../../../algorithms/discovery/mining-options.ts";
import { writeMiningSummary } from "../../../runtime/runner/mining-summary-file.ts";
import { prepareMining } from "../../../presets/tasks/prepare-discovery.ts";
import { addSettingFlags, ENVIRONMENT_HELP } from "../options.ts";
import { executeRun, ONE_SAMPLE } from "../run.ts";
import { addRunOptions } from "../run-options.ts";
import { DISCOVERY_MODEL_SETTINGS, positiveInteger, SHARED_SAMPLING_FLAGS, sharedSampling, temperature } from "./discover-options.ts";
import { choice, flag, integer, number, optionSchema, parseOptions, text } from "../option-schema.ts";
import type { z } from "zod";

/** The mining flags (`iterate mine` takes its iteration from the state, so it has no --iter). */
export function addMineOptions(command: Command, withIter = true): Command {
  command
    .option("--gold-field <name>", "field holding the gold response", DEFAULT_MINING_OPTIONS.goldField)
    .option("--candidates <n>", "N: candidate principles per example", String(DEFAULT_MINING_OPTIONS.candidates))
    .option(
      "--similarity <f>",
      `similarity to the gold: ${SIMILARITY_KINDS.join(" or ")} (judge: the critic model's pairwise verdict, both orders)`,
      DEFAULT_MINING_OPTIONS.similarity,
    )
    .option("--stem", "Porter-stem Rouge-L tokens (rouge_score use_stemmer)")
    .option("--min-gain <x>", "accept when f(y2) − f(y1) is above this", String(DEFAULT_MINING_OPTIONS.minGain))
    .option("--min-gold-tokens <n>", "skip examples whose gold has fewer Rouge-L tokens", String(DEFAULT_MINING_OPTIONS.minGoldTokens))
    .option("--max-principle-words <n>", "reject longer principles", String(DEFAULT_MINING_OPTIONS.guard.maxWords))
    .option(
      "--leak-ngram <n>",
      "reject a principle sharing this many consecutive words with the gold (0: off)",
      String(DEFAULT_MINING_OPTIONS.guard.leakNgram),
    )
    .option(
      "--leak-precision <x>",
      "reject a principle whose Rouge-L precision against the gold is above this (1: off)",
      String(DEFAULT_MINING_OPTIONS.guard.leakPrecision),
    )
    .option(
      "--max-length-ratio <x>",
      "reject a refinement longer than x × the words of the longer of y1 and the gold (0: off)",
      String(DEFAULT_MINING_OPTIONS.maxLengthRatio),
    )
    .option(
      "--follow-check",
      "ask the judge (critic model) whether the best refinement follows its principle; if not, the next best stands in",
    )
    .option("--answer-temperature <t>", "temperature of y1", String(DEFAULT_MINING_SAMPLING.answer.temperature))
    .option("--principle-temperature <t>", "temperature of the principles", String(DEFAULT_MINING_SAMPLING.principle.temperature))
    .option("--critique-temperature <t>", "temperature of the critiques", String(DEFAULT_MINING_SAMPLING.critique.temperature))
    .option("--refine-temperature <t>", "temperature of the refinements", String(DEFAULT_MINING_SAMPLING.refine.temperature))
    .option(
      "--judge-temperature <t>",
      "temperature of the judge (--similarity judge, --follow-check)",
      String(DEFAULT_MINING_SAMPLING.judge.temperature),
    )
    .option("--answer-max-tokens <n>", "most new tokens of y1", String(DEFAULT_MINING_SAMPLING.answer.maxTokens))
    .option("--refine-max-tokens <n>", "most new tokens of a refinement", String(DEFAULT_MINING_SAMPLING.refine.maxTokens));
  return withIter ? command.option("--iter <t>", "iteration number written into every record") : command;
}

const count = integer("an integer ≥ 0", (n) => n >= 0);

/** The flags `addMineOptions` adds, with the output and run switches `executeMine` reads. */
export const MINE_FLAGS = optionSchema({
  output: text,
  dryRun: flag,
  json: flag,
  goldField: text,
  candidates: positiveInteger,
  similarity: choice(SIMILARITY_KINDS),
  stem: flag,
  minGain: number("a number"),
  minGoldTokens: count,
  maxPrincipleWords: positiveInteger,
  leakNgram: count,
  leakPrecision: number("a number ≥ 0", (n) => n >= 0),
  maxLengthRatio: number("a number ≥ 0", (n) => n >= 0),
  followCheck: flag,
  answerTemperature: temperature,
  principleTemperature: temperature,
  critiqueTemperature: temperature,
  refineTemperature: temperature,
  judgeTemperature: temperature,
  answerMaxTokens: positiveInteger,
  refineMaxTokens: positiveInteger,
  iter: positiveInteger.optional(),
  ...SHARED_SAMPLING_FLAGS,
});

/** The mining flags, typed (`spri discover regenerate` reads them too). */
export type MineFlags = z.output<typeof MINE_FLAGS>;

/** The mining options of the flags (all but the output and run switches, which `spri discover loop` has not). */
export function mineOptionsFrom(options: Omit<MineFlags, "output" | "dryRun" | "json">): MiningOptions {
  const shared = sharedSampling(options);
  return miningOptions({
    candidates: options.candidates,
    similarity: options.similarity,
    stem: options.stem,
    minGain: options.minGain,
    maxLengthRatio: options.maxLengthRatio,
    followCheck: options.followCheck,
    minGoldTokens: options.minGoldTokens,
    goldField: options.goldField,
    iter: options.iter,
    guard: { maxWords: options.maxPrincipleWords, leakNgram: options.leakNgram, leakPrecision: options.leakPrecision },
    sampling: {
      answer: { ...shared, temperature: options.answerTemperature, maxTokens: options.answerMaxTokens },
      principle: { ...shared, temperature: options.principleTemperature },
      critique: { ...shared, temperature: options.critiqueTemperature },
      refine: { ...shared, temperature: options.refineTemperature, maxTokens: options.refineMaxTokens },
      judge: { ...(shared.seed === undefined ? {} : { seed: shared.seed }), temperature: options.judgeTemperature },
      follows: { ...(shared.seed === undefined ? {} : { seed: shared.seed }), temperature: options.judgeTemperature },
    },
  });
}

/** Runs the mining algorithm over --input, then summarises the records (stderr and <output>.summary.json). */
export async function executeMine(raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(MINE_FLAGS, raw);
  const { output, dryRun, json } = options;
  const mining = mineOptionsFrom(options);
  await executeRun(raw, prepareMining(mining), ONE_SAMPLE);
  if (dryRun || !existsSync(output)) return;
  const summary = await writeMiningSummary(output, { candidatesPerExample: mining.candidates, similarity: mining.similarity });
  if (!json) {
    process.stderr.write(
      `spri: ${summary.accepted} of ${summary.examples} examples accepted (${(summary.acceptRate * 100).toFixed(1)}%); mean gain ${summary.meanGain ?? "-"}; ${summary.rejectedCandidates} of ${summary.candidates} candidates rejected by the guard or refinement\n`,
    );
  }
}

export function mineCommand(discover: Command): Command {
  const command = discover
    .command("mine")
    .description("mine principles from self-corrections against gold responses (the STaPLe E-step); re-run the same command to resume");
  // Items are read as the sft task reads them, with no seeds: none of the task-specific fields.
  addRunOptions(command);
  addMineOptions(command);
  addSettingFlags(command, DISCOVERY_MODEL_SETTINGS);
  command.addHelpText(
    "after",
    `
Per example: the model answers (y1), writes --candidates principles with the gold shown as a hint,
then for each a critique of y1 and a refined answer (y2) without the gold. The best y2 by Rouge-L F1
against the gold is accepted only if it beats y1; principles that copy the gold are rejected, and so
are refinements over the length budget (--max-length-ratio) or, with --follow-check, refinements the
judge says do not follow their principle.
Records: y1, candidates [{z, critique, y2, fY2, rejectedReason?}], accepted, best, decision, reason.
See docs/discovery.md.${ENVIRONMENT_HELP}`,
  );
  command.action((options: Record<string, unknown>) => executeMine(options));
  return command;
}
