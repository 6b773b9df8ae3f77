import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rowSampleBase, rowSeeded } from "../contract/model-caller.ts";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError, InputError } from "../../base/errors/errors.ts";
import type { GenerateRequest } from "../../models/language-model.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import { CachedModel, MemoryCallCache } from "../../runtime/store/call-cache.ts";
import { DEFAULT_JUDGE_OPTIONS, judgeItemKey, prepareJudgeTask } from "../../presets/tasks/prepare-judge.ts";
import { toTaskItem } from "../../presets/tasks/task-item.ts";
import type { JudgeOptions } from "./rubric-source.ts";
import { registerRubricSource, rubricSource, rubricSourceNames } from "./rubric-sources.ts";
import { spriRubricSource } from "./spri-judge.ts";

const settings = (flags: Record<string, unknown> = {}) => resolveSettings({ flags, env: {}, cwd: "/nonexistent" }).settings;
const options = (overrides: Partial<JudgeOptions> = {}): JudgeOptions => ({ ...DEFAULT_JUDGE_OPTIONS, ...overrides });

const RUBRIC =
  "{'criteria': 'Is the answer correct?', 'score1_description': 'wrong', 'score2_description': 'mostly wrong', 'score3_description': 'partly right', 'score4_description': 'right', 'score5_description': 'right and clear'}";

const ROWS = [
  { id: "math_1", capability: "reasoning", system_prompt: "You are helpful.", input: "What is 2+2?", response: "4", model_name: "model-a" },
  { id: "math_1", capability: "reasoning", system_prompt: "You are helpful.", input: "What is 2+2?", response: "5", model_name: "model-b" },
];
const items = () => ROWS.map((row, i) => toTaskItem("rubric", row, {}, { file: "in.jsonl", line: i + 1 }));

/** Base model: rubrics, judgements (score 4 for "4", else 2) and refined judgements; critic: 3 then 5. */
function scripted(options: { constrained?: boolean; judgement?: (request: GenerateRequest) => string } = {}) {
  const base = new ScriptedModel({
    modelId: "judge-model",
    constrainedOutput: options.constrained,
    rules: [
      {
        when: "You write a scoring rubric",
        reply: (_r, call) => (call === 0 ? RUBRIC : RUBRIC.replace("correct", `correct (sample ${call})`)),
      },
      { when: "You improve a scoring rubric", reply: RUBRIC },
      { when: "You revise an evaluation", reply: "<feedback>Revised.</feedback><score>3</score>" },
      {
        when: "You are an impartial grader",
        reply: (r) =>
          options.judgement?.(r) ??
          (/###Response:\n4\n/.test(r.messages[1]!.content)
            ? "<feedback>Right.</feedback><score>4</score>"
            : "<feedback>Wrong.</feedback><score>2</score>"),
      },
    ],
  });
  const critic = new ScriptedModel({
    modelId: "critic-model",
    rules: [
      { when: "You review a scoring rubric", reply: "Feedback: specific. [RESULT] 5" },
      { when: "You check the work of another grader", reply: ["Feedback: too lenient. [RESULT] 3", "Feedback: fine. [RESULT] 5"] },
    ],
  });
  return { base, critic };
}

