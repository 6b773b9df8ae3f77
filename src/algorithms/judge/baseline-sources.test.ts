import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resolveSettings } from "../../config/config.ts";
import { BUILTIN_JUDGE_BASELINE_PROMPTS, JUDGE_BASELINE_TEMPLATES } from "../../io/prompts/builtin-judge-baselines.ts";
import { DEFAULT_JUDGE_OPTIONS, prepareJudgeTask } from "../../presets/tasks/prepare-judge.ts";
import { pyFormat } from "../../base/util/python.ts";
import { BASELINE_RUBRIC_SOURCES } from "./baseline-sources.ts";
import { rubricSource, rubricSourceNames } from "./rubric-sources.ts";

const settings = () => resolveSettings({ flags: {}, env: {}, cwd: "/nonexistent" }).settings;

describe("the baseline rubric sources", () => {
  test("registered beside spri, in the order of the paper's Table 2, each with its final score field", () => {
    for (const name of ["spri", "oracle", "vanilla", "self-refine", "mt-bench", "flask", "seed-principles"])
      assert.ok(rubricSourceNames().includes(name), name);
    assert.deepEqual(
      BASELINE_RUBRIC_SOURCES.map((s) => s.name),
      ["oracle", "vanilla", "self-refine", "mt-bench", "flask", "seed-principles"],
    );
    assert.deepEqual(
      Object.fromEntries(["spri", ...BASELINE_RUBRIC_SOURCES.map((s) => s.name)].map((name) => [name, rubricSource(name).scoreField])),
      {
        spri: "response_final-[score]",
        oracle: "[direct_eval]-score",
        vanilla: "[vanilla]-score",
        "self-refine": "[self-refine]-iteration-5-score",
        "mt-bench": "[baseline]-vanilla-MT_Bench-score",
        flask: "[baseline]-flask-score",
        "seed-principles": "[baseline]-[seed_principles_as_rubrics]-score",
      },
    );
    assert.ok(BASELINE_RUBRIC_SOURCES.every((s) => !s.usesSeeds && s.description.length > 0));
  });

  test("each prepares with the built-in prompts alone", () => {
    for (const source of BASELINE_RUBRIC_SOURCES) {
      const prepared = prepareJudgeTask(settings(), { ...DEFAULT_JUDGE_OPTIONS, rubrics: source.name });
      assert.equal(prepared.algorithm.name, `judge/${source.name}`);
      assert.ok(prepared.algorithm.calls);
    }
  });

  test("built-in baseline prompts: text templates use only the scale (and MT-Bench's) fields; the JSONL ones parse", () => {
    const fields = { min_score: "1", max_score: "5", orig_instruction: "i", orig_response: "r", orig_reference_answer: "a" };
    for (const [name, text] of Object.entries(BUILTIN_JUDGE_BASELINE_PROMPTS)) {
      if (name.endsWith(".jsonl")) {
        const rows = text.split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        assert.ok(rows.length >= 6, name);
      } else {
        assert.doesNotThrow(() => pyFormat(text, fields, name), name);
      }
    }
    assert.ok(
      BUILTIN_JUDGE_BASELINE_PROMPTS[JUDGE_BASELINE_TEMPLATES.mtBenchSystem]!.includes("a reference answer and "),
      "the phrase the reference-free edit removes",
    );
    assert.ok(BUILTIN_JUDGE_BASELINE_PROMPTS[JUDGE_BASELINE_TEMPLATES.selfRefineUserSuffix]!.startsWith("\n\n\n"));
  });
});
