/**
 * The RESORT task-1 baselines over a small pack of the pipeline's shape, written for these tests:
 * each mode's conversations (who speaks, what is carried over, when it is reset), the fields and
 * `response_final`. The paper's own files are replayed end to end in test/e2e/replay-task1-baselines.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { resolveSettings } from "../../../config/config.ts";
import { ConfigError, InputError } from "../../../base/errors/errors.ts";
import type { ChatMessage } from "../../../models/language-model.ts";
import { ScriptedModel } from "../../../models/scripted-model.ts";
import { prepareTask } from "../prepare.ts";
import { type ResortTaskName, toTaskItem } from "../task-item.ts";

const BRANCH = (mode: string, body: string[]) => [
  `        elif FLAGS.experiment_mode == "${mode}":`,
  ...body.map((l) => `            ${l}`),
];
const FLAGS = [
  'flags.DEFINE_string("path_to_appraisal_questions", "./prompts/appraisal_questions.txt", "")',
  'flags.DEFINE_string("path_to_reappraisal_guidance", "./prompts/reappraisal_guidance.txt", "")',
];

/** A two-script pipeline in the released layout; its strings are ours, short and easy to spot. */
function writePack(): string {
  const dir = mkdtempSync(join(tmpdir(), "spri-resort-pack-"));
  mkdirSync(join(dir, "prompts"));
  mkdirSync(join(dir, "pipeline_components"));
  const indv = [
    ...FLAGS,
    'flags.DEFINE_list("dimensions", [1, 2], "")',
    "def main(argv):",
    '    my_system_prompt = """SYS"""',
    "    for row in tqdm(eval_set):",
    '        if FLAGS.experiment_mode == "vanilla":',
    '            baseline_vanilla_prompt = "Q0."',
    "            a, b = ChatAgent.chat(system_message = my_system_prompt,",
    '                user_message = f"""<T> {row[\'Reddit Post\']}\\n<Q> {baseline_vanilla_prompt}""")',
    ...BRANCH("+cons", [
      'dim_prompt = f"""Q0.{dimensions_df.reappraisal_guidance[dim]} End."""',
      'a, b = ChatAgent.chat(system_message = my_system_prompt, user_message = f"""<T> {row[\'Reddit Post\']}\\n<Q> {dim_prompt}""")',
    ]),
    ...BRANCH("+appr", ['baseline_prompt = "FOLLOW."']),
    ...BRANCH("+appr_+cons", ['dim_prompt = f"""FOLLOW.{dimensions_df.reappraisal_guidance[dim]}"""']),
    "        else: raise ValueError",
  ];
  const iter = [
    ...FLAGS,
    'flags.DEFINE_list("dimensions", [2, 1], "")',
    '    my_system_prompt = """SYS"""',
    ...BRANCH("self-refine", [
      'if (prev_output == ""):',
      '    baseline_prompt = "Q0."',
      '    a, b = ChatAgent.chat(system_message = my_system_prompt, user_message = f"""<T> {row[\'Reddit Post\']}\\n<Q> {baseline_prompt}""")',
    ]),
    ...BRANCH("+cons", [
      'baseline_prompt = f"""Q0.{guidance} End."""',
      'a, b = ChatAgent.chat(system_message = my_system_prompt, user_message = f"""<T> {row[\'Reddit Post\']}\\n<Q> {baseline_prompt}""")',
    ]),
    ...BRANCH("+appr", ['baseline_prompt = "FOLLOW."']),
    ...BRANCH("+appr_+cons", ['baseline_prompt = "UNUSED."', 'baseline_prompt = f"""FOLLOW.{dimensions_df.reappraisal_guidance[dim]}"""']),
  ];
  writeFileSync(join(dir, "[bam]-pipeline-INDV.py"), indv.join("\n"));
  writeFileSync(join(dir, "[bam]-pipeline-ITER.py"), iter.join("\n"));
  writeFileSync(
    join(dir, "pipeline_components", "prompt_loading.py"),
    [
      "def build_appraisal_prompt(text, appraisal_q):",
      '    """doc"""',
      '    return f"""<T> {text} <AQ> {appraisal_q}"""',
      'revision_prompt = """revise"""',
      "def build_iterative_step_baseline(post, prev_step):",
      '    return f"""<T> {post} <R> {prev_step} <F> again"""',
      "def build_iterative_step_baseline_guideline(post, guidance, prev_step):",
      '    return f"""<T> {post} <R> {prev_step} <F>{guidance} {revision_prompt}"""',
      "def build_iterative_step_w_appraisal(post, appraisal, prev_step):",
      '    return f"""<T> {post} <R> {prev_step} <F> {appraisal}. {revision_prompt}"""',
    ].join("\n"),
  );
  const table = (prefix: string) => Array.from({ length: 24 }, (_, i) => `<D${i + 1}> = ${prefix}${i + 1}`).join("\r\n");
  writeFileSync(join(dir, "prompts", "appraisal_questions.txt"), table("AQ"));
  writeFileSync(join(dir, "prompts", "reappraisal_guidance.txt"), table("G"));
  return dir;
}

