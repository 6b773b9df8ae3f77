/**
 * Each command's --help lists only the options the command reads. The flags that commands share
 * (the settings of options.ts and the runner's file options of run.ts) are where a command picks up
 * flags it never reads, so this table says, per command, which shared flags it reads: reviewed
 * against the command's code. A command that lists a shared flag not in its row (or misses one)
 * fails; a new command needs a row.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Command } from "commander";
import { kebab, SETTINGS } from "../../config/config.ts";
import { spriVersion } from "../../base/util/package-version.ts";
import { buildProgram } from "./main.ts";
import { addRunOptions } from "./run-options.ts";
import { JUDGE_RUN_SETTINGS, MODEL_SETTINGS, RUNNER_CLIENT_SETTINGS, SPRI_ITEM_SETTINGS } from "./options.ts";

const flags = (...names: string[]) => names.map((name) => `--${name}`);
const MODEL = flags("base-model", "base-url", "base-provider", "model");
const CRITIC = flags("critic-model", "critic-url", "critic-provider");
const CLIENT = flags("timeout", "max-response-mib", "structured-output", "http-client");
const SAMPLING = flags("temperature", "top-p", "top-k", "max-new-tokens", "seed");
const LOOP = flags("threshold", "max-critiques", "compat", "on-unscored", "unscored-retries", "prompts", "seeds");
const RUNNER = flags(
  "concurrency",
  "rpm",
  "tpm",
  "max-tokens",
  "max-cost",
  "prices",
  "cache",
  "store",
  "rejects",
  "max-tries",
  "retry-delay",
  "max-retry-wait",
  "progress-interval",
);
const FILE = flags(
  "input",
  "output",
  "question-field",
  "id-field",
  "no-cache",
  "refresh",
  "dry-run",
  "batch",
  "batch-offline",
  "batch-results",
  "batch-poll",
  "lease",
  "json",
  "new-run",
  "limit",
  "max-item-size",
);
const CONFIG = flags("config");
/** The runner's call settings: `spri view`'s playground runs its items through the runner. */
const PLAYGROUND_RUNNER = flags("cache", "max-tries", "retry-delay", "max-retry-wait", "rpm", "tpm", "max-tokens", "max-cost", "prices");
/** JUDGE_RUN_SETTINGS besides the client's (timeout, max-response-mib): what a file judged through the runner reads. */
const JUDGE_RUN = flags("temperature", "seed", "concurrency", "max-tries", "retry-delay", "max-retry-wait", "store", "cache", "model");

