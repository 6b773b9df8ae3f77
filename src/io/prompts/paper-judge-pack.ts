/**
 * The paper's task-1 judge as a prompt pack: its GPT-4-eval directory, read at run time. The
 * evaluation prompts are the f-strings returned by `eval_prompts.py`'s functions; the system
 * prompt, model, temperature, max_tokens and seed are those `gpt-4-reappraisal_eval.py` sends
 * (its `new_system_prompt` and its absl flag defaults).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "../../base/errors/errors.ts";
import { universalNewlines } from "../../base/util/python.ts";
import { abslFlagDefault, type PythonFString, pythonFunctionFString, pythonStringArgument } from "./python-source.ts";

export const PAPER_EVAL_PROMPTS_FILE = "eval_prompts.py";
export const PAPER_EVAL_SCRIPT_FILE = "gpt-4-reappraisal_eval.py";

export interface PaperJudgePack {
  dir: string;
  /** The evaluation prompts, by function name. */
  prompts: Record<string, PythonFString>;
  system: string;
  settings: { model: string; temperature: number; maxTokens: number; seed: number };
}

/** The first of `dirs` holding the paper's evaluation prompts, if any. */
export function paperJudgePackDir(dirs: readonly string[]): string | undefined {
  return dirs.map((dir) => resolve(dir)).find((dir) => existsSync(join(dir, PAPER_EVAL_PROMPTS_FILE)));
}

/** Reads the pack in `dir`: the functions named in `promptFunctions`, the system prompt and the settings. */
export function loadPaperJudgePack(dir: string, promptFunctions: readonly string[]): PaperJudgePack {
  const promptsFile = join(dir, PAPER_EVAL_PROMPTS_FILE);
  const scriptFile = join(dir, PAPER_EVAL_SCRIPT_FILE);
  const promptsSource = readPython(promptsFile);
  const script = readPython(scriptFile);
  const prompts = Object.fromEntries(promptFunctions.map((name) => [name, pythonFunctionFString(promptsSource, promptsFile, name)]));
  const number = (flag: string) => {
    const value = abslFlagDefault(script, scriptFile, flag);
    if (typeof value !== "number") throw new ConfigError(`the default of flag "${flag}" is not a number`, { file: scriptFile });
    return value;
  };
  return {
    dir,
    prompts,
    system: pythonStringArgument(script, scriptFile, "new_system_prompt"),
    settings: {
      model: String(abslFlagDefault(script, scriptFile, "model")),
      temperature: number("temperature"),
      maxTokens: number("max_tokens"),
      seed: number("seed"),
    },
  };
}

/** Python source as Python reads it: UTF-8, universal newlines. */
function readPython(file: string): string {
  if (!existsSync(file)) {
    throw new ConfigError(`the paper's judge pack needs ${file}`, {
      file,
      hint: `point --prompts at the paper's GPT-4-eval directory (it holds ${PAPER_EVAL_PROMPTS_FILE} and ${PAPER_EVAL_SCRIPT_FILE})`,
    });
  }
  return universalNewlines(readFileSync(file, "utf8"));
}
