import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../support/cli.ts";
import { type ChatBody, scriptedBackend } from "../support/scripted-backend.ts";
import { openaiText, startFakeModelServer } from "../../src/test.ts";

test("spri compare: pairs joined by id, judged in both orders, win rate with ties and CI", async () => {
  // The judge prefers the longer response, whatever its position.
  const server = await startFakeModelServer((request) => {
    const user = (request.body as ChatBody).messages[1]!.content;
    const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
    const b = /\[Response B\]\n([\s\S]*)$/.exec(user)![1]!;
    return openaiText(a.length === b.length ? "Equal. [[C]]" : a.length > b.length ? "A is fuller. [[A]]" : "B is fuller. [[B]]");
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-compare-"));
    const rows = (responses: string[]) =>
      responses.map((r, i) => JSON.stringify({ id: `q${i}`, question: `question ${i}`, response_final: r })).join("\n") + "\n";
    writeFileSync(join(dir, "a.jsonl"), rows(["short", "a much longer answer", "same", "tiny", "only in A"]));
    writeFileSync(join(dir, "b.jsonl"), rows(["a longer answer", "brief", "same", "a fuller answer"]));
    const result = await runCli(
      [
        "compare",
        "--a",
        join(dir, "a.jsonl"),
        "--b",
        join(dir, "b.jsonl"),
        "--output",
        join(dir, "pairs.jsonl"),
        "--json",
        "--base-url",
        `${server.url}/v1`,
        "--base-model",
        "judge",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /--base-model is deprecated here; use --judge-model/);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual([summary.n, summary.winsB, summary.winsA, summary.ties, summary.onlyA, summary.inconsistent], [4, 2, 1, 1, 1, 0]);
    assert.equal(summary.winRateB, 62.5);
    assert.equal(server.requests.length, 8);
    const pairs = readFileSync(join(dir, "pairs.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(pairs.find((p) => p.id === "q1")!.pairwise_winner, "A");
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "pairs.jsonl.summary.json"), "utf8")).ci95, summary.ci95);
  } finally {
    await server.close();
  }
});

/** Plays SPRI's models for `spri run` and a judge that always calls a tie for `spri compare`. */
async function runAndJudgeServer() {
  const spri = scriptedBackend();
  return startFakeModelServer((request) => {
    const user = (request.body as ChatBody).messages[1]?.content ?? "";
    return user.includes("[Response A]") ? openaiText("Both are as good. [[C]]") : spri(request);
  });
}

test("spri compare on two `spri run` outputs: the question is found as `spri run` finds it, the judge named --judge-model", async () => {
  const server = await runAndJudgeServer();
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-compare-run-"));
    const input = join(dir, "items.jsonl");
    writeFileSync(
      input,
      ["What should I pack for a hike?", "How do I apologise?"].map((q, i) => JSON.stringify({ id: `q${i}`, instruction: q })).join("\n") +
        "\n",
    );
    const model = ["--base-url", `${server.url}/v1`, "--base-model", "local-model"];
    for (const [output, temperature] of [
      ["a.jsonl", "0.7"],
      ["b.jsonl", "0.2"],
    ] as const) {
      const run = await runCli(["run", "--input", input, "--output", join(dir, output), "--temperature", temperature, ...model], {
        cwd: dir,
      });
      assert.equal(run.code, 0, run.stderr);
    }
    const result = await runCli(
      [
        "compare",
        "--a",
        join(dir, "a.jsonl"),
        "--b",
        join(dir, "b.jsonl"),
        "--output",
        join(dir, "pairs.jsonl"),
        "--json",
        "--judge-url",
        `${server.url}/v1`,
        "--judge-model",
        "judge",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual([summary.n, summary.ties], [2, 2]);
    const judged = server.requests.filter((r) => (r.body as ChatBody).model === "judge");
    assert.equal(judged.length, 4);
    assert.match(
      (judged[0]!.body as ChatBody).messages[1]!.content,
      /^\[User question\]\n(What should I pack for a hike\?|How do I apologise\?)\n/,
    );
  } finally {
    await server.close();
  }
});

test("spri compare refuses two files whose ids do not pair up, before any judging", async () => {
  const server = await runAndJudgeServer();
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-compare-disjoint-"));
    const rows = (prefix: string) =>
      [0, 1].map((i) => JSON.stringify({ id: `${prefix}${i}`, question: `question ${i}`, response_final: "an answer" })).join("\n") + "\n";
    writeFileSync(join(dir, "a.jsonl"), rows("a"));
    writeFileSync(join(dir, "b.jsonl"), rows("b"));
    const result = await runCli(
      [
        "compare",
        "--a",
        join(dir, "a.jsonl"),
        "--b",
        join(dir, "b.jsonl"),
        "--output",
        join(dir, "pairs.jsonl"),
        "--judge-url",
        `${server.url}/v1`,
        "--judge-model",
        "judge",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /no ids pair up/);
    assert.match(result.stderr, /field "id"/);
    assert.equal(server.requests.length, 0);
    assert.equal(existsSync(join(dir, "pairs.jsonl.summary.json")), false);
  } finally {
    await server.close();
  }
});
