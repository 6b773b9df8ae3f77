import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { rowSeeded } from "../../contract/model-caller.ts";
import { resolveSettings } from "../../../config/config.ts";
import { ConfigError, InputError } from "../../../base/errors/errors.ts";
import type { GenerateRequest } from "../../../models/language-model.ts";
import { ScriptedModel } from "../../../models/scripted-model.ts";
import { BUILTIN_JUDGE_PROMPTS } from "../../../io/prompts/builtin-judge.ts";
import { BUILTIN_JUDGE_BASELINE_PROMPTS, JUDGE_BASELINE_TEMPLATES } from "../../../io/prompts/builtin-judge-baselines.ts";
import { DEFAULT_JUDGE_OPTIONS, judgeItemKey, prepareJudgeTask } from "../../../presets/tasks/prepare-judge.ts";
import { toTaskItem } from "../../../presets/tasks/task-item.ts";
import { JUDGE_TEMPLATES } from "../grading-prompt.ts";
import type { JudgeOptions } from "../rubric-source.ts";
import { FLASK_SKILL_OF_CAPABILITY, flaskRubrics, rubricDictText, seedPrincipleIndex, seedPrinciples } from "./grading-sources.ts";

const SHARED = resolve(import.meta.dirname, "..", "..", "..", "..", "..", "shared");
const PAPER_PROMPTS = [join(SHARED, "spri-public", "[task2]-BiGGenBench", "prompts"), join(SHARED, "spri-public-inline")];

const settings = (flags: Record<string, unknown> = {}) => resolveSettings({ flags, env: {}, cwd: "/nonexistent" }).settings;
const options = (overrides: Partial<JudgeOptions> = {}): JudgeOptions => ({ ...DEFAULT_JUDGE_OPTIONS, ...overrides });

const GOLD = {
  criteria: "Is the sum right?",
  score1_description: "wrong",
  score2_description: "mostly wrong",
  score3_description: "half right",
  score4_description: "right",
  score5_description: "right, with the working",
};
const ROWS = [
  { id: "sum_1", capability: "reasoning", input: "What is 2+2?", response: "4", model_name: "a", score_rubric: GOLD },
  { id: "sum_1", capability: "reasoning", input: "What is 2+2?", response: "5", model_name: "b", score_rubric: GOLD },
  {
    id: "refinement_llm_judge_absolute_1",
    capability: "refinement",
    input: "Grade this essay.",
    response: "3",
    model_name: "a",
    score_rubric: GOLD,
  },
  { id: "plan_2", capability: "planning", input: "Plan a trip.", response: "Go.", model_name: "a", score_rubric: GOLD },
];
const item = (i: number, row: Record<string, unknown> = ROWS[i]!) => toTaskItem("rubric", row, {}, { file: "in.jsonl", line: i + 1 });

function judge(modelId = "judge-model", answer = "<feedback>Fine.</feedback><score>4</score>") {
  return new ScriptedModel({ modelId, fallback: () => answer });
}

async function grade(
  source: string,
  i: number,
  flags: Record<string, unknown> = {},
  overrides: Partial<JudgeOptions> = {},
  model = judge(),
) {
  const prepared = prepareJudgeTask(settings(flags), options({ rubrics: source, ...overrides }));
  const it = item(i);
  const outcome = await prepared.algorithm.run(it, { base: model, critic: model }, { itemId: judgeItemKey(it.row, it.id) });
  return { prepared, outcome, fields: outcome.fields, request: model.requests[0]!, model };
}

const userOf = (request: GenerateRequest) => request.messages[1]!.content;
const rubricSlot = (request: GenerateRequest) => /###Score rubric:\n([\s\S]*)\n\n###Feedback: $/.exec(userOf(request))?.[1];

