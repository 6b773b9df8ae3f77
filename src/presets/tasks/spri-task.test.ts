import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { builtinPack, directoryPack } from "../../io/prompts/prompt-pack.ts";
import { resolveCompat } from "../../algorithms/spri/compat.ts";
import { formatFewShot, type SeedSet } from "./seeds.ts";
import { requiredTemplates, taskSteps } from "./spri-task.ts";
import { toTaskItem } from "./task-item.ts";

const at = { file: "f", line: 1 };

function pack(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), "spri-pack-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return directoryPack([dir]);
}

const PAPERLIKE = {
  "instruct-stage1_01-principle_gen.txt": "Write principles. Be brief. When phrasing principles, follow these examples:",
  "instruct-stage1_02-principle_critique.txt": "Rate\r\nQ={orig_question} G={response_goal} P={orig_principle}",
  "instruct-stage1_02-principle_refinement.txt": "Refine them.",
  "instruct-stage2_01-gen_init_responses.txt": "Answer.",
  "instruct-stage2_02-response_critique.txt": "Rate Q={orig_question} P={orig_principle} R={orig_response}",
  "instruct-stage2_02-response_refinement.txt": "Refine it.",
};

describe("taskSteps assembly (spec §4)", () => {
  const item = toTaskItem(
    "reappraisal",
    { "Reddit Post": "my post", appraisal_dimension_aim: "the aim", appraisal_dimension_id: 1 },
    {},
    at,
  );

  test("no seeds: the examples sentence goes and the system ends in a blank line", () => {
    const steps = taskSteps(item, { task: "reappraisal", pack: pack(PAPERLIKE), compat: resolveCompat("reference") });
    assert.deepEqual(steps.principleDraft(), [
      { role: "system", content: "Write principles. Be brief.\n\n" },
      { role: "user", content: "### Question: my post\n### Response Goal: the aim\n### Principles:" },
    ]);
  });

  test("critique templates are Python format strings read with universal newlines", () => {
    const steps = taskSteps(item, { task: "reappraisal", pack: pack(PAPERLIKE), compat: resolveCompat("reference") });
    assert.deepEqual(steps.principleCritique("P1"), [{ role: "user", content: "Rate\nQ=my post G=the aim P=P1" }]);
    assert.deepEqual(steps.responseCritique("P1", "R1"), [{ role: "user", content: "Rate Q=my post P=P1 R=R1" }]);
  });

  test("reference refinements omit the goal and the principles; the default shows them", () => {
    const reference = taskSteps(item, { task: "reappraisal", pack: pack(PAPERLIKE), compat: resolveCompat("reference") });
    assert.equal(
      reference.principleRefine("P", "fb")[1]!.content,
      "### Question: my post\n### Principles: P\n### Feedback: fb\n### Refined Principles:",
    );
    assert.equal(
      reference.responseRefine("P", "R", "fb")[1]!.content,
      "### Question: my post\n### Response: R\n### Feedback: fb\n### Refined Response:",
    );
    assert.equal(reference.principleRefine("P", "fb")[0]!.content, "Refine them.");
    const full = taskSteps(item, { task: "reappraisal", pack: pack(PAPERLIKE), compat: resolveCompat("default") });
    assert.match(full.principleRefine("P", "fb")[1]!.content, /### Response Goal: the aim\n### Principles: P/);
    assert.match(full.responseRefine("P", "R", "fb")[1]!.content, /### Principles: P\n### Response: R/);
  });

  test("response draft: init template plus a blank line, principles in the user turn", () => {
    const steps = taskSteps(item, { task: "reappraisal", pack: pack(PAPERLIKE), compat: resolveCompat("reference") });
    assert.deepEqual(steps.responseDraft("P"), [
      { role: "system", content: "Answer.\n\n" },
      { role: "user", content: "### Question: my post\n### Principles: P\n\n### Response:" },
    ]);
  });

  test("seeds: all, or only the item's domain", () => {
    const seeds: SeedSet = {
      kind: "reappraisal",
      file: "s",
      seeds: [
        { reddit_post: "p1", appraisal_dimension_id: "1", appraisal_dimension_aim: "a1", constitution: "c1" },
        { reddit_post: "p4", appraisal_dimension_id: "4", appraisal_dimension_aim: "a4", constitution: "c4" },
      ],
    };
    const all = taskSteps(item, { task: "reappraisal", pack: pack(PAPERLIKE), seeds, compat: resolveCompat("reference") });
    assert.equal(
      all.principleDraft()[0]!.content,
      `${PAPERLIKE["instruct-stage1_01-principle_gen.txt"]}\n\n### Question: p1\n### Response Goal: a1\n### Principles: c1\n\n### Question: p4\n### Response Goal: a4\n### Principles: c4\n\n`,
    );
    const one = taskSteps(item, {
      task: "reappraisal",
      pack: pack(PAPERLIKE),
      seeds,
      seedsPerDomain: true,
      compat: resolveCompat("reference"),
    });
    assert.match(one.principleDraft()[0]!.content, /p1/);
    assert.doesNotMatch(one.principleDraft()[0]!.content, /p4/);
  });

  test("rubric task: input with system prompt, Python-repr seed rubrics", () => {
    const rubricItem = toTaskItem("rubric", { system_prompt: "S", input: "I" }, {}, at);
    const steps = taskSteps(rubricItem, { task: "rubric", pack: builtinPack("rubric"), compat: resolveCompat("default") });
    assert.equal(steps.principleDraft()[1]!.content, "### Input: S\n\nI\n\n### Rubric:");
    assert.equal(
      steps.principleRefine("R", "fb")[1]!.content,
      "### Input: S\n\nI\n\n### Rubric: R\n\n### Feedback: fb\n\n### Refined Rubric:",
    );
    assert.throws(() => steps.responseDraft("R"));
    const fewShot = formatFewShot("rubric", [{ system_prompt: "s", input: "i", rubric: { criteria: "Is it 'ok'?" } }]);
    assert.equal(fewShot, `### Input: s\n\ni\n### Rubric: {'criteria': "Is it 'ok'?"}\n\n`);
  });

  test("built-in prompts cover every template each task needs", () => {
    for (const task of ["sft", "reappraisal"] as const) {
      for (const name of requiredTemplates(task, "both")) assert.ok(builtinPack(task).has(name), `${task}: ${name}`);
    }
    for (const name of requiredTemplates("rubric", "principles")) assert.ok(builtinPack("rubric").has(name));
  });

  test("a template missing from a pack is a ConfigError naming it", () => {
    const partial = pack({ "instruct-stage1_01-principle_gen.txt": "x" });
    assert.throws(
      () => partial.get("instruct-stage1_02-principle_critique.txt"),
      (e: unknown) => e instanceof ConfigError && /principle_critique/.test(e.message),
    );
  });
});
