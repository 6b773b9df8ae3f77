/**
 * `spri judge` end to end for every rubric source (spri and the paper's Table 2 comparisons: oracle,
 * vanilla, self-refine, mt-bench, flask, seed-principles) with spri's built-in prompts, on real BiGGen
 * Bench instances (`../shared/data/biggen-bench/biggen_bench.jsonl`: the first instance of each of the
 * paper's 8 capabilities, each judged twice: its reference answer and its first sentence, with made-up
 * human scores), against a local OpenAI-compatible fake server; then `spri eval correlate` on each
 * result with the source's final score field, whose JSON report counts the rows used and dropped.
 *
 * The fake judge scores a reference answer 4 and anything else 2, and gives one row (tool_usage's
 * first sentence) no readable score, so every report has n = 15 and one unscored row dropped.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli, SHARED } from "../support/cli.ts";
import { type FakeModelServer, openaiText, type RecordedRequest, startFakeModelServer } from "../../src/test.ts";

const BIGGEN = join(SHARED, "data", "biggen-bench", "biggen_bench.jsonl");
const CAPABILITIES = [
  "instruction_following",
  "grounding",
  "reasoning",
  "planning",
  "refinement",
  "safety",
  "theory_of_mind",
  "tool_usage",
];

/** Every source with its final score field and its calls per row (with this backend). */
const SOURCES = [
  { name: "spri", scoreField: "response_final-[score]", callsPerRow: 4 },
  { name: "oracle", scoreField: "[direct_eval]-score", callsPerRow: 1 },
  { name: "vanilla", scoreField: "[vanilla]-score", callsPerRow: 1 },
  { name: "self-refine", scoreField: "[self-refine]-iteration-5-score", callsPerRow: 6 },
  { name: "mt-bench", scoreField: "[baseline]-vanilla-MT_Bench-score", callsPerRow: 1 },
  { name: "flask", scoreField: "[baseline]-flask-score", callsPerRow: 1 },
  { name: "seed-principles", scoreField: "[baseline]-[seed_principles_as_rubrics]-score", callsPerRow: 1 },
] as const;

const RUBRIC =
  "{'criteria': 'Does the response do what the input asks?', 'score1_description': 'not at all', 'score2_description': 'barely', 'score3_description': 'partly', 'score4_description': 'mostly', 'score5_description': 'fully'}";

interface Instance {
  id: string;
  capability: string;
  input: string;
  reference_answer: string;
  [key: string]: unknown;
}
interface Row extends Instance {
  response: string;
  model_name: string;
  human_score: number;
}

/** A deliberately weak answer: the text's first sentence, or its first half. */
function firstSentence(text: string): string {
  const sentence = /^[\s\S]*?[.!?](?=\s|$)/.exec(text)?.[0];
  return sentence !== undefined && sentence.length < text.length ? sentence : text.slice(0, Math.floor(text.length / 2));
}

