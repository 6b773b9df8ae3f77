import assert from "node:assert/strict";
import { test } from "node:test";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { loadPaperJudgePack } from "../../io/prompts/paper-judge-pack.ts";
import { paperJudgePackIdentity, paperJudgeSampling, paperPromptFunctions, paperReappraisalJudge } from "./paper-reappraisal-judge.ts";
import { evaluateReappraisal } from "./reappraisal-eval.ts";
import { GPT4_EVAL, referenceEvalPrompt, referenceSystemPrompt } from "../../../test/support/paper-judge-reference.ts";

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
    ["1_standard_alignment", "2_empathy", "3_harmful", "4_factuality"].map((task) =>
      referenceEvalPrompt(`build_eval_prompt_${task}`, args),
    ),
  );
  const system = referenceSystemPrompt();
  for (const messages of sent) assert.deepEqual([messages.length, messages[0]], [2, { role: "system", content: system }]);
  // The paper's rules: empathy "7" is taken as it is; a quoted option is unscored.
  assert.deepEqual([fields.eval_alignment, fields.eval_empathy, fields.eval_harmful, fields.eval_factuality], [8, 7, null, 0.5]);
});

test("a case without the aim or standards the alignment prompt needs is an input error naming the field", async () => {
  const judge = paperReappraisalJudge(loadPaperJudgePack(GPT4_EVAL, paperPromptFunctions()));
  assert.throws(() => judge.prompt("alignment", { post: "p", response: "r", standards: "s" }), /aim/);
  assert.match(judge.prompt("empathy", { post: "p", response: "r" }), /\[Reddit Post\] p\n/);
});

test("paperJudgeSampling: the flags' sampling, else the pack's settings, else the paper's evaluator settings (0.1, seed 36)", () => {
  const pack = loadPaperJudgePack(GPT4_EVAL, paperPromptFunctions());
  assert.deepEqual(paperJudgeSampling({}, undefined), { temperature: 0.1, seed: 36 });
  assert.deepEqual(paperJudgeSampling({ temperature: 0, seed: 1, maxNewTokens: 9 }, undefined), { temperature: 0, seed: 1, maxTokens: 9 });
  assert.deepEqual(paperJudgeSampling({}, pack), {
    temperature: pack.settings.temperature,
    seed: pack.settings.seed,
    maxTokens: pack.settings.maxTokens,
  });
  assert.equal(paperJudgeSampling({ temperature: 0.7 }, pack).temperature, 0.7);
});

test("paperJudgePackIdentity: the pack's directory and a digest that changes with what it sends", () => {
  const pack = loadPaperJudgePack(GPT4_EVAL, paperPromptFunctions());
  const identity = paperJudgePackIdentity(pack);
  assert.equal(identity.dir, pack.dir);
  assert.match(String(identity.digest), /^[0-9a-f]+$/);
  assert.notEqual(paperJudgePackIdentity({ ...pack, system: `${pack.system} ` }).digest, identity.digest);
});