const PACK = writePack();
const cwd = mkdtempSync(join(tmpdir(), "spri-resort-"));

async function run(
  task: ResortTaskName,
  row: Record<string, unknown> = { "Reddit Post": "POST", appraisal_dimension_id: 1 },
  packs = [PACK],
) {
  const settings = resolveSettings({ flags: { task, prompts: packs, temperature: 0.7, seed: 42 }, env: {}, cwd }).settings;
  const prepared = prepareTask(settings);
  let n = 0;
  const base = new ScriptedModel({ modelId: "gpt-x", fallback: () => `A${n++}` });
  const outcome = await prepared.algorithm.run(
    toTaskItem(task, row, {}, { file: "in.jsonl", line: 1 }),
    { base, critic: base },
    { itemId: "1" },
  );
  return { fields: outcome.fields, sent: base.requests.map((r) => r.messages), sampling: base.requests.map((r) => r.sampling) };
}

const sys = (content: string): ChatMessage => ({ role: "system", content });
const user = (content: string): ChatMessage => ({ role: "user", content });
const bot = (content: string): ChatMessage => ({ role: "assistant", content });

describe("RESORT baselines, one reappraisal (INDV)", () => {
  test("vanilla: the framed question after the system prompt; the pipeline's sampling sent to GPT models too", async () => {
    const { fields, sent, sampling } = await run("resort-vanilla");
    assert.deepEqual(sent, [[sys("SYS"), user("<T> POST\n<Q> Q0.")]]);
    assert.deepEqual(fields, { reappraisal_prompt: sent[0], reappraisal_output: "A0", response_final: "A0" });
    assert.equal(sampling[0]!.temperature, 0.7);
    assert.equal(sampling[0]!.seed, 42);
  });
  test("+cons: the item's dimension's guidance, taken after the first '=' of its line (its leading space kept)", async () => {
    const { fields, sent } = await run("resort-cons", { "Reddit Post": "POST", appraisal_dimension_id: "4" });
    assert.deepEqual(sent, [[sys("SYS"), user("<T> POST\n<Q> Q0. G4 End.")]]);
    assert.deepEqual(Object.keys(fields), ["reappraisal_prompt_dim_4", "reappraisal_output_dim_4", "response_final"]);
  });
  test("+appr and +appr_+cons: the appraisal, then the follow-up in the same conversation without a system message", async () => {
    const appr = await run("resort-appr", { "Reddit Post": "POST", appraisal_dimension_id: 2 });
    const first = [sys("SYS"), user("<T> POST <AQ>  AQ2")];
    assert.deepEqual(appr.sent, [first, [...first, bot("A0"), user("FOLLOW.")]]);
    assert.deepEqual(Object.keys(appr.fields), [
      "appraisal_prompt_dim_2",
      "appraisal_output_dim_2",
      "reappraisal_prompt_dim_2",
      "reappraisal_output_dim_2",
      "response_final",
    ]);
    assert.equal(appr.fields.response_final, "A1");
    const both = await run("resort-appr-cons", { "Reddit Post": "POST", appraisal_dimension_id: 2 });
    assert.deepEqual(both.sent[1]!.at(-1), user("FOLLOW. G2"));
  });
  test("a dimension outside the pipeline's 24 is the item's input error", async () => {
    await assert.rejects(run("resort-cons", { "Reddit Post": "POST", appraisal_dimension_id: 25 }), InputError);
    await assert.rejects(run("resort-cons", { "Reddit Post": "POST" }), InputError);
  });
});

