import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { resolveSettings } from "../../../config/config.ts";
import { ConfigError } from "../../../base/errors/errors.ts";
import { ScriptedModel } from "../../../models/scripted-model.ts";
import { BASELINE_TEMPLATE_NAMES } from "../../../io/prompts/builtin-baselines.ts";
import { parseTaskName, prepareTask } from "../prepare.ts";
import { BASELINE_TASK_NAMES, TASK_NAMES, toTaskItem } from "../task-item.ts";

const cwd = mkdtempSync(join(tmpdir(), "spri-baselines-"));
const settings = (flags: Record<string, unknown>) => resolveSettings({ flags, env: {}, cwd }).settings;

describe("baseline tasks are registered", () => {
  test("task names", () => {
    for (const name of BASELINE_TASK_NAMES) {
      assert.ok(TASK_NAMES.includes(name));
      assert.equal(parseTaskName(name), name);
    }
    assert.deepEqual(
      [...BASELINE_TASK_NAMES],
      ["baseline-direct", "baseline-self-instruct", "baseline-self-align", "baseline-self-refine", "baseline-seed-principles"],
    );
  });

  test("fields: the question from user_input (then the usual names), the id from id", () => {
    const item = toTaskItem("baseline-self-refine", { id: "mt_bench_81", user_input: "U", prompt: "P" }, {}, { file: "f", line: 1 });
    assert.deepEqual([item.id, item.question], ["mt_bench_81", "U"]);
    assert.equal(toTaskItem("baseline-direct", { instruction: "I" }, {}, { file: "f", line: 3 }).question, "I");
  });

  test("prepareTask returns the baseline's algorithm over the built-in baseline prompts", async () => {
    for (const task of BASELINE_TASK_NAMES) {
      const prepared = prepareTask(settings({ task }));
      assert.equal(prepared.task, task);
      assert.equal(prepared.algorithm.name, `baseline/${task.slice("baseline-".length)}`);
    }
    const prepared = prepareTask(settings({ task: "baseline-direct", temperature: 0.2 }));
    const base = new ScriptedModel({ modelId: "m", fallback: () => "answer" });
    const outcome = await prepared.algorithm.run(
      toTaskItem("baseline-direct", { id: "1", user_input: "Q?" }, {}, { file: "f", line: 1 }),
      { base, critic: base },
      { itemId: "1" },
    );
    assert.equal(outcome.fields["baseline-direct_response"], "answer");
    assert.equal(base.requests[0]!.sampling?.temperature, 0.2, "the prepared base sampling");
    assert.doesNotMatch(base.requests[0]!.messages[0]!.content, /^\s*$/);
  });

  test("a --prompts pack missing a template fails up front, naming it", () => {
    const dir = mkdtempSync(join(tmpdir(), "spri-baseline-pack-"));
    writeFileSync(join(dir, BASELINE_TEMPLATE_NAMES.direct), "SYS");
    assert.equal(prepareTask(settings({ task: "baseline-direct", prompts: [dir] })).algorithm.name, "baseline/direct");
    assert.throws(
      () => prepareTask(settings({ task: "baseline-self-refine", prompts: [dir] })),
      (e: unknown) => e instanceof ConfigError && e.message.includes(BASELINE_TEMPLATE_NAMES.selfRefineFeedback),
    );
  });

  test("--seeds does not apply to baselines", () => {
    assert.throws(() => prepareTask(settings({ task: "baseline-seed-principles", seeds: "seeds.jsonl" })), /does not apply/);
  });
});
