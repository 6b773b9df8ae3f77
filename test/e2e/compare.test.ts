import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../support/cli.ts";
import { type ChatBody } from "../support/scripted-backend.ts";
import { openaiText, startFakeLlmServer } from "../support/fake-llm-server.ts";

test("spri compare: pairs joined by id, judged in both orders, win rate with ties and CI", async () => {
  // The judge prefers the longer response, whatever its position.
  const server = await startFakeLlmServer((request) => {
    const user = (request.body as ChatBody).messages[1]!.content;
    const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
    const b = /\[Response B\]\n([\s\S]*)$/.exec(user)![1]!;
    return openaiText(a.length === b.length ? "Equal. [[C]]" : a.length > b.length ? "A is fuller. [[A]]" : "B is fuller. [[B]]");
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-compare-"));
    const rows = (responses: string[]) => responses.map((r, i) => JSON.stringify({ id: `q${i}`, question: `question ${i}`, response_final: r })).join("\n") + "\n";
    writeFileSync(join(dir, "a.jsonl"), rows(["short", "a much longer answer", "same", "tiny", "only in A"]));
    writeFileSync(join(dir, "b.jsonl"), rows(["a longer answer", "brief", "same", "a fuller answer"]));
    const result = await runCli(
      ["compare", "--a", join(dir, "a.jsonl"), "--b", join(dir, "b.jsonl"), "--output", join(dir, "pairs.jsonl"), "--json", "--base-url", `${server.url}/v1`, "--base-model", "judge"],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout) as Record<string, unknown>;
    assert.deepEqual([summary.n, summary.winsB, summary.winsA, summary.ties, summary.onlyA, summary.inconsistent], [4, 2, 1, 1, 1, 0]);
    assert.equal(summary.winRateB, 62.5);
    assert.equal(server.requests.length, 8);
    const pairs = readFileSync(join(dir, "pairs.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(pairs.find((p) => p.id === "q1")!.pairwise_winner, "A");
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "pairs.jsonl.summary.json"), "utf8")).ci95, summary.ci95);
  } finally {
    await server.close();
  }
});