/** The shared flags each command reads. */
const READS: Record<string, string[]> = {
  align: [...flags("task", "json", "samples"), ...MODEL, ...CRITIC, ...CLIENT, ...SAMPLING, ...LOOP, ...CONFIG],
  // Every task: the goal (reappraisal), reference and system prompt (rubric), domain (seeds per domain).
  run: [
    ...flags("task", "samples"),
    ...MODEL,
    ...CRITIC,
    ...CLIENT,
    ...SAMPLING,
    ...LOOP,
    ...flags("seeds-per-domain"),
    ...RUNNER,
    ...FILE,
    ...flags("goal-field", "reference-field", "system-prompt-field", "domain-field", "no-work"),
    ...CONFIG,
  ],
  // Rows are read as the rubric task reads them; no --no-work: `spri worker` rebuilds `spri run` runs only.
  judge: [
    ...flags("samples"),
    ...MODEL,
    ...CRITIC,
    ...CLIENT,
    ...SAMPLING,
    ...LOOP,
    ...flags("seeds-per-domain"),
    ...RUNNER,
    ...FILE,
    ...flags("reference-field", "system-prompt-field", "domain-field"),
    ...CONFIG,
  ],
  export: flags("input", "store", "output", "question-field", "json"),
  // --store: where the report is kept for spri view, when named (flag, environment or --config file).
  "eval correlate": [...flags("json", "store"), ...CONFIG],
  // One model, scored by log-likelihood: no sampling, critic, loop, cache or batch flags.
  "eval truthfulqa": [
    ...flags(
      "input",
      "output",
      "limit",
      "json",
      "new-run",
      "base-model",
      "base-url",
      "timeout",
      "max-response-mib",
      "concurrency",
      "max-tries",
      "retry-delay",
      "max-retry-wait",
      "store",
      "model",
    ),
    ...CONFIG,
  ],
  "eval reappraisal": [
    ...flags(
      "output",
      "json",
      "new-run",
      "temperature",
      "seed",
      "timeout",
      "max-response-mib",
      "concurrency",
      "max-tries",
      "retry-delay",
      "max-retry-wait",
      "store",
      "cache",
      "model",
      // The paper's judge pack and its max_tokens (eval-reappraisal.ts: judgePack, judgeSampling).
      "prompts",
      "max-new-tokens",
    ),
    ...CONFIG,
  ],
  "eval win-rate": [...flags("output", "id-field", "question-field", "json", "new-run"), ...JUDGE_RUN, ...CLIENT, ...CONFIG],
  "eval mt-bench": [...flags("output", "json", "new-run", "max-new-tokens"), ...JUDGE_RUN, ...CLIENT, ...CONFIG],
  "eval ifeval": [...flags("output", "json", "new-run"), ...JUDGE_RUN, ...CLIENT, ...CONFIG],
  compare: [
    ...flags(
      "output",
      "id-field",
      "question-field",
      "json",
      "new-run",
      "temperature",
      "seed",
      "concurrency",
      "max-tries",
      "retry-delay",
      "max-retry-wait",
      "store",
      "cache",
    ),
    ...CLIENT,
    "--model",
    ...CONFIG,
  ],
  "discover cluster": [
    ...flags("input", "output", "threshold", "json", "base-model", "base-url", "base-provider", "timeout", "store", "cache"),
    ...CONFIG,
  ],
  // Its own --limit (rows written) shares the name of the runner's.
  "discover corpus": flags("output", "limit", "json"),
  // Items are read as the sft task reads them, with no seeds: no goal, reference, system prompt or domain field.
  "discover mine": [
    ...MODEL,
    ...CRITIC,
    ...CLIENT,
    ...flags("top-p", "top-k", "seed"),
    ...RUNNER.filter((flag) => flag !== "--rpm" && flag !== "--tpm"),
    ...FILE,
    ...CONFIG,
  ],
  "discover regenerate": [
    ...MODEL,
    ...CRITIC,
    ...CLIENT,
    ...flags("top-p", "top-k", "seed"),
    ...RUNNER.filter((flag) => flag !== "--rpm" && flag !== "--tpm"),
    ...FILE,
    ...CONFIG,
  ],
  "discover export": flags("input", "output", "question-field", "base-model", "seed", "json"),
  "discover apply": [
    ...MODEL,
    ...CLIENT,
    ...flags("top-p", "top-k", "seed"),
    ...RUNNER.filter((flag) => flag !== "--rpm" && flag !== "--tpm"),
    ...FILE,
    ...CONFIG,
  ],
  "discover iterate init": flags("input", "seed", "id-field", "base-model", "base-url"),
  "discover iterate model": flags("base-model", "base-url", "base-provider"),
  "discover iterate mine": [
    ...MODEL,
    ...CRITIC,
    ...CLIENT,
    ...flags("top-p", "top-k", "seed"),
    ...RUNNER.filter((flag) => flag !== "--rpm" && flag !== "--tpm"),
    ...flags("output", "question-field", "no-cache", "refresh", "dry-run", "json", "new-run"),
    ...CONFIG,
  ],
  "discover iterate eval": [
    ...MODEL,
    ...CRITIC,
    ...CLIENT,
    ...flags("top-p", "top-k", "seed"),
    ...RUNNER.filter((flag) => flag !== "--rpm" && flag !== "--tpm"),
    ...flags("input", "question-field", "no-cache", "refresh", "dry-run", "json", "new-run"),
    ...CONFIG,
  ],
  "discover iterate report": flags("json"),
  "discover iterate record": [],
  "discover iterate status": flags("json"),
  "discover train": flags("input", "base-model", "seed", "store", "new-run", "json"),
  "discover resume": flags("model", "base-url", "store", "json"),
  // Mines, regenerates and evaluates through the runner (no batch, no --limit); --input and --id-field make the slices.
  "discover loop": [
    ...MODEL,
    ...CRITIC,
    ...CLIENT,
    ...flags("top-p", "top-k", "seed"),
    ...RUNNER.filter((flag) => flag !== "--rpm" && flag !== "--tpm"),
    ...flags("input", "id-field", "question-field", "json"),
    ...CONFIG,
  ],
  view: [...flags("store", "task"), ...MODEL, ...CRITIC, ...CLIENT, ...SAMPLING, ...LOOP, ...PLAYGROUND_RUNNER, ...CONFIG],
  worker: flags("store", "concurrency", "lease", "json"),
  // Its own --limit (runs listed) shares the name of the runner's.
  status: flags("store", "json", "limit"),
};

