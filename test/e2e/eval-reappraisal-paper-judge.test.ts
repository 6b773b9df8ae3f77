/**
 * `spri eval reappraisal --prompts GPT-4-eval` end to end: a fresh evaluation with the paper's
 * judge pack sends, for every case, exactly what the paper's evaluation script sends (its system
 * prompt, eval_prompts.py's prompt for the case, gpt-4-0613 at temperature 0.1, seed 36, 256
 * tokens). The fake judge answers each prompt with the paper's released GPT-4 answer to it, so the
 * report must equal the one `--judged` computes from the released files: Table 1 again.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../support/cli.ts";
import { json, openaiText, startFakeModelServer } from "../../src/test.ts";
import {
  EVAL_OUTPUTS,
  GPT4_EVAL,
  TABLE_1_METHODS,
  referenceArguments,
  referenceEvalPrompt,
  referenceSystemPrompt,
} from "../support/paper-judge-reference.ts";
import type { ChatBody } from "../support/scripted-backend.ts";

const TASKS = ["1_standard_alignment", "2_empathy", "3_harmful", "4_factuality"];

/** Each released case's prompt, as the reference builds it, and the GPT-4 answer released for it. */
function releasedAnswers(dirs: readonly string[]): Map<string, string> {
  const answers = new Map<string, string>();
  for (const dir of dirs) {
    for (const task of TASKS) {
      for (const line of readFileSync(join(dir, `eval-${task}.jsonl`), "utf8")
        .split("\n")
        .filter(Boolean)) {
        const row = JSON.parse(line) as Record<string, unknown>;
        const answer = Object.entries(row).find(([key]) => key.startsWith("evaluation_raw_output-"))![1] as string;
        answers.set(referenceEvalPrompt(`build_eval_prompt_${task}`, referenceArguments(row)), answer);
      }
    }
  }
  return answers;
}

test("the paper's judge pack sends the reference's requests and, given its answers, reproduces the released scores", async () => {
  const dirs = TABLE_1_METHODS.map(([, dir]) => join(EVAL_OUTPUTS, "gpt-4o-mini", dir));
  const answers = releasedAnswers(dirs);
  const system = referenceSystemPrompt();
  const server = await startFakeModelServer((request) => {
    const { messages } = request.body as ChatBody;
    const answer = answers.get(messages[1]?.content ?? "");
    if (messages.length !== 2 || messages[0]!.content !== system || answer === undefined) {
      return json(400, { error: { message: "not a request the paper's evaluator sends" } });
    }
    return openaiText(answer);
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-paper-judge-"));
    // Each method's replies: the records the paper judged (its alignment file holds every input field).
    const methods = TABLE_1_METHODS.flatMap(([name], i) => ["--method", `${name}=${join(dirs[i]!, "eval-1_standard_alignment.jsonl")}`]);
    const baselines = ["--baseline", "vanilla", "--baseline", "self-refine"];
    const fresh = await runCli(
      ["eval", "reappraisal", "--prompts", GPT4_EVAL, ...methods, ...baselines, "--output", join(dir, "evals.jsonl"), "--json"].concat([
        "--judge-url",
        `${server.url}/v1`,
        "--concurrency",
        "8",
      ]),
      { cwd: dir },
    );
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(server.requests.length, 4 * 30 * 4);
    for (const request of server.requests) {
      const body = request.body as ChatBody & Record<string, unknown>;
      assert.deepEqual([body.model, body.temperature, body.seed, body.max_tokens], ["gpt-4-0613", 0.1, 36, 256]);
    }
    const judged = await runCli([
      "eval",
      "reappraisal",
      "--judged",
      ...TABLE_1_METHODS.flatMap(([name], i) => ["--method", `${name}=${dirs[i]!}`]),
      ...baselines,
      "--json",
    ]);
    assert.equal(judged.code, 0, judged.stderr);
    assert.deepEqual(JSON.parse(fresh.stdout), JSON.parse(judged.stdout));
    assert.equal(JSON.parse(fresh.stdout).methods.oracle.alignment.markers, "*†");
  } finally {
    await server.close();
  }
});