describe("the SPRI judge (built-in prompts)", () => {
  test("records: reference fields and order, grading prompt and scores in their places", async () => {
    const prepared = prepareJudgeTask(settings(), options());
    const models = scripted();
    const [item] = items();
    const { fields, calls } = await prepared.algorithm.run(item!, models, { itemId: judgeItemKey(item!.row, item!.id) });
    const keys = Object.keys(fields);
    const at = (k: string) => keys.indexOf(k);
    assert.deepEqual(keys.slice(0, 4), ["principle_raw", "principle_raw_prompt", "iteration_principle", "principle_final"]);
    assert.ok(at("principles_critique_final") < at("formatted_BigGenBench_INIT_GRADING_PROMPT"));
    assert.equal(at("init_response"), at("formatted_BigGenBench_INIT_GRADING_PROMPT") + 1);
    assert.equal(at("init_response-[score]"), at("init_response_prompt") + 1);
    assert.equal(at("response_final-[score]"), at("response_final") + 1);
    assert.equal(fields.init_response, "<feedback>Right.</feedback><score>4</score>");
    assert.equal(fields["init_response-[score]"], 4);
    assert.equal(fields.iteration_response, 2);
    assert.equal(fields.response_final, "<feedback>Revised.</feedback><score>3</score>");
    assert.equal(fields["response_final-[score]"], 3);
    const grading = String(fields.formatted_BigGenBench_INIT_GRADING_PROMPT);
    assert.match(
      grading,
      /###Instruction:\nWhat is 2\+2\?\n\n###Response:\n4\n\n###Score rubric:\nCriterion: Is the answer correct\?\nScore 1: wrong/,
    );
    assert.doesNotMatch(grading, /reference answer/i, "reference-free without --reference-field");
    assert.equal(calls.length, 6);
  });

  test("judging calls: temperature 0 with the row's seed; rubric and critic calls keep the run's sampling", async () => {
    const prepared = prepareJudgeTask(settings(), options());
    const models = scripted();
    const [item] = items();
    const key = judgeItemKey(item!.row, item!.id);
    await prepared.algorithm.run(item!, models, { itemId: key });
    const grading = models.base.requests.find((r) => r.messages[0]!.content.startsWith("You are an impartial grader"))!;
    assert.deepEqual(grading.sampling, { temperature: 0, maxTokens: 2048, seed: rowSeeded({ seed: 0 }, key).seed });
    const rubric = models.base.requests[0]!;
    assert.equal(rubric.sampling?.temperature, 0.7);
    assert.equal(rubric.sampling?.seed, undefined);
    assert.equal(models.critic.requests[0]!.sampling?.temperature, 0.7);
  });

  test("--compat reference: judging samples as the base model (API defaults for GPT), the BiGGen regex reads the score", async () => {
    const prepared = prepareJudgeTask(settings({ compat: "reference" }), options());
    const [item] = items();
    const llama = scripted({ judgement: () => "<feedback>x</feedback><score>5/5</score>" });
    const { fields } = await prepared.algorithm.run(item!, llama, { itemId: "k" });
    const grading = llama.base.requests.find((r) => r.messages[0]!.content.startsWith("You are an impartial grader"))!;
    assert.equal(grading.sampling?.temperature, 0.7);
    assert.equal(fields["init_response-[score]"], null, "the reference's regex does not read 5/5");
    const gpt = scripted();
    Object.assign(gpt.base, { modelId: "gpt-4o-mini" });
    await prepared.algorithm.run(item!, gpt, { itemId: "k" });
    assert.deepEqual(
      gpt.base.requests.map((r) => r.sampling),
      gpt.base.requests.map(() => ({})),
    );
  });

  test("constrained judges are asked for JSON, which the default parser reads", async () => {
    const prepared = prepareJudgeTask(settings(), options({ scale: { min: 1, max: 10 } }));
    const models = scripted({ constrained: true, judgement: () => '{"feedback": "ok", "score": 8}' });
    const [item] = items();
    const { fields } = await prepared.algorithm.run(item!, models, { itemId: "k" });
    const grading = models.base.requests.find((r) => r.messages[0]!.content.startsWith("You are an impartial grader"))!;
    assert.equal(grading.schema?.name, "judgement");
    assert.match(grading.messages[1]!.content, /an integer from 1 to 10/);
    assert.equal(fields["init_response-[score]"], 8);
    assert.equal(models.base.requests[0]!.schema, undefined, "rubric generation is free text");
  });

  test("each row is its own sample: two rows sending the same rubric prompt both reach the model through a cache", async () => {
    const prepared = prepareJudgeTask(settings({ seed: 7 }), options());
    const inner = scripted();
    const cache = new MemoryCallCache();
    const models = { base: new CachedModel(inner.base, cache), critic: new CachedModel(inner.critic, cache) };
    const outcomes = [];
    for (const item of items()) outcomes.push(await prepared.algorithm.run(item, models, { itemId: judgeItemKey(item.row, item.id) }));
    const rubricRequests = inner.base.requests.filter((r) => r.messages[0]!.content.startsWith("You write a scoring rubric"));
    assert.equal(rubricRequests.length, 2, "the second row's identical rubric prompt is not answered from the cache");
    assert.equal(rubricRequests[0]!.messages[1]!.content, rubricRequests[1]!.messages[1]!.content);
    assert.notEqual(rubricRequests[0]!.sampleIndex, rubricRequests[1]!.sampleIndex);
    assert.notEqual(rubricRequests[0]!.sampling?.seed, rubricRequests[1]!.sampling?.seed, "seeded backends sample each row differently");
    assert.notEqual(outcomes[0]!.fields.principle_raw, outcomes[1]!.fields.principle_raw);
    assert.equal(rubricRequests[0]!.sampleIndex, rowSampleBase("math_1/model-a"));

    // Resuming a row finds its own samples.
    const before = inner.base.requests.length + inner.critic.requests.length;
    const again = await prepared.algorithm.run(items()[1]!, models, { itemId: "math_1/model-b" });
    assert.equal(inner.base.requests.length + inner.critic.requests.length, before);
    assert.equal(again.fields.principle_raw, outcomes[1]!.fields.principle_raw);
  });

  test("a row without the response field is an InputError naming the field", async () => {
    const prepared = prepareJudgeTask(settings(), options({ responseField: "answer" }));
    const [item] = items();
    await assert.rejects(
      prepared.algorithm.run(item!, scripted(), { itemId: "k" }),
      (e: unknown) => e instanceof InputError && /"answer"/.test(e.message),
    );
  });
});

