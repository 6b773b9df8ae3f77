/**
 * The command that started a run, recorded in the run store so that `spri worker` on any machine can
 * rebuild the run's algorithm and models: the effective settings (never keys, nor the passwords of
 * URLs: those come from each worker's own environment), the field mapping, and the contents of the
 * prompt, seed and price files (a worker's machine may not have them at the same paths).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { type Resolved, type ResolveInput, resolveSettings, SETTINGS, type SettingName } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import { redactUrl } from "../../base/util/redact-url.ts";
import type { FieldMapping } from "../../presets/tasks/task-item.ts";

export interface RecordedCommand {
  kind: "run";
  settings: Partial<Record<SettingName, unknown>>;
  mapping: FieldMapping;
  prompts?: { dir: string; files: Record<string, string> }[];
  seeds?: { path: string; text: string };
  /**
   * The recorded settings that were spri's defaults rather than the user's choice: a worker gives
   * them the same values, yet treats them as defaults (e.g. a default top_k is not sent to a server).
   */
  defaults?: SettingName[];
}

export interface RestoredCommand {
  flags: Partial<Record<SettingName, unknown>>;
  mapping: FieldMapping;
  defaults: SettingName[];
  /** Settings recorded without their URL's password, which the worker's environment must give. */
  fromEnvironment: Partial<Record<SettingName, string>>;
}

/** Settings that belong to the process, not to the run: each worker chooses its own. */
const PER_PROCESS = new Set<SettingName>(["store", "concurrency", "progressInterval", "rejects", "model"]);

export function recordCommand(resolved: Resolved, mapping: FieldMapping): RecordedCommand {
  const settings: Partial<Record<SettingName, unknown>> = {};
  const defaults: SettingName[] = [];
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const spec = SETTINGS[name] as { secret?: boolean };
    if (spec.secret || PER_PROCESS.has(name) || resolved.settings[name] === undefined) continue;
    const value = resolved.settings[name];
    settings[name] = typeof value === "string" ? redactUrl(value) : value;
    if (resolved.sources[name] === "default") defaults.push(name);
  }
  // The price table goes as its JSON text (`--prices` takes either), for workers without the file.
  const prices = resolved.settings.prices;
  if (prices !== undefined && !prices.trimStart().startsWith("{") && existsSync(prices)) settings.prices = readFileSync(prices, "utf8");
  const command: RecordedCommand = { kind: "run", settings, mapping, defaults };
  const prompts = resolved.settings.prompts;
  if (prompts && prompts.length > 0) command.prompts = prompts.map((dir) => ({ dir: resolve(dir), files: readTextFiles(dir) }));
  if (resolved.settings.seeds)
    command.seeds = { path: resolve(resolved.settings.seeds), text: readFileSync(resolved.settings.seeds, "utf8") };
  return command;
}

/**
 * The recorded settings as flags for this machine: prompt and seed files that are not here at their
 * recorded paths are written to a temporary directory and used from there.
 */
export function restoreCommand(value: unknown, runId: string): RestoredCommand {
  if (!isRecordedCommand(value)) {
    throw new ConfigError(`run ${runId} was not started by \`spri run\` (or by an older spri), so a worker cannot rebuild it`, {
      hint: "work it by re-running the command that started it (a second `spri run` of the same command joins as a worker)",
    });
  }
  const flags = { ...value.settings };
  const fromEnvironment: Partial<Record<SettingName, string>> = {};
  for (const [name, setting] of Object.entries(flags) as [SettingName, unknown][]) {
    if (typeof setting !== "string" || redactUrl(setting) !== setting || !setting.includes(":[redacted]@")) continue;
    fromEnvironment[name] = setting;
    delete flags[name];
  }
  if (value.prompts) {
    flags.prompts = value.prompts.map((pack) => (existsSync(pack.dir) ? pack.dir : writeFiles(pack.files, "spri-prompts-")));
  }
  if (value.seeds) {
    flags.seeds = existsSync(value.seeds.path)
      ? value.seeds.path
      : join(writeFiles({ [basename(value.seeds.path)]: value.seeds.text }, "spri-seeds-"), basename(value.seeds.path));
  }
  return { flags, mapping: value.mapping, defaults: Array.isArray(value.defaults) ? value.defaults : [], fromEnvironment };
}

/** A worker's settings for a restored run: the recorded ones (and `extra`), the recorded defaults still counted as defaults. */
export function resolveRecorded(
  restored: RestoredCommand,
  extra: Partial<Record<SettingName, unknown>>,
  input: Omit<ResolveInput, "flags"> = {},
): Resolved {
  const resolved = resolveSettings({ ...input, flags: { ...restored.flags, ...extra } });
  for (const name of restored.defaults) if (resolved.sources[name] === "flag" && !(name in extra)) resolved.sources[name] = "default";
  for (const [name, recorded] of Object.entries(restored.fromEnvironment) as [SettingName, string][]) {
    const given = resolved.settings[name];
    if (typeof given === "string" && redactUrl(given) === recorded) continue;
    const variable = (SETTINGS[name] as { env?: string }).env;
    throw new ConfigError(
      `the run reaches ${recorded} with a password that is not stored, and this worker's ${variable} does not give it`,
      {
        field: name,
        hint: `set ${variable} to that URL with its password in this worker's environment`,
      },
    );
  }
  return resolved;
}

function isRecordedCommand(value: unknown): value is RecordedCommand {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as RecordedCommand).kind === "run" &&
    typeof (value as RecordedCommand).settings === "object"
  );
}

function readTextFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isFile()) files[name] = readFileSync(path, "utf8");
  }
  return files;
}

function writeFiles(files: Record<string, string>, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, basename(name)), text);
  return dir;
}