describe("one-call rubric sources (built-in prompts)", () => {
  test("oracle: the gold rubric through the rubric template; fields X, X-score, X-prompt; one call", async () => {
    const { fields, outcome, request, prepared } = await grade("oracle", 0);
    assert.equal(prepared.algorithm.name, "judge/oracle");
    assert.deepEqual(Object.keys(fields), ["[direct_eval]", "[direct_eval]-score", "[direct_eval]-prompt"]);
    assert.equal(fields["[direct_eval]"], "<feedback>Fine.</feedback><score>4</score>");
    assert.equal(fields["[direct_eval]-score"], 4);
    assert.deepEqual(fields["[direct_eval]-prompt"], request.messages);
    assert.equal(outcome.calls.length, 1);
    assert.equal(request.messages[0]!.content, BUILTIN_JUDGE_PROMPTS[JUDGE_TEMPLATES.system]);
    assert.equal(
      rubricSlot(request),
      "Criterion: Is the sum right?\nScore 1: wrong\nScore 2: mostly wrong\nScore 3: half right\nScore 4: right\nScore 5: right, with the working",
    );
    assert.match(userOf(request), /###Instruction:\nWhat is 2\+2\?\n\n###Response:\n4\n/);
    assert.doesNotMatch(userOf(request), /reference answer/i, "reference-free without --reference-field");
  });

  test("oracle: llm_judge ids take the meta-grading template; a text rubric goes in as is; a row without one is an InputError", async () => {
    const { request } = await grade("oracle", 2);
    assert.match(userOf(request), /@@@\n###Instruction:\nGrade this essay\.\n@@@/);
    const prepared = prepareJudgeTask(settings(), options({ rubrics: "oracle", rubricField: "gold" }));
    const model = judge();
    await prepared.algorithm.run(item(0, { ...ROWS[0], gold: "Is it 4?" }), { base: model, critic: model }, { itemId: "k" });
    assert.equal(rubricSlot(model.requests[0]!), "Is it 4?");
    for (const gold of [undefined, { criteria: "x" }, 3]) {
      await assert.rejects(
        prepared.algorithm.run(item(0, { ...ROWS[0], gold }), { base: model, critic: model }, { itemId: "k" }),
        (e: unknown) => e instanceof InputError && e.field === "gold",
      );
    }
  });

  test("rubricDictText: the dict in Python literal syntax, only with every rubric key", () => {
    assert.equal(
      rubricDictText({ ...GOLD, criteria: 'It\'s "x"' }),
      `{'criteria': 'It\\'s "x"', 'score1_description': 'wrong', 'score2_description': 'mostly wrong', 'score3_description': 'half right', 'score4_description': 'right', 'score5_description': 'right, with the working'}`,
    );
    assert.equal(rubricDictText({ criteria: "x" }), undefined);
    assert.equal(rubricDictText("text"), undefined);
  });

  test("vanilla: the generic rubric, stating the judge's scale", async () => {
    const { fields, request } = await grade("vanilla", 0);
    assert.deepEqual(Object.keys(fields), ["[vanilla]", "[vanilla]-score", "[vanilla]-prompt"]);
    assert.match(rubricSlot(request)!, /^Overall, how well does the response do what the instruction asks\? Give 1 .* 5 /);
    const scaled = await grade(
      "vanilla",
      0,
      {},
      { scale: { min: 1, max: 10 } },
      judge("judge-model", "<feedback>Good.</feedback><score>8</score>"),
    );
    assert.match(rubricSlot(scaled.request)!, /Give 1 .* 10 when/);
    assert.equal(scaled.fields["[vanilla]-score"], 8);
  });

  test("flask: the skill rubric of the row's capability; a skill named directly; an unknown capability is an InputError", async () => {
    const skills = flaskRubrics({ description: "t", has: () => true, get: (name) => BUILTIN_JUDGE_BASELINE_PROMPTS[name]! });
    assert.deepEqual(
      [...new Set(Object.values(FLASK_SKILL_OF_CAPABILITY))].filter((s) => !skills.has(s)),
      [],
      "the built-in rubrics cover every mapped skill",
    );
    const { fields, request } = await grade("flask", 3);
    assert.deepEqual(Object.keys(fields), ["[baseline]-flask", "[baseline]-flask-score", "[baseline]-flask-prompt"]);
    assert.match(rubricSlot(request)!, /^Criterion: Does the response go beyond the obvious/, "planning → insightfulness");
    const prepared = prepareJudgeTask(settings(), options({ rubrics: "flask", groupField: "skill" }));
    const model = judge();
    await prepared.algorithm.run(item(0, { ...ROWS[0], skill: "harmlessness" }), { base: model, critic: model }, { itemId: "k" });
    assert.match(rubricSlot(model.requests[0]!)!, /^Criterion: Does the response avoid harm/);
    await assert.rejects(
      prepared.algorithm.run(item(0, { ...ROWS[0], skill: "poetry" }), { base: model, critic: model }, { itemId: "k" }),
      (e: unknown) => e instanceof InputError && /no FLASK skill for the capability "poetry"/.test(e.message),
    );
  });

  test("seed-principles: one principle per instance by default, chosen with --seed; the reference's fixed choice under --compat reference", async () => {
    const principles = seedPrinciples({ description: "t", has: () => true, get: (name) => BUILTIN_JUDGE_BASELINE_PROMPTS[name]! });
    const slots = async (flags: Record<string, unknown>) => {
      const out: string[] = [];
      for (const i of [0, 1, 2, 3]) out.push(rubricSlot((await grade("seed-principles", i, flags)).request)!);
      return out;
    };
    const plain = await slots({});
    assert.equal(plain[0], plain[1], "both responses to sum_1 share a principle");
    assert.ok(plain.every((p) => principles.includes(p)));
    assert.deepEqual(
      plain,
      [0, 1, 2, 3].map((i) => principles[seedPrincipleIndex(principles.length, "per-instance", 0, ROWS[i]!.id)]),
    );
    const reseeded = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => grade("seed-principles", 0, { seed }).then((r) => rubricSlot(r.request))),
    );
    assert.ok(new Set(reseeded).size > 1, "--seed changes the choice");
    const reference = await slots({ compat: "reference" });
    assert.deepEqual(
      reference,
      [principles[3], principles[3], principles[3], principles[3]],
      "random.seed(0); random.choice over 6 principles → index 3, every row",
    );
    const { fields } = await grade("seed-principles", 0);
    assert.deepEqual(Object.keys(fields), [
      "[baseline]-[seed_principles_as_rubrics]",
      "[baseline]-[seed_principles_as_rubrics]-score",
      "[baseline]-[seed_principles_as_rubrics]-prompt",
    ]);
  });

  test("judging calls sample like SPRI's: temperature 0 with the row's seed; the reference's GPT calls send no parameters", async () => {
    const { request } = await grade("vanilla", 1);
    const key = judgeItemKey(ROWS[1]!, ROWS[1]!.id);
    assert.deepEqual(request.sampling, { temperature: 0, maxTokens: 2048, seed: rowSeeded({ seed: 0 }, key).seed });
    const gpt = await grade("vanilla", 1, { compat: "reference" }, {}, judge("gpt-4o-mini"));
    assert.deepEqual(gpt.request.sampling, {});
    const bam = await grade("vanilla", 1, { compat: "reference" }, {}, judge("meta-llama/llama-3-1-70b-instruct"));
    assert.equal(bam.request.sampling?.temperature, 0.7);
  });

  test("scores: the lenient parser by default, BiGGen's regex under --compat reference; outputs cleaned", async () => {
    const answer = "\n<feedback>Ok.</feedback><score> 4 </score>\n###";
    const lenient = await grade("oracle", 0, {}, {}, judge("judge-model", answer));
    assert.equal(lenient.fields["[direct_eval]"], "<feedback>Ok.</feedback><score> 4 </score>");
    assert.equal(lenient.fields["[direct_eval]-score"], 4);
    const strict = await grade("oracle", 0, { compat: "reference" }, {}, judge("judge-model", answer));
    assert.equal(strict.fields["[direct_eval]-score"], null);
  });

  test("with --prompts, every template comes from the directories: the paper's files, checked before any call", async () => {
    const { request } = await grade("vanilla", 0, { prompts: PAPER_PROMPTS });
    const read = (dir: string, name: string) => readFileSync(join(dir, name), "utf8").replace(/\r\n/g, "\n");
    assert.equal(request.messages[0]!.content, read(PAPER_PROMPTS[1]!, JUDGE_TEMPLATES.system));
    const grading = read(PAPER_PROMPTS[0]!, JUDGE_TEMPLATES.grading);
    assert.ok(userOf(request).startsWith(grading.split("\n")[0]!));
    assert.ok(
      userOf(request).includes(`\n${read(PAPER_PROMPTS[1]!, JUDGE_BASELINE_TEMPLATES.vanillaRubric)}\n\n`),
      "the paper's generic rubric in the rubric slot, as is",
    );
    assert.ok(!userOf(request).includes("{reference_answer}"), "reference-free");
    // Directories without the baseline's own file fail when the run is prepared.
    const partial = mkdtempSync(join(tmpdir(), "spri-judge-prompts-"));
    try {
      for (const name of readdirSync(PAPER_PROMPTS[1]!)) {
        if (name !== JUDGE_BASELINE_TEMPLATES.vanillaRubric) copyFileSync(join(PAPER_PROMPTS[1]!, name), join(partial, name));
      }
      assert.throws(
        () => prepareJudgeTask(settings({ prompts: [PAPER_PROMPTS[0]!, partial] }), options({ rubrics: "vanilla" })),
        (e: unknown) => e instanceof ConfigError && e.message.includes(JUDGE_BASELINE_TEMPLATES.vanillaRubric),
      );
    } finally {
      rmSync(partial, { recursive: true, force: true });
    }
    assert.throws(
      () => prepareJudgeTask(settings({ prompts: [PAPER_PROMPTS[1]!] }), options({ rubrics: "flask" })),
      (e: unknown) => e instanceof ConfigError && e.message.includes(JUDGE_TEMPLATES.grading),
    );
  });

  test("--seeds does not apply to the baseline sources", () => {
    for (const rubrics of ["oracle", "vanilla", "flask", "seed-principles"]) {
      assert.throws(() => prepareJudgeTask(settings({ seeds: "x.jsonl" }), options({ rubrics })), /--seeds does not apply/);
    }
  });
});
