import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError } from "../../base/errors/errors.ts";
import { builtinJudgePack } from "../../io/prompts/builtin-judge.ts";
import { directoryPack, type PromptPack } from "../../io/prompts/prompt-pack.ts";
import { pyFormat } from "../../base/util/python.ts";
import {
  checkRubricTemplate,
  critiqueInput,
  gradingPrompt,
  isMetaGrading,
  JUDGE_TEMPLATES,
  judgementRefineUser,
  referenceFreeTemplate,
  renderRubric,
} from "./grading-prompt.ts";

// The paper's files are read at run time from the shared reference material (never copied here).
const SHARED = join(import.meta.dirname, "..", "..", "..", "..", "shared");
const TASK2 = join(SHARED, "spri-public", "[task2]-BiGGenBench");
const paperPack = (): PromptPack =>
  directoryPack([join(TASK2, "prompts-[rubric]"), join(TASK2, "prompts"), join(SHARED, "spri-public-inline")]);
const TRACE = join(SHARED, "spri-reference-traces", "task2-biggenbench", "spri-no_seeds-llama-3-1-70b-instruct.jsonl");
const traceRows = () =>
  readFileSync(TRACE, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const DICT =
  "{'criteria': 'Is it right?', 'score1_description': 'a', 'score2_description': 'b', 'score3_description': 'c', 'score4_description': 'd', 'score5_description': 'e'}";
const RUBRIC_TEMPLATE =
  "[{criteria}]\nScore 1: {score1_description}\nScore 2: {score2_description}\nScore 3: {score3_description}\nScore 4: {score4_description}\nScore 5: {score5_description}";

describe("rubric slot", () => {
  test("a parsed dict goes through the rubric template", () => {
    assert.deepEqual(renderRubric(DICT, RUBRIC_TEMPLATE), {
      text: "[Is it right?]\nScore 1: a\nScore 2: b\nScore 3: c\nScore 4: d\nScore 5: e",
      parsed: true,
    });
    assert.equal(
      renderRubric(`### Rubric:\n${DICT}\n###`, RUBRIC_TEMPLATE).parsed,
      true,
      "comment lines around the dict are Python comments",
    );
    assert.equal(
      renderRubric(
        JSON.stringify({
          criteria: "x",
          score1_description: "a",
          score2_description: "b",
          score3_description: "c",
          score4_description: "d",
          score5_description: 5,
        }),
        RUBRIC_TEMPLATE,
      ).text.endsWith("Score 5: 5"),
      true,
    );
  });

  test("no salvage: any failure puts the text in verbatim", () => {
    for (const rubric of [
      `Rubric:\n${DICT}`,
      "```python\n" + DICT + "\n```",
      "Criteria: x\nScore 1: a",
      DICT.replace(", 'score5_description': 'e'", ""),
      DICT.slice(0, 30),
      "['criteria']",
    ]) {
      assert.deepEqual(renderRubric(rubric, RUBRIC_TEMPLATE), { text: rubric, parsed: false }, rubric);
    }
  });

  test("a rubric template with other fields is a ConfigError up front", () => {
    const pack: PromptPack = { description: "t", has: () => true, get: () => "{criteria} {weight}" };
    assert.throws(() => checkRubricTemplate(pack), ConfigError);
    checkRubricTemplate(paperPack());
    checkRubricTemplate(builtinJudgePack());
  });
});

describe("grading prompt assembly (spec §6.2)", () => {
  test("reference-free edit of the paper's template: the section and the clause go", () => {
    const template = paperPack().get(JUDGE_TEMPLATES.grading);
    const edited = referenceFreeTemplate(template);
    assert.doesNotMatch(edited, /reference answer|\{reference_answer\}/i);
    assert.match(edited, /a response to evaluate, and a score rubric/);
    assert.match(edited, /\{response\}\n\n###Score Rubrics:\n\{rubric\}\n\n###Feedback: $/);
  });

  test("llm_judge ids take the meta-grading template", () => {
    assert.equal(isMetaGrading("refinement_llm_judge_absolute_4"), true);
    assert.equal(isMetaGrading("reasoning_deductive_2"), false);
    const pack = paperPack();
    const g = gradingPrompt(pack, { id: "refinement_llm_judge_absolute_4", instruction: "I", response: "R", rubric: DICT });
    assert.equal(g.templateName, JUDGE_TEMPLATES.metaGrading);
    assert.match(g.text, /@@@\n###The instruction to evaluate:\nI\n@@@/);
  });

  test("rebuilds the reference's recorded grading prompts and critique inputs byte for byte", () => {
    const pack = paperPack();
    const critique = pack.get(JUDGE_TEMPLATES.critique);
    let parsed = 0;
    let raw = 0;
    for (const row of traceRows()) {
      const g = gradingPrompt(pack, {
        id: String(row.id),
        instruction: String(row.input),
        response: String(row.response),
        rubric: String(row.principle_final),
      });
      assert.equal(g.text, row.formatted_BigGenBench_INIT_GRADING_PROMPT, `${String(row.id)}: grading prompt`);
      if (g.rubric.parsed) parsed++;
      else raw++;
      const a = critiqueInput(g, "reference");
      const expected = `User: ${pyFormat(critique, { input_and_output_other_model_assessment: a + String(row.init_response) })} \n\nAssistant: `;
      assert.equal(expected, row.response_critique_iter_1_prompt, `${String(row.id)}: critique input`);
    }
    assert.ok(parsed > 0 && raw > 0, `both rubric paths are exercised (${parsed} parsed, ${raw} raw)`);
  });

  test("a reference answer, when given, stays in", () => {
    const g = gradingPrompt(paperPack(), { id: "x", instruction: "I", response: "R", rubric: DICT, reference: "REF" });
    assert.match(g.text, /###Reference Answer \(Score 5\):\nREF\n\n/);
    assert.match(g.text, /a reference answer that gets a score of 5/);
  });
});

describe("critique input A", () => {
  const pack = paperPack();
  const standard = gradingPrompt(pack, { id: "x", instruction: "I", response: "R", rubric: DICT });
  const meta = gradingPrompt(pack, { id: "a_llm_judge_b", instruction: "I", response: "R", rubric: DICT });

  test("reference: the task description goes, the closing header becomes the evaluation-result header", () => {
    const a = critiqueInput(standard, "reference");
    assert.match(
      a,
      /^###The instruction to evaluate:\nI\n\n###Response to evaluate:\nR\n\n###Score Rubrics:\n\[Is it right\?\][\s\S]*Score 5: e\n\n### Evaluation Result: $/,
    );
  });

  test("reference: llm_judge prompts lose the opening @@@ and keep the closing one", () => {
    assert.match(critiqueInput(meta, "reference"), /^###The instruction to evaluate:\nI\n@@@\n\n###Response to evaluate:/);
  });

  test("sections (default): both delimiters go; otherwise equal to the reference's", () => {
    assert.equal(critiqueInput(standard, "sections"), critiqueInput(standard, "reference"));
    assert.match(critiqueInput(meta, "sections"), /^###The instruction to evaluate:\nI\n\n###Response to evaluate:/);
    assert.doesNotMatch(critiqueInput(meta, "sections"), /@@@/);
  });

  test("sections never rewrites the instruction or the response; the reference's replace does", () => {
    const g = gradingPrompt(pack, { id: "x", instruction: "I", response: "R ###Feedback: inside", rubric: DICT });
    assert.match(critiqueInput(g, "sections"), /R ###Feedback: inside/);
    assert.match(critiqueInput(g, "reference"), /R ### Evaluation Result:  inside/);
  });

  test("the refinement's user message", () => {
    assert.equal(judgementRefineUser("A", "J", "fb"), "A\n\nJ\n\n### Feedback: fb\n\n### Refined Evaluation Result:");
  });
});

describe("spri's built-in grading prompts", () => {
  const pack = builtinJudgePack();

  test("reference-free edit works on them too, and they state the scale", () => {
    for (const name of [JUDGE_TEMPLATES.grading, JUDGE_TEMPLATES.metaGrading]) {
      const edited = referenceFreeTemplate(pack.get(name));
      assert.doesNotMatch(edited, /reference answer|\{reference_answer\}/i, name);
    }
    const g = gradingPrompt(pack, { id: "x", instruction: "Do X.", response: "Done.", rubric: DICT, scale: { min: 1, max: 10 } });
    assert.match(g.text, /an integer from 1 to 10/);
    assert.match(g.text, /Criterion: Is it right\?\nScore 1: a/);
    assert.match(g.text, /###Feedback: $/);
  });

  test("critique input from a built-in template, both modes", () => {
    const meta = gradingPrompt(pack, { id: "x_llm_judge", instruction: "Grade this.", response: "R", rubric: "free text rubric" });
    const sections = critiqueInput(meta, "sections");
    assert.match(
      sections,
      /^###Instruction:\nGrade this\.\n\n###Response:\nR\n\n###Score rubric:\nfree text rubric\n\n### Evaluation Result: $/,
    );
    assert.match(critiqueInput(meta, "reference"), /^###Instruction:\nGrade this\.\n@@@\n/);
  });
});