/** The judged response, wherever a prompt shows it (grading prompt, critic view, MT-Bench). */
function judgedResponse(text: string): string | undefined {
  return (/###Response:\n([\s\S]*?)\n\n###Score rubric:/.exec(text) ??
    /### Assistant's answer:\n([\s\S]*?)\n\n### Your judgement:/.exec(text))?.[1];
}

function backend(references: ReadonlySet<string>, unscoredInput: string, unscoredResponse: string) {
  return (request: RecordedRequest) => {
    const body = request.body as { messages: { role: string; content: string }[] };
    const system = body.messages[0]?.role === "system" ? body.messages[0].content : "";
    const text = body.messages.map((m) => m.content).join("\n");
    if (system.startsWith("You write a scoring rubric")) return openaiText(RUBRIC);
    if (text.includes("You review a scoring rubric") || text.includes("You check the work of another grader"))
      return openaiText("Feedback: sound. [RESULT] 5");
    const response = judgedResponse(text);
    if (response === undefined) return openaiText(`unexpected request: ${text.slice(0, 200)}`);
    if (response === unscoredResponse && text.includes(unscoredInput)) return openaiText("<feedback>I cannot decide.</feedback>");
    return openaiText(
      references.has(response)
        ? "<feedback>Complete and well argued.</feedback><score>4</score>"
        : "<feedback>Too short to do the task.</feedback><score>2</score>",
    );
  };
}

describe("spri judge with every rubric source, then spri eval correlate (built-in prompts, fake server)", () => {
  let server: FakeModelServer;
  let dir: string;
  let input: string;
  let rows: Row[];

  before(async () => {
    const instances = readFileSync(BIGGEN, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Instance);
    rows = CAPABILITIES.flatMap((capability, i): Row[] => {
      const instance = instances.find((r) => r.capability === capability)!;
      return [
        { ...instance, response: instance.reference_answer, model_name: "synthetic/reference-answer", human_score: 4 + (i % 2) },
        {
          ...instance,
          response: firstSentence(instance.reference_answer),
          model_name: "synthetic/first-sentence",
          human_score: 1 + (i % 3),
        },
      ];
    });
    const unscored = rows.find((r) => r.capability === "tool_usage" && r.model_name === "synthetic/first-sentence")!;
    const references = new Set(rows.map((r) => r.reference_answer));
    assert.ok(
      rows.every((r) => references.has(r.response) === (r.model_name === "synthetic/reference-answer")),
      "the fake judge tells the responses apart",
    );
    server = await startFakeModelServer(backend(references, unscored.input, unscored.response));
    dir = mkdtempSync(join(tmpdir(), "spri-judge-sources-"));
    input = join(dir, "biggen.jsonl");
    writeFileSync(input, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  });
  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const source of SOURCES) {
    test(`--rubrics ${source.name} → ${source.scoreField} → correlate`, async () => {
      const cwd = mkdtempSync(join(dir, `${source.name}-`));
      const output = join(cwd, "judged.jsonl");
      const judged = await runCli(
        [
          "judge",
          "--rubrics",
          source.name,
          "--input",
          input,
          "--output",
          output,
          "--base-url",
          `${server.url}/v1`,
          "--base-model",
          "judge-model",
          "--human-field",
          "human_score",
          "--concurrency",
          "4",
          "--json",
        ],
        { cwd },
      );
      assert.equal(judged.code, 0, judged.stderr);
      const summary = JSON.parse(judged.stdout) as { items: number; calls: number; failed: number };
      assert.equal(summary.items, rows.length);
      assert.equal(summary.calls, rows.length * source.callsPerRow);
      const records = readFileSync(output, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.equal(records.length, rows.length);
      for (const record of records) {
        const referenceAnswer = record.model_name === "synthetic/reference-answer";
        const unscored = record.capability === "tool_usage" && !referenceAnswer;
        assert.equal(
          record[source.scoreField],
          unscored ? null : referenceAnswer ? 4 : 2,
          `${String(record.id)} ${String(record.model_name)}`,
        );
      }

      const report = join(cwd, "report.json");
      const correlated = await runCli(["eval", "correlate", output, "--score-field", source.scoreField, "--groups", "biggen", "--json"], {
        cwd,
      });
      assert.equal(correlated.code, 0, correlated.stderr);
      writeFileSync(report, correlated.stdout);
      const result = JSON.parse(readFileSync(report, "utf8")) as {
        scoreField: string;
        n: number;
        dropped: number;
        droppedByReason: Record<string, number>;
        groups: { name: string; n: number }[];
        mean: number | null;
      };
      assert.equal(result.scoreField, source.scoreField);
      assert.equal(result.n, rows.length - 1);
      assert.equal(result.dropped, 1);
      assert.equal(result.droppedByReason.unscored, 1);
      assert.deepEqual(
        result.groups.map((g) => g.name),
        CAPABILITIES,
      );
      assert.ok(typeof result.mean === "number" || result.mean === null);
    });
  }
});
