/**
 * Where templates come from: spri's built-in prompts, or one or more pack directories given by the
 * user (searched in order, by the paper's file names). Files are read as Python reads text: CRLF
 * becomes LF and nothing is appended, so the paper's prompts are sent byte for byte.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../../base/errors/errors.ts";
import { universalNewlines } from "../../base/util/python.ts";
import { BUILTIN_PROMPTS } from "./builtin.ts";

export interface PromptPack {
  /** The template text; throws ConfigError naming where it looked when it is missing. */
  get(name: string): string;
  has(name: string): boolean;
  /** For messages and run metadata: "built-in (sft)" or the directories. */
  readonly description: string;
}

export function builtinPack(task: string): PromptPack {
  return templatePack(`built-in (${task})`, BUILTIN_PROMPTS[task] ?? {}, `built-in prompts of task "${task}"`);
}

/** Templates held in memory (spri's built-in prompts) as a pack; `what` names them when one is missing. */
export function templatePack(description: string, templates: Readonly<Record<string, string>>, what: string): PromptPack {
  return {
    description,
    has: (name) => name in templates,
    get(name) {
      const text = templates[name];
      if (text === undefined) throw new ConfigError(`the ${what} have no template ${name}`);
      return text;
    },
  };
}

export function directoryPack(directories: readonly string[]): PromptPack {
  const dirs = directories.map((d) => resolve(d));
  for (const dir of dirs) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ConfigError(`prompt directory ${dir} does not exist`, {
        hint: "pass --prompts a directory holding template files such as instruct-stage1_01-principle_gen.txt",
      });
    }
  }
  const cache = new Map<string, string>();
  const locate = (name: string) => dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
  return {
    description: dirs.join(", "),
    has: (name) => locate(name) !== undefined,
    get(name) {
      const cached = cache.get(name);
      if (cached !== undefined) return cached;
      const path = locate(name);
      if (!path) {
        throw new ConfigError(`prompt template ${name} was not found in ${dirs.join(", ")}`, {
          hint: "add the file to a --prompts directory, or leave --prompts out to use the built-in prompts",
        });
      }
      const text = universalNewlines(readFileSync(path, "utf8"));
      cache.set(name, text);
      return text;
    },
  };
}