describe("prepareJudge", () => {
  test("rubric sources: spri is built in, unknown names are a ConfigError listing the known ones, others can register", () => {
    assert.ok(rubricSourceNames().includes("spri"));
    assert.throws(
      () => prepareJudgeTask(settings(), options({ rubrics: "nope" })),
      (e: unknown) => e instanceof ConfigError && /unknown rubric source "nope"/.test(e.message) && /spri/.test(e.describe()),
    );
    registerRubricSource({ ...spriRubricSource, name: "test-source", usesSeeds: false });
    assert.equal(rubricSource("test-source").name, "test-source");
    assert.throws(() => prepareJudgeTask(settings({ seeds: "x.jsonl" }), options({ rubrics: "test-source" })), /--seeds does not apply/);
  });

  test("the reference's score regex reads 1–5 only", () => {
    assert.throws(() => prepareJudgeTask(settings({ compat: "reference" }), options({ scale: { min: 1, max: 10 } })), ConfigError);
    prepareJudgeTask(settings(), options({ scale: { min: 1, max: 10 } }));
  });

  test("items are read as the rubric task reads them and keyed by id and model name", () => {
    const prepared = prepareJudgeTask(settings(), options());
    assert.equal(prepared.task, "rubric");
    assert.equal(prepared.algorithm.name, "judge/spri");
    assert.equal(judgeItemKey({ id: "a", model_name: "m" }, "a"), "a/m");
    assert.equal(judgeItemKey({ id: "a" }, "a"), "a");
    assert.equal(prepared.itemKey, judgeItemKey);
  });

  test("a prompt directory missing a judge template fails before any call", () => {
    assert.throws(
      () => prepareJudgeTask(settings({ prompts: [import.meta.dirname] }), options()),
      (e: unknown) => e instanceof ConfigError && /was not found/.test(e.message),
    );
  });
});
