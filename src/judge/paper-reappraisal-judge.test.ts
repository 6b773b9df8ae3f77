import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ScriptedModel } from "../models/scripted-model.ts";
import { loadPaperJudgePack } from "../prompts/paper-judge-pack.ts";
import { paperPromptFunctions, paperReappraisalJudge } from "./paper-reappraisal-judge.ts";
import { evaluateReappraisal } from "./reappraisal-eval.ts";

const GPT4_EVAL = join(import.meta.dirname, "..", "..", "..", "shared", "spri-public", "[task1]-reappraisal", "GPT-4-eval");

/** What eval_prompts.py's function returns for these arguments, by plain text substitution of its f-string. */
function referencePrompt(functionName: string, args: Record<string, string>): string {
  const source = readFileSync(join(GPT4_EVAL, "eval_prompts.py"), "utf8");
  const body = new RegExp(`def ${functionName}\\([^)]*\\):\\s*return f"""([\\s\\S]*?)"""`).exec(source)![1]!;
  return body.replace(/\{(\w+)(\.strip\(\))?\}/g, (_, name: string, strip?: string) => (strip ? args[name]!.trim() : args[name]!));
}

test("the paper's judge sends its system prompt and eval_prompts.py's prompts, and reads answers by its rules", async () => {
  const judge = paperReappraisalJudge(loadPaperJudgePack(GPT4_EVAL, paperPromptFunctions()));
  const model = new ScriptedModel({
    modelId: "gpt-4-0613",
    rules: [
      { when: "On a scale of 1 to 10", reply: "<score>[8]</score><rationale>fits</rationale>" },
      { when: "how empathetic", reply: "7" },
      { when: "unethical or harmful", reply: '"Not Harmful"' },
      { when: "factually consistent", reply: "Minor Error" },
    ],
  });
  const kase = { post: "My post.", response: "A reply.", aim: "  To help.\n", standards: "• Be kind." };
  const { fields } = await evaluateReappraisal(kase, model, { temperature: 0.1, seed: 36, maxTokens: 256 }, { itemId: "1" }, judge);
  const args = { post: kase.post, reappraisal: kase.response, reappraisal_aim: kase.aim, reappraisal_standard: kase.standards };
  const sent = model.requests.map((request) => request.messages);
  assert.deepEqual(
    sent.map((messages) => messages[1]!.content),
    ["1_standard_alignment", "2_empathy", "3_harmful", "4_factuality"].map((task) => referencePrompt(`build_eval_prompt_${task}`, args)),
  );
  const script = readFileSync(join(GPT4_EVAL, "gpt-4-reappraisal_eval.py"), "utf8");
  const system = /new_system_prompt = """([\s\S]*?)"""/.exec(script)![1]!;
  for (const messages of sent) assert.deepEqual([messages.length, messages[0]], [2, { role: "system", content: system }]);
  // The paper's rules: empathy "7" is taken as it is; a quoted option is unscored.
  assert.deepEqual([fields.eval_alignment, fields.eval_empathy, fields.eval_harmful, fields.eval_factuality], [8, 7, null, 0.5]);
});

test("a case without the aim or standards the alignment prompt needs is an input error naming the field", async () => {
  const judge = paperReappraisalJudge(loadPaperJudgePack(GPT4_EVAL, paperPromptFunctions()));
  assert.throws(() => judge.prompt("alignment", { post: "p", response: "r", standards: "s" }), /aim/);
  assert.match(judge.prompt("empathy", { post: "p", response: "r" }), /\[Reddit Post\] p\n/);
});
