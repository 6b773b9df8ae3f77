/**
 * `spri judge` end to end with spri's built-in prompts, against a scripted OpenAI-compatible server
 * (a real local HTTP server): rubric per row, grading, critique of the judgement, records keyed by
 * (id, model_name), deterministic judging, and a resumed run that pays nothing.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type FakeModelServer, openaiText, type RecordedRequest, startFakeModelServer } from "../../src/test.ts";
import { runCli } from "../support/cli.ts";

interface ChatBody {
  model: string;
  messages: { role: string; content: string }[];
  temperature?: number;
  seed?: number;
}

const RUBRIC =
  "{'criteria': 'Is the arithmetic right?', 'score1_description': 'wrong', 'score2_description': 'mostly wrong', 'score3_description': 'partly right', 'score4_description': 'right', 'score5_description': 'right and explained'}";

/** 4 calls a row: rubric, its critique (5), the grading, its critique (5). */
function judgeBackend(request: RecordedRequest) {
  const body = request.body as ChatBody;
  const system = body.messages[0]?.role === "system" ? body.messages[0].content : "";
  const text = body.messages.map((m) => m.content).join("\n");
  if (system.startsWith("You write a scoring rubric")) return openaiText(RUBRIC);
  if (system.startsWith("You are an impartial grader")) {
    const response = /###Response:\n(.*)\n/.exec(text)?.[1] ?? "";
    return openaiText(
      response === "4" ? "<feedback>Correct.</feedback><score>5</score>" : "<feedback>Wrong sum.</feedback><score> 1 </score>",
    );
  }
  if (text.includes("You review a scoring rubric") || text.includes("You check the work of another grader"))
    return openaiText("Feedback: sound. [RESULT] 5");
  return openaiText("unexpected request");
}

const ROWS = [
  {
    id: "sum_1",
    capability: "reasoning",
    system_prompt: "Be brief.",
    input: "What is 2+2?",
    response: "4",
    model_name: "model-a",
    human_score: 5,
  },
  {
    id: "sum_1",
    capability: "reasoning",
    system_prompt: "Be brief.",
    input: "What is 2+2?",
    response: "5",
    model_name: "model-b",
    human_score: 1,
  },
  { id: "llm_judge_3", capability: "refinement", input: "Grade this essay: ...", response: "4", model_name: "model-a", human_score: 4 },
];

