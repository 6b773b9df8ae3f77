import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { TaskItem } from "../../../algorithms/contract/task-item.ts";
import { ScriptedModel } from "../../../models/scripted-model.ts";
import { BASELINE_TEMPLATE_NAMES, BUILTIN_BASELINE_PROMPTS } from "../../../io/prompts/builtin-baselines.ts";
import type { PromptPack } from "../../../io/prompts/prompt-pack.ts";
import { resolveCompat } from "../../../algorithms/spri/compat.ts";
import { PAPER_SAMPLING } from "../../../algorithms/spri/spri.ts";
import { baselineAlgorithm, baselineTemplates, builtinBaselinePack } from "./baselines.ts";
import type { BaselineSettings } from "./common.ts";

/** A pack whose templates are their own names, so tests see which one was used. */
const namesPack: PromptPack = { description: "names", has: () => true, get: (name) => `SYSTEM<${name}>` };

const item = (question: string): TaskItem => ({ id: "q1", question, row: { id: "q1", user_input: question } });

const settings = (overrides: Partial<BaselineSettings> = {}): BaselineSettings => ({
  pack: namesPack,
  compat: resolveCompat("default"),
  sampling: PAPER_SAMPLING,
  threshold: 4,
  maxIterations: 4,
  ...overrides,
});

const cases = [
  {
    task: "baseline-direct",
    template: BASELINE_TEMPLATE_NAMES.direct,
    user: "### Question:  What is 2+2? \n\n### Response:",
    field: "baseline-direct_response",
  },
  {
    task: "baseline-self-instruct",
    template: BASELINE_TEMPLATE_NAMES.selfInstruct,
    user: "Task: What is 2+2?\nOutput:",
    field: "self-instruct_response",
  },
  {
    task: "baseline-self-align",
    template: BASELINE_TEMPLATE_NAMES.selfAlign,
    user: "User:  What is 2+2? ",
    field: "baseline-[self-align]_response",
  },
  {
    task: "baseline-seed-principles",
    template: BASELINE_TEMPLATE_NAMES.seedPrinciples,
    user: "User Input: What is 2+2?\nResponse:",
    field: "[6-seed-principles]_response",
  },
] as const;

describe("one-call baselines", () => {
  for (const c of cases) {
    test(`${c.task}: [system = template, user = framed question], one base call, reference field names`, async () => {
      const base = new ScriptedModel({ modelId: "mixtral", fallback: () => "\n## Four.\n###" });
      const critic = new ScriptedModel({ modelId: "critic" });
      const outcome = await baselineAlgorithm(c.task, settings()).run(item(" What is 2+2? "), { base, critic }, { itemId: "q1" });

      const messages = [
        { role: "system", content: `SYSTEM<${c.template}>` },
        { role: "user", content: c.user },
      ];
      assert.deepEqual(Object.keys(outcome.fields), [c.field, `${c.field}_prompt`]);
      assert.equal(outcome.fields[c.field], "Four.");
      assert.deepEqual(outcome.fields[`${c.field}_prompt`], messages);
      assert.equal(base.requests.length, 1);
      assert.equal(critic.requests.length, 0, "the critic is unused");
      assert.deepEqual(base.requests[0]!.messages, messages);
      assert.deepEqual(base.requests[0]!.sampling, PAPER_SAMPLING);
      assert.equal(outcome.calls.length, 1);
      assert.equal(outcome.calls[0]!.role, "base");
      assert.equal(outcome.calls[0]!.response, "\n## Four.\n###", "the trace keeps the raw answer");
      assert.deepEqual(baselineTemplates(c.task), [c.template]);
    });
  }

  test("outputs are cleaned as compat.outputStrip says: python keeps a `#` after a leading space", async () => {
    const answer = " ### Heading\nbody\n";
    const run = async (preset: "default" | "reference") => {
      const base = new ScriptedModel({ modelId: "mixtral", fallback: () => answer });
      const outcome = await baselineAlgorithm("baseline-direct", settings({ compat: resolveCompat(preset) })).run(
        item("q"),
        { base, critic: base },
        { itemId: "q1" },
      );
      return outcome.fields["baseline-direct_response"];
    };
    assert.equal(await run("reference"), "### Heading\nbody");
    assert.equal(await run("default"), "Heading\nbody");
  });

  test("GPT models get no sampling parameters under gptSampling: api-defaults", async () => {
    const base = new ScriptedModel({ modelId: "gpt-4o-mini", fallback: () => "ok" });
    await baselineAlgorithm("baseline-direct", settings({ compat: resolveCompat("reference") })).run(
      item("q"),
      { base, critic: base },
      { itemId: "q1" },
    );
    assert.deepEqual(base.requests[0]!.sampling, {});
  });

  test("the built-in pack holds every baseline template, in spri's own words", () => {
    const pack = builtinBaselinePack();
    for (const name of Object.values(BASELINE_TEMPLATE_NAMES)) {
      assert.ok(pack.has(name), name);
      assert.ok(pack.get(name).length > 20, name);
    }
    assert.equal(Object.keys(BUILTIN_BASELINE_PROMPTS).length, Object.keys(BASELINE_TEMPLATE_NAMES).length);
    assert.throws(() => pack.get("instruct-stage1_01-principle_gen.txt"), /built-in baseline prompts have no template/);
  });
});
