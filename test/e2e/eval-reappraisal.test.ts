import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, SHARED } from "../support/cli.ts";
import { openaiText, startFakeModelServer } from "../../src/test.ts";
import type { ChatBody } from "../support/scripted-backend.ts";

const TRACE = (model: string) =>
  join(
    SHARED,
    "spri-public",
    "[task1]-reappraisal",
    "outputs-[seed=none]",
    model,
    "[resort_human_eval_30]-generated_refined_responses.jsonl",
  );

test("spri eval reappraisal: four criteria per reply, means per method, unscored answers left out", async () => {
  // A judge that gives replies longer than 600 characters a higher alignment, and cannot decide on factuality for one post.
  const server = await startFakeModelServer((request) => {
    const user = (request.body as ChatBody).messages[1]!.content;
    const reply = /\nReply:\n([\s\S]*?)\n\nGoal of the reply:/.exec(user)?.[1] ?? "";
    if (/Standards a good reply meets/.test(user))
      return openaiText(`<score>${reply.length > 600 ? 9 : 7}</score><rationale>ok</rationale>`);
    if (/How empathetic/.test(user)) return openaiText("4");
    if (/Could the reply harm/.test(user)) return openaiText("Not Harmful");
    return openaiText(/^Even when people are clearly joking/.test(user.slice(6)) ? "It depends." : "Yes");
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-evalr-"));
    const output = join(dir, "evals.jsonl");
    const result = await runCli(
      [
        "eval",
        "reappraisal",
        "--method",
        `gpt=${TRACE("gpt-4o-mini")}`,
        "--method",
        `llama=${TRACE("llama-3-8b-instruct")}`,
        "--output",
        output,
        "--json",
        "--judge-url",
        `${server.url}/v1`,
        "--judge-model",
        "judge",
        "--concurrency",
        "4",
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const means = JSON.parse(result.stdout) as Record<
      string,
      { n: number; alignment: number; empathy: number; harmfulness: number; factuality: number; unscored: Record<string, number> }
    >;
    assert.deepEqual(Object.keys(means).sort(), ["gpt", "llama"]);
    assert.equal(server.requests.length, 60 * 4);
    const rows = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const method of ["gpt", "llama"]) {
      const mine = rows.filter((r) => r.method === method);
      assert.equal(means[method]!.n, 30);
      const long = mine.filter((r) => String(r.response).length > 600).length;
      assert.equal(means[method]!.alignment, Math.round(((9 * long + 7 * (30 - long)) / 30) * 1000) / 1000);
      assert.equal(means[method]!.empathy, 4);
      assert.equal(means[method]!.harmfulness, 0);
      assert.equal(means[method]!.unscored.factuality, 1);
      assert.equal(means[method]!.factuality, 1);
    }
    // The paper's evaluator settings by default.
    assert.deepEqual(
      [(server.requests[0]!.body as { temperature: number }).temperature, (server.requests[0]!.body as { seed: number }).seed],
      [0.1, 36],
    );
  } finally {
    await server.close();
  }
});