describe("spri judge end to end (built-in prompts, scripted server)", () => {
  let server: FakeModelServer;
  let dir: string;
  let input: string;
  before(async () => {
    server = await startFakeModelServer(judgeBackend);
    dir = mkdtempSync(join(tmpdir(), "spri-judge-"));
    input = join(dir, "rows.jsonl");
    writeFileSync(input, `${ROWS.map((r) => JSON.stringify(r)).join("\n")}\n`);
  });
  after(async () => server.close());

  const args = (output: string, extra: string[] = []) => [
    "judge",
    "--input",
    input,
    "--output",
    output,
    "--base-url",
    `${server.url}/v1`,
    "--base-model",
    "judge-model",
    "--critic-model",
    "critic-model",
    "--concurrency",
    "1",
    "--json",
    ...extra,
  ];

  test("one record per row, keyed by id and model name; rubric per row; scores; deterministic judging; resume pays nothing", async () => {
    const output = join(dir, "judged.jsonl");
    const first = server.requests.length;
    const result = await runCli(args(output), { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    const records = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.id, r.model_name]),
      ROWS.map((r) => [r.id, r.model_name]),
      "the input's own ids, both rows of sum_1",
    );
    assert.deepEqual(
      records.map((r) => r["init_response-[score]"]),
      [5, 1, 5],
      "the lenient parser reads <score> 1 </score>",
    );
    assert.deepEqual(
      records.map((r) => r["response_final-[score]"]),
      [5, 1, 5],
    );
    assert.deepEqual(
      records.map((r) => r.iteration_principle),
      [1, 1, 1],
    );
    const [a] = records;
    assert.equal(a!.principle_final, RUBRIC);
    assert.match(
      String(a!.formatted_BigGenBench_INIT_GRADING_PROMPT),
      /###Score rubric:\nCriterion: Is the arithmetic right\?\nScore 1: wrong/,
    );
    assert.match(
      String(records[2]!.formatted_BigGenBench_INIT_GRADING_PROMPT),
      /@@@\n###Instruction:\nGrade this essay/,
      "llm_judge ids take the meta-grading template",
    );
    assert.deepEqual(a!.spri_usage, { calls: 4, cached_calls: 0, input_tokens: 40, output_tokens: 20, cost_usd: null });

    const sent = server.requests.slice(first).map((r) => r.body as ChatBody);
    assert.equal(sent.length, 12);
    const rubricCalls = sent.filter((b) => b.messages[0]!.content.startsWith("You write a scoring rubric"));
    assert.equal(rubricCalls.length, 3, "both sum_1 rows asked for a rubric of their own, although the prompts are identical");
    assert.equal(JSON.stringify(rubricCalls[0]!.messages), JSON.stringify(rubricCalls[1]!.messages));
    const gradings = sent.filter((b) => b.messages[0]!.content.startsWith("You are an impartial grader"));
    assert.deepEqual(
      gradings.map((b) => b.temperature),
      [0, 0, 0],
    );
    assert.ok(
      gradings.every((b) => Number.isInteger(b.seed)),
      "judging calls carry a seed",
    );
    assert.equal(rubricCalls[0]!.temperature, 0.7);

    const summary = JSON.parse(result.stdout) as { items: number; calls: number };
    assert.equal(summary.items, 3);
    assert.equal(summary.calls, 12);

    // The same command again: every row is already in the output.
    const before = server.requests.length;
    const again = await runCli(args(output), { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(server.requests.length, before);
    assert.equal((JSON.parse(again.stdout) as { skipped: number }).skipped, 3);
    assert.equal(readFileSync(output, "utf8").trim().split("\n").length, 3);
  });

  test("rows without an id: line numbers, still told apart by model name, and resumable", async () => {
    const unnamed = join(dir, "no-ids.jsonl");
    writeFileSync(
      unnamed,
      `${ROWS.slice(0, 2)
        .map(({ id: _id, ...row }) => JSON.stringify(row))
        .join("\n")}\n`,
    );
    const output = join(dir, "no-ids.out.jsonl");
    const run = () =>
      runCli(
        [
          "judge",
          "--input",
          unnamed,
          "--output",
          output,
          "--base-url",
          `${server.url}/v1`,
          "--base-model",
          "judge-model",
          "--critic-model",
          "critic-model",
          "--json",
        ],
        { cwd: dir },
      );
    const first = await run();
    assert.equal(first.code, 0, first.stderr);
    const records = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(records.map((r) => [r.id, r.model_name]).sort(), [
      ["1", "model-a"],
      ["2", "model-b"],
    ]);
    const again = await run();
    assert.equal((JSON.parse(again.stdout) as { skipped: number }).skipped, 2);
  });

  test("--scale and the BiGGen regex under --compat reference", async () => {
    const output = join(dir, "scaled.jsonl");
    const result = await runCli(args(output, ["--scale", "1-10", "--compat", "reference"]), { cwd: dir });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /reads 1-5 only/);
  });

  test("an unknown --rubrics source is a configuration error naming the known ones", async () => {
    const result = await runCli(args(join(dir, "none.jsonl"), ["--rubrics", "nope"]), { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /unknown rubric source "nope".*spri/s);
  });

  test("--help lists the judge's flags", async () => {
    const result = await runCli(["judge", "--help"]);
    assert.equal(result.code, 0);
    for (const flag of [
      "--rubrics",
      "--response-field",
      "--reference-field",
      "--rubric-field",
      "--human-field",
      "--group-field",
      "--scale",
      "--judge-temperature",
    ]) {
      assert.match(result.stdout, new RegExp(flag), flag);
    }
  });
});
