/** Flags shared by commands, generated from the settings table so help and config never drift. */
import { type Command, Option } from "commander";
import { kebab, SETTINGS, type SettingName } from "../../config/config.ts";
import { integer, number } from "./option-schema.ts";

/** Settings that are never flags: keys stay in the environment (shell history and `ps` show flags). */
const ENV_ONLY = new Set<SettingName>(["baseApiKey", "criticApiKey"]);

export function addSettingFlags(command: Command, names: readonly SettingName[] = Object.keys(SETTINGS) as SettingName[]): Command {
  for (const name of names) {
    if (ENV_ONLY.has(name)) continue;
    const spec = SETTINGS[name] as { kind: string; env?: string; default?: unknown; help: string };
    const flag = `--${kebab(name)}`;
    const extra = [spec.default === undefined ? "" : `default: ${JSON.stringify(spec.default)}`, spec.env ? `env: ${spec.env}` : ""]
      .filter(Boolean)
      .join("; ");
    const help = extra ? `${spec.help} (${extra})` : spec.help;
    const option =
      spec.kind === "boolean"
        ? new Option(flag, help)
        : spec.kind === "list"
          ? new Option(`${flag} <dir>`, help).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value])
          : new Option(`${flag} <value>`, help);
    command.addOption(option);
  }
  command.option("--config <file>", "JSON config file (default ./spri.config.json; env: SPRI_CONFIG)");
  return command;
}

/**
 * The model flags of commands whose one model is a judge (compare, eval reappraisal). The judge is
 * the base model underneath, so `--judge-*` set the base model's settings (and SPRI_BASE_* still
 * apply); the `--base-*` names of older releases stay as hidden, deprecated aliases.
 */
/** The two models' flags: which model, where it is served, by which provider. */
export const MODEL_SETTINGS: readonly SettingName[] = [
  "baseModel",
  "baseUrl",
  "baseProvider",
  "criticModel",
  "criticUrl",
  "criticProvider",
];

/** The settings one SPRI item runs with (models, client, sampling, loop): `spri align` and the viewer's playground. */
export const SPRI_ITEM_SETTINGS: readonly SettingName[] = [
  "task",
  ...MODEL_SETTINGS,
  "threshold",
  "maxCritiques",
  "temperature",
  "topP",
  "topK",
  "maxNewTokens",
  "seed",
  "timeout",
  "maxResponseMib",
  "compat",
  "onUnscored",
  "unscoredRetries",
  "prompts",
  "seeds",
  "structuredOutput",
  "httpClient",
  "model",
];

/** How the runner makes an item's calls (cache, retries, rate limits, budget): the viewer's playground runs its items through it. */
export const RUNNER_CALL_SETTINGS: readonly SettingName[] = [
  "cache",
  "maxTries",
  "retryDelay",
  "maxRetryWait",
  "rpm",
  "tpm",
  "maxTokens",
  "maxCost",
  "prices",
];

/** How a command that works a file through the runner reaches its model: timeouts, retries, concurrency, the store. */
export const RUNNER_CLIENT_SETTINGS: readonly SettingName[] = [
  "timeout",
  "maxResponseMib",
  "concurrency",
  "maxTries",
  "retryDelay",
  "maxRetryWait",
  "store",
];

/** The settings of a file judged by one judge model through the runner (`spri compare`, `spri eval reappraisal`), besides its flags. */
export const JUDGE_RUN_SETTINGS: readonly SettingName[] = ["temperature", "seed", ...RUNNER_CLIENT_SETTINGS, "cache", "model"];

const JUDGE_FLAGS = [
  {
    judge: "judgeModel",
    base: "baseModel",
    flag: "--judge-model <id>",
    alias: "--base-model <id>",
    help: "judge model id; a .gguf path or hf: URI runs in-process (env: SPRI_BASE_MODEL)",
  },
  {
    judge: "judgeUrl",
    base: "baseUrl",
    flag: "--judge-url <url>",
    alias: "--base-url <url>",
    help: "OpenAI-compatible base URL of the judge (env: SPRI_BASE_URL; default OPENAI_BASE_URL, else OpenAI)",
  },
  {
    judge: "judgeProvider",
    base: "baseProvider",
    flag: "--judge-provider <name>",
    alias: "--base-provider <name>",
    help: "openai-compatible, anthropic or llama-cpp (inferred when omitted; env: SPRI_BASE_PROVIDER)",
  },
] as const;

export function addJudgeModelFlags(command: Command): Command {
  for (const spec of JUDGE_FLAGS) {
    command.addOption(new Option(spec.flag, spec.help));
    command.addOption(new Option(spec.alias, `deprecated: ${spec.flag.split(" ")[0]}`).hideHelp());
  }
  return command;
}

/** Moves `--judge-*` onto the base model's settings; a deprecated `--base-*` gets a note on `warn`. */
export function judgeAsBase(options: Record<string, unknown>, warn: (line: string) => void): void {
  for (const spec of JUDGE_FLAGS) {
    const alias = options[spec.base];
    if (alias !== undefined) warn(`${spec.alias.split(" ")[0]} is deprecated here; use ${spec.flag.split(" ")[0]}`);
    options[spec.base] = options[spec.judge] ?? alias;
  }
}

/** What `resolveSettings` takes from a command's options: its settings flags and its `--config` file. */
export function settingInputs(options: Record<string, unknown>): { flags: Partial<Record<SettingName, unknown>>; configFile?: string } {
  return { flags: settingFlags(options), configFile: typeof options.config === "string" ? options.config : undefined };
}

export function settingFlags(options: Record<string, unknown>): Partial<Record<SettingName, unknown>> {
  const flags: Partial<Record<SettingName, unknown>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    if (options[name] !== undefined) flags[name] = options[name];
  }
  return flags;
}

export const ENVIRONMENT_HELP = `
Environment:
  OPENAI_API_KEY       key for OpenAI and OpenAI-compatible servers that need one
  OPENAI_BASE_URL      default base URL for OpenAI-compatible models
  ANTHROPIC_API_KEY    key for Anthropic models (claude-*)
  ANTHROPIC_BASE_URL   default base URL for Anthropic models
  SPRI_BASE_API_KEY    key for the base model only; SPRI_CRITIC_API_KEY for the critic only
  SPRI_MODEL           local GGUF (path or hf: URI) used when nothing else is configured
  HF_ENDPOINT          Hugging Face mirror that hf: models download from (default huggingface.co)
  SPRI_*               every flag above, as listed beside it
Precedence: flag > environment > config file > default. API keys are read from the environment only.`;

/**
 * The sampling settings that judge commands read themselves, to choose their own defaults (e.g.
 * temperature 0) before the settings are resolved: checked as `resolveSettings` checks them.
 */
export const JUDGE_SAMPLING_FLAGS = {
  temperature: number("a number").optional(),
  seed: integer("an integer").optional(),
  maxNewTokens: integer("an integer").optional(),
};
