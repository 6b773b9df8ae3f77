import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, SHARED } from "../support/cli.ts";
import { readEvalReport } from "../../src/runtime/runner/eval-report.ts";
import { SqliteStore } from "../../src/runtime/store/sqlite-store.ts";
import { openaiText, startFakeModelServer } from "../../src/test.ts";
import type { ChatBody } from "../support/scripted-backend.ts";

const DATA = join(SHARED, "data", "mt-bench");
const jsonl = (file: string) =>
  readFileSync(join(DATA, file), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test("spri eval mt-bench: FastChat's judge prompts and reference answers, two turns per question, the [[rating]] rule", async () => {
  const prompts = Object.fromEntries(jsonl("judge_prompts.jsonl").map((p) => [p.name as string, p as Record<string, string>]));
  const questions = new Map(jsonl("question.jsonl").map((q) => [q.question_id as number, q as { turns: string[]; category: string }]));
  const reference = (jsonl("reference_answer_gpt-4.jsonl").find((r) => r.question_id === 111) as { choices: { turns: string[] }[] })
    .choices[0]!.turns;
  // The judge answers by the prompt it was given: ratings 7 and 8.5 for the writing question; for the math
  // question a single-bracket [3] (FastChat's fallback pattern) and, for its second turn, no rating at all.
  const server = await startFakeModelServer((request) => {
    const [system, user] = (request.body as ChatBody).messages.map((m) => m.content) as [string, string];
    if (system === prompts["single-v1-multi-turn"]!.system_prompt) return openaiText("Good follow-up. Rating: [[8.5]]");
    if (system === prompts["single-math-v1-multi-turn"]!.system_prompt) return openaiText("I cannot rate this.");
    return openaiText(user.includes("[The Start of Reference Answer]") ? "Wrong result. Rating: [3]" : "Rating: [[7]]");
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-mtb-"));
    const [w1, w2] = questions.get(81)!.turns as [string, string];
    const [m1, m2] = questions.get(111)!.turns as [string, string];
    const answers = [
      {
        question_id: 81,
        messages: [
          { role: "user", content: w1 },
          { role: "assistant", content: "Aloha post" },
          { role: "user", content: w2 },
          { role: "assistant", content: "A rewritten post" },
        ],
      },
      { question_id: 111, model_id: "m", choices: [{ index: 0, turns: ["Area is 3", "Circle area 5"] }] },
    ];
    writeFileSync(join(dir, "answers.jsonl"), `${answers.map((a) => JSON.stringify(a)).join("\n")}\n`);
    const result = await runCli(
      [
        "eval",
        "mt-bench",
        "--answers",
        join(dir, "answers.jsonl"),
        "--data",
        DATA,
        "--output",
        join(dir, "judged.jsonl"),
        "--json",
        "--judge-url",
        `${server.url}/v1`,
        "--judge-model",
        "judge",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(server.requests.length, 4);
    const sent = server.requests.map((r) => (r.body as ChatBody).messages.map((m) => m.content));
    const fill = (template: string, fields: Record<string, string>) =>
      Object.entries(fields).reduce((text, [name, value]) => text.replaceAll(`{${name}}`, value), template);
    const expected = [
      [prompts["single-v1"]!.system_prompt, fill(prompts["single-v1"]!.prompt_template!, { question: w1, answer: "Aloha post" })],
      [
        prompts["single-v1-multi-turn"]!.system_prompt,
        fill(prompts["single-v1-multi-turn"]!.prompt_template!, {
          question_1: w1,
          question_2: w2,
          answer_1: "Aloha post",
          answer_2: "A rewritten post",
        }),
      ],
      [
        prompts["single-math-v1"]!.system_prompt,
        fill(prompts["single-math-v1"]!.prompt_template!, { question: m1, ref_answer_1: reference[0]!, answer: "Area is 3" }),
      ],
      [
        prompts["single-math-v1-multi-turn"]!.system_prompt,
        fill(prompts["single-math-v1-multi-turn"]!.prompt_template!, {
          question_1: m1,
          question_2: m2,
          ref_answer_1: reference[0]!,
          ref_answer_2: reference[1]!,
          answer_1: "Area is 3",
          answer_2: "Circle area 5",
        }),
      ],
    ];
    for (const messages of expected)
      assert.ok(
        sent.some((s) => JSON.stringify(s) === JSON.stringify(messages)),
        messages[0],
      );
    // FastChat's judge settings: temperature 0, at most 2048 new tokens.
    const body = server.requests[0]!.body as { temperature: number; max_tokens?: number; max_completion_tokens?: number };
    assert.equal(body.temperature, 0);
    assert.equal(body.max_tokens ?? body.max_completion_tokens, 2048);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual(summary, {
      turn1: 5,
      turn2: 8.5,
      average: Math.round(((7 + 3 + 8.5) / 3) * 10000) / 10000,
      n: 3,
      unscored: 1,
      categories: { writing: 7.75, math: 3 },
    });
    // The means are kept with the run, for spri view.
    const store = new SqliteStore(join(dir, "spri.db"));
    try {
      const [run] = await store.listRuns({ limit: 10 });
      assert.deepEqual(await readEvalReport(store, run!.id), {
        kind: "mt-bench",
        report: summary,
        summaryFile: join(dir, "judged.jsonl.summary.json"),
      });
    } finally {
      await store.close();
    }
  } finally {
    await server.close();
  }
});

test("spri eval mt-bench refuses a conversation whose user turns are not the question's", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-mtb-bad-"));
  const answers = {
    question_id: 81,
    messages: [
      { role: "user", content: "something else" },
      { role: "assistant", content: "x" },
    ],
  };
  writeFileSync(join(dir, "answers.jsonl"), `${JSON.stringify(answers)}\n`);
  const result = await runCli(
    [
      "eval",
      "mt-bench",
      "--answers",
      join(dir, "answers.jsonl"),
      "--data",
      DATA,
      "--output",
      join(dir, "j.jsonl"),
      "--judge-model",
      "judge",
    ],
    { cwd: dir },
  );
  assert.equal(result.code, 2);
  assert.match(result.stderr, /answers\.jsonl:1: field "messages"/);
});
