import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { loadPaperJudgePack, paperJudgePackDir } from "./paper-judge-pack.ts";

const SHARED = join(import.meta.dirname, "..", "..", "..", "..", "shared");
const GPT4_EVAL = join(SHARED, "spri-public", "[task1]-reappraisal", "GPT-4-eval");

test("the paper's GPT-4-eval directory: four prompt functions, the system prompt and the script's flag defaults", () => {
  const names = ["1_standard_alignment", "2_empathy", "3_harmful", "4_factuality"].map((task) => `build_eval_prompt_${task}`);
  const pack = loadPaperJudgePack(GPT4_EVAL, names);
  assert.deepEqual(Object.keys(pack.prompts), names);
  assert.deepEqual(pack.prompts.build_eval_prompt_2_empathy!.params, ["post", "reappraisal"]);
  assert.deepEqual(pack.settings, { model: "gpt-4-0613", temperature: 0.1, maxTokens: 256, seed: 36 });
  assert.match(pack.system, /^Respond with a response in the format requested/);
  assert.equal(paperJudgePackDir([tmpdir(), GPT4_EVAL]), GPT4_EVAL);
  assert.equal(paperJudgePackDir([tmpdir()]), undefined);
});

test("a pack without the evaluation script, or with a prompt function changed, names the file and line", () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-pack-"));
  writeFileSync(join(dir, "eval_prompts.py"), 'def build_eval_prompt_2_empathy(post, reappraisal):\n    return "Rate " + post\n');
  assert.throws(
    () => loadPaperJudgePack(dir, ["build_eval_prompt_2_empathy"]),
    (error: unknown) => error instanceof ConfigError && /gpt-4-reappraisal_eval\.py/.test(error.message),
  );
  writeFileSync(join(dir, "gpt-4-reappraisal_eval.py"), 'flags.DEFINE_string("model", "m", "")\n');
  assert.throws(
    () => loadPaperJudgePack(dir, ["build_eval_prompt_2_empathy"]),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.file === join(dir, "eval_prompts.py") &&
      error.line === 2 &&
      /return an f-string/.test(error.message),
  );
});
