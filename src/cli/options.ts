/** Flags shared by commands, generated from the settings table so help and config never drift. */
import { type Command, Option } from "commander";
import { kebab, SETTINGS, type SettingName } from "../config/config.ts";

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
