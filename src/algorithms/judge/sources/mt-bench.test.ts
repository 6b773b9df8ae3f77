import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { resolveSettings } from "../../../config/config.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import { ScriptedModel } from "../../../models/scripted-model.ts";
import type { PromptPack } from "../../../io/prompts/prompt-pack.ts";
import { JUDGE_BASELINE_TEMPLATES } from "../../../io/prompts/builtin-judge-baselines.ts";
import { DEFAULT_JUDGE_OPTIONS, prepareJudgeTask } from "../../../presets/tasks/prepare-judge.ts";
import { toTaskItem } from "../../../presets/tasks/task-item.ts";
import type { JudgeContext } from "../rubric-source.ts";
import { MT_BENCH_FIELD, mtBenchAlgorithm, referenceFreeMtBenchSystem, referenceFreeMtBenchUser } from "./mt-bench.ts";

const SHARED = resolve(import.meta.dirname, "..", "..", "..", "..", "..", "shared");
const PAPER_DIR = join(SHARED, "spri-public", "[task2]-BiGGenBench", "prompts");
const PAPER_PROMPTS = [PAPER_DIR, join(SHARED, "spri-public-inline")];

const settings = (flags: Record<string, unknown> = {}) => resolveSettings({ flags, env: {}, cwd: "/nonexistent" }).settings;
const ROW = { id: "q_1", capability: "reasoning", input: "What is 2+2?", response: "4", reference_answer: "2+2 = 4.", model_name: "a" };

async function run(flags: Record<string, unknown> = {}, referenceField?: string) {
  const prepared = prepareJudgeTask(settings(flags), { ...DEFAULT_JUDGE_OPTIONS, rubrics: "mt-bench" });
  const model = new ScriptedModel({ modelId: "judge-model", fallback: () => "<feedback>Correct.</feedback><score>5</score>" });
  const item = toTaskItem("rubric", ROW, { referenceField }, { file: "in.jsonl", line: 1 });
  const outcome = await prepared.algorithm.run(item, { base: model, critic: model }, { itemId: "q_1/a" });
  return { prepared, outcome, fields: outcome.fields, request: model.requests[0]! };
}

describe("--rubrics mt-bench", () => {
  test("one call, no rubric; fields X, X-score, X-prompt; reference-free by default", async () => {
    const { fields, outcome, request, prepared } = await run();
    assert.equal(prepared.algorithm.name, "judge/mt-bench");
    assert.equal(outcome.calls.length, 1);
    assert.deepEqual(Object.keys(fields), [MT_BENCH_FIELD, `${MT_BENCH_FIELD}-score`, `${MT_BENCH_FIELD}-prompt`]);
    assert.equal(fields[`${MT_BENCH_FIELD}-score`], 5);
    const [system, user] = request.messages;
    assert.match(system!.content, /You will see the user's question followed by the assistant's answer\./);
    assert.match(system!.content, /an integer from 1 to 5/);
    assert.equal(user!.content, "### User question:\nWhat is 2+2?\n\n\n### Assistant's answer:\n4\n\n### Your judgement:");
  });

  test("with --reference-field the reference answer is shown, and the system prompt says so", async () => {
    const { request } = await run({}, "reference_answer");
    assert.match(request.messages[0]!.content, /followed by a reference answer and the assistant's answer\./);
    assert.equal(
      request.messages[1]!.content,
      "### User question:\nWhat is 2+2?\n\n### Reference answer:\n2+2 = 4.\n\n### Assistant's answer:\n4\n\n### Your judgement:",
    );
  });

  test("the paper's files, reference-free: assembled byte for byte as spec §6.3 says", async () => {
    const { request } = await run({ prompts: PAPER_PROMPTS });
    const read = (name: string) => readFileSync(join(PAPER_DIR, name), "utf8").replace(/\r\n/g, "\n");
    // System: the one sentence naming the reference answer (its second line) loses "a reference answer and ".
    const system = read("MT-Bench-COARSE_PROMPT-[SYSTEM].txt").split("\n");
    const edited = system[1]!.replace("a reference answer and ", "");
    assert.notEqual(edited, system[1]);
    assert.equal(request.messages[0]!.content, [system[0], edited, ...system.slice(2)].join("\n"));
    // User: the `{orig_reference_answer}` line and its header line go; the blank lines around them stay.
    const user = read("MT-Bench-COARSE_PROMPT-[USER].txt").split("\n");
    const at = user.indexOf("{orig_reference_answer}");
    assert.ok(at > 0 && user[at - 1]!.startsWith("#"));
    const expected = [...user.slice(0, at - 1), ...user.slice(at + 1)]
      .join("\n")
      .replace("{orig_instruction}", "What is 2+2?")
      .replace("{orig_response}", "4");
    assert.equal(request.messages[1]!.content, expected);
    assert.ok(request.messages[1]!.content.includes("What is 2+2?\n\n\n#"), "three newlines where the reference answer was");
  });

  test("the reference-free edits", () => {
    assert.equal(referenceFreeMtBenchSystem("Given a reference answer and the answer."), "Given the answer.");
    assert.equal(referenceFreeMtBenchUser("Q:\n{q}\n\n## Ref:\n{orig_reference_answer}\n\nA:"), "Q:\n{q}\n\n\nA:");
    assert.equal(referenceFreeMtBenchUser("no reference here"), "no reference here");
  });

  test("a user template whose reference answer cannot be cut out is a ConfigError when the run is prepared", () => {
    const templates: Record<string, string> = {
      [JUDGE_BASELINE_TEMPLATES.mtBenchSystem]: "Judge.",
      [JUDGE_BASELINE_TEMPLATES.mtBenchUser]: "Q: {orig_instruction} Ref: {orig_reference_answer} A: {orig_response}",
    };
    const pack: PromptPack = { description: "t", has: (n) => n in templates, get: (n) => templates[n]! };
    const context = { pack, settings: settings({ prompts: ["x"] }), options: DEFAULT_JUDGE_OPTIONS } as unknown as JudgeContext;
    assert.throws(
      () => mtBenchAlgorithm(context),
      (e: unknown) => e instanceof ConfigError && /cannot be used reference-free/.test(e.message),
    );
  });
});