/** Every flag that options.ts or run.ts hands to more than one command. */
function sharedFlags(): Set<string> {
  const scratch = addRunOptions(new Command(), { fields: ["goal", "reference", "systemPrompt", "domain"], workers: true });
  return new Set([
    ...Object.keys(SETTINGS).map((name) => `--${kebab(name)}`),
    "--config",
    ...scratch.options.map((option) => option.long!),
  ]);
}

function commands(command: Command, path: string[] = []): [string, Command][] {
  return command.commands.flatMap((sub) => {
    const name = [...path, sub.name()];
    return sub.commands.length > 0 ? commands(sub, name) : [[name.join(" "), sub] as [string, Command]];
  });
}

test("each command's help lists exactly the shared flags it reads", async () => {
  const shared = sharedFlags();
  const wrong: string[] = [];
  const seen = new Set<string>();
  for (const [name, command] of commands(await buildProgram())) {
    seen.add(name);
    const expected = new Set(READS[name] ?? []);
    if (!READS[name]) wrong.push(`spri ${name}: no row; say which shared flags it reads`);
    const listed = new Set(command.options.filter((option) => !option.hidden && shared.has(option.long!)).map((option) => option.long!));
    const unread = [...listed].filter((flag) => !expected.has(flag));
    const missing = [...expected].filter((flag) => !listed.has(flag));
    if (unread.length > 0) wrong.push(`spri ${name} lists flags it does not read: ${unread.join(" ")}`);
    if (missing.length > 0) wrong.push(`spri ${name} does not list flags it reads: ${missing.join(" ")}`);
  }
  for (const name of Object.keys(READS)) if (!seen.has(name)) wrong.push(`a row for "spri ${name}", which no longer exists`);
  assert.deepEqual(wrong, []);
});

test("--version prints package.json's version", async () => {
  assert.equal((await buildProgram()).version(), spriVersion());
});

test("a command line that names a command builds that command alone; any other builds them all", async () => {
  const names = (program: Command) => program.commands.map((command) => command.name());
  const all = names(await buildProgram());
  assert.equal(all.length, 10);
  for (const name of all) assert.deepEqual(names(await buildProgram(["node", "spri", name, "--help"])), [name]);
  assert.deepEqual(names(await buildProgram(["node", "spri", "--help"])), all);
  assert.deepEqual(names(await buildProgram(["node", "spri", "runn", "x"])), all);
});

test("the shared settings lists name real settings, each once: the two models' flags and a runner client's", () => {
  for (const list of [MODEL_SETTINGS, RUNNER_CLIENT_SETTINGS, JUDGE_RUN_SETTINGS, SPRI_ITEM_SETTINGS]) {
    for (const name of list) assert.ok(name in SETTINGS, name);
    assert.equal(new Set(list).size, list.length);
  }
  assert.deepEqual(MODEL_SETTINGS, ["baseModel", "baseUrl", "baseProvider", "criticModel", "criticUrl", "criticProvider"]);
  for (const name of RUNNER_CLIENT_SETTINGS) assert.ok(JUDGE_RUN_SETTINGS.includes(name), name);
});