describe("RESORT baselines, a chain over the script's dimensions (ITER)", () => {
  test("self-refine: asks once, then revises the previous answer, each step a fresh conversation; the final is the last", async () => {
    const { fields, sent } = await run("resort-self-refine", { "Reddit Post": "POST" });
    assert.deepEqual(sent, [
      [sys("SYS"), user("<T> POST\n<Q> Q0.")],
      [sys("SYS"), user("<T> POST <R> A0 <F> again")],
    ]);
    assert.deepEqual(Object.keys(fields), [
      "intermediate_prompt_step_0",
      "reappraisal_output_step_0",
      "intermediate_prompt_step_1",
      "reappraisal_output_step_1",
      "response_final",
    ]);
    assert.equal(fields.response_final, "A1");
  });
  test("+cons (oracle principles): each dimension's guidance in the script's order; the final is the item's own dimension", async () => {
    const { fields, sent } = await run("resort-iter-cons", { "Reddit Post": "POST", appraisal_dimension_id: 2 });
    assert.deepEqual(sent, [
      [sys("SYS"), user("<T> POST\n<Q> Q0. G2 End.")],
      [sys("SYS"), user("<T> POST <R> A0 <F> G1 revise")],
    ]);
    assert.equal(fields.response_final, "A0", "dimension 2 came first");
    await assert.rejects(run("resort-iter-cons", { "Reddit Post": "POST", appraisal_dimension_id: 3 }), /not among the chain's dimensions/);
  });
  test("+appr: appraisal then revision from it, in one conversation per dimension", async () => {
    const { sent } = await run("resort-iter-appr");
    assert.deepEqual(sent, [
      [sys("SYS"), user("<T> POST <AQ>  AQ2")],
      [sys("SYS"), user("<T> POST <AQ>  AQ2"), bot("A0"), user("FOLLOW.")],
      [sys("SYS"), user("<T> POST <AQ>  AQ1")],
      [sys("SYS"), user("<T> POST <AQ>  AQ1"), bot("A2"), user("<T> POST <R> A1 <F> A2. revise")],
    ]);
  });
  test("+appr_+cons: appraisal, revision from it (recorded as its text), then revision under the guidance", async () => {
    const { fields, sent } = await run("resort-iter-appr-cons");
    assert.equal(sent.length, 6);
    assert.deepEqual(sent[1], [sys("SYS"), user("<T> POST <AQ>  AQ2"), bot("A0"), user("FOLLOW. G2")]);
    assert.deepEqual(sent[2], [sys("SYS"), user("<T> POST <R> A1 <F> G2 revise")]);
    assert.deepEqual(sent[4]!.at(-1), user("<T> POST <R> A2 <F> A3. revise"));
    assert.equal(fields["intermediate_prompt_.5_dim_2"], "FOLLOW. G2");
    assert.deepEqual(Object.keys(fields).slice(0, 6), [
      "appraisal_question_dim_2",
      "appraisal_output_dim_2",
      "intermediate_prompt_.5_dim_2",
      "intermediate_output_.5_dim_2",
      "intermediate_prompt_dim_2",
      "intermediate_output_dim_2",
    ]);
    assert.equal(fields.response_final, "A5");
  });
});

describe("the RESORT pack", () => {
  test("is required, and a guidance file in a directory placed first replaces the pipeline's", async () => {
    const settings = resolveSettings({ flags: { task: "resort-vanilla" }, env: {}, cwd }).settings;
    assert.throws(
      () => prepareTask(settings),
      (e: unknown) => e instanceof ConfigError && /RESORT_pipeline/.test(e.hint ?? ""),
    );
    const other = mkdtempSync(join(tmpdir(), "spri-resort-guidance-"));
    writeFileSync(join(other, "reappraisal_guidance.txt"), Array.from({ length: 24 }, (_, i) => `<D> =X${i + 1}`).join("\n"));
    const { sent } = await run("resort-cons", { "Reddit Post": "POST", appraisal_dimension_id: 3 }, [other, PACK]);
    assert.equal(sent[0]![1]!.content, "<T> POST\n<Q> Q0.X3 End.");
  });
  test("a table without 24 lines, or a script without the mode's branch, fails before any call, naming the file", () => {
    const broken = mkdtempSync(join(tmpdir(), "spri-resort-broken-"));
    writeFileSync(join(broken, "reappraisal_guidance.txt"), "<D> = one line\n");
    const settings = (task: string, prompts: string[]) => resolveSettings({ flags: { task, prompts }, env: {}, cwd }).settings;
    assert.throws(
      () => prepareTask(settings("resort-cons", [broken, PACK])),
      (e: unknown) => e instanceof ConfigError && e.file === join(broken, "reappraisal_guidance.txt") && /2 lines/.test(e.message),
    );
    const noBranch = mkdtempSync(join(tmpdir(), "spri-resort-nobranch-"));
    writeFileSync(join(noBranch, "[bam]-pipeline-INDV.py"), [...FLAGS, 'my_system_prompt = """S"""'].join("\n"));
    assert.throws(() => prepareTask(settings("resort-appr", [noBranch, PACK])), /no branch for the experiment mode "\+appr"/);
  });
});
