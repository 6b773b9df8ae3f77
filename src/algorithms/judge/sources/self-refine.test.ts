import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { resolveSettings } from "../../../config/config.ts";
import { readFileSync } from "node:fs";
import type { GenerateRequest } from "../../../models/language-model.ts";
import { ScriptedModel } from "../../../models/scripted-model.ts";
import { BUILTIN_JUDGE_BASELINE_PROMPTS, JUDGE_BASELINE_TEMPLATES } from "../../../io/prompts/builtin-judge-baselines.ts";
import { DEFAULT_JUDGE_OPTIONS, prepareJudgeTask } from "../../../presets/tasks/prepare-judge.ts";
import { toTaskItem } from "../../../presets/tasks/task-item.ts";
import { rubricSource } from "../rubric-sources.ts";
import { SELF_REFINE_REFINEMENTS, selfRefineField, selfRefineUser } from "./self-refine.ts";

const SHARED = resolve(import.meta.dirname, "..", "..", "..", "..", "..", "shared");
const PAPER_PROMPTS = [join(SHARED, "spri-public", "[task2]-BiGGenBench", "prompts"), join(SHARED, "spri-public-inline")];

const settings = (flags: Record<string, unknown> = {}) => resolveSettings({ flags, env: {}, cwd: "/nonexistent" }).settings;
const ROW = { id: "sum_1", capability: "reasoning", input: "What is 2+2?", response: "4", model_name: "a" };
const item = toTaskItem("rubric", ROW, {}, { file: "in.jsonl", line: 1 });

/** Judgement k (0-based) answers score k % 5 + 1, wrapped in BAM-style whitespace and a trailing `#`. */
function judge(modelId: string) {
  return new ScriptedModel({ modelId, fallback: (_r, call) => ` <feedback>take ${call}</feedback><score>${(call % 5) + 1}</score>\n#` });
}

async function run(modelId: string, flags: Record<string, unknown> = {}) {
  const prepared = prepareJudgeTask(settings(flags), { ...DEFAULT_JUDGE_OPTIONS, rubrics: "self-refine" });
  const model = judge(modelId);
  const outcome = await prepared.algorithm.run(item, { base: model, critic: model }, { itemId: "sum_1/a" });
  return { prepared, outcome, fields: outcome.fields, requests: model.requests };
}

const userOf = (request: GenerateRequest) => request.messages[1]!.content;

describe("--rubrics self-refine", () => {
  test("6 calls: the vanilla grading, then 5 refinements without a stopping rule; fields per iteration, in order", async () => {
    const { fields, outcome, requests, prepared } = await run("judge-model");
    assert.equal(SELF_REFINE_REFINEMENTS, 5);
    assert.equal(prepared.algorithm.name, "judge/self-refine");
    assert.deepEqual(prepared.algorithm.calls, { min: 6, expected: 6, max: 6, criticShare: 0 });
    assert.equal(outcome.calls.length, 6);
    assert.deepEqual(
      outcome.calls.map((c) => c.iteration),
      [0, 1, 2, 3, 4, 5],
    );
    assert.deepEqual(
      Object.keys(fields),
      [0, 1, 2, 3, 4, 5].flatMap((i) => [selfRefineField(i), `${selfRefineField(i)}-score`, `${selfRefineField(i)}-prompt`]),
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => fields[`${selfRefineField(i)}-score`]),
      [1, 2, 3, 4, 5, 1],
      "a score of 5 does not stop it",
    );
    assert.equal(fields[selfRefineField(0)], "<feedback>take 0</feedback><score>1</score>", "cleaned");
    assert.deepEqual(fields[`${selfRefineField(3)}-prompt`], requests[3]!.messages, "the prompt sent");
    assert.equal(rubricSource("self-refine").scoreField, "[self-refine]-iteration-5-score");
    // Iteration 0 is the vanilla baseline's grading call.
    assert.match(userOf(requests[0]!), /###Score rubric:\nOverall, how well does the response do what the instruction asks\?/);
  });

  test("by default every refinement shows the grading prompt, the previous judgement and the request to refine it", async () => {
    const { requests, fields } = await run("meta-llama/llama-3-1-70b-instruct");
    const grading = userOf(requests[0]!);
    for (let i = 1; i <= 5; i++) {
      assert.equal(requests[i]!.messages[0]!.content, BUILTIN_JUDGE_BASELINE_PROMPTS[JUDGE_BASELINE_TEMPLATES.selfRefineSystem]);
      const suffix = BUILTIN_JUDGE_BASELINE_PROMPTS[JUDGE_BASELINE_TEMPLATES.selfRefineUserSuffix]!.replace("{min_score}", "1").replace(
        "{max_score}",
        "5",
      );
      assert.equal(userOf(requests[i]!), selfRefineUser(grading, String(fields[selfRefineField(i - 1)]), suffix));
    }
    assert.ok(
      userOf(requests[1]!).includes(
        "###Feedback: \n\n\n<feedback>take 0</feedback><score>1</score>\n\n\nAbove is your previous evaluation",
      ),
    );
  });

  test("--compat reference: models without 'gpt' are sent only the previous judgement; GPT models the full form, stored with a plain strip", async () => {
    const bam = await run("meta-llama/llama-3-1-70b-instruct", { compat: "reference" });
    for (let i = 1; i <= 5; i++) assert.equal(userOf(bam.requests[i]!), bam.fields[selfRefineField(i - 1)], `refinement ${i}`);
    assert.equal(bam.fields[selfRefineField(1)], "<feedback>take 1</feedback><score>2</score>", 'the reference\'s strip("\\n#").strip()');

    const gpt = await run("gpt-4o-mini", { compat: "reference" });
    assert.equal(gpt.fields[selfRefineField(0)], "<feedback>take 0</feedback><score>1</score>\n#", "GPT outputs: .strip() only");
    assert.ok(userOf(gpt.requests[2]!).startsWith(userOf(gpt.requests[0]!)));
    assert.ok(userOf(gpt.requests[2]!).includes(`\n\n\n${String(gpt.fields[selfRefineField(1)])}`));
  });

  test("with the paper's files: refinement prompts assembled byte for byte as the reference's (spec §6.3)", async () => {
    const { requests, fields } = await run("gpt-4o-mini", { compat: "reference", prompts: PAPER_PROMPTS });
    const system = readFileSync(join(PAPER_PROMPTS[1]!, "task2-self-refine-judge-system.txt"), "utf8");
    const suffix = readFileSync(join(PAPER_PROMPTS[1]!, "task2-self-refine-user-suffix.txt"), "utf8");
    assert.equal(requests[1]!.messages[0]!.content, system);
    assert.equal(userOf(requests[1]!), `${userOf(requests[0]!)}\n\n\n${String(fields[selfRefineField(0)])}${suffix}`);
    assert.equal(requests[0]!.messages[0]!.content, readFileSync(join(PAPER_PROMPTS[1]!, "task2-judge-system.txt"), "utf8"));
  });
});
