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

test("spri eval reappraisal: four criteria per reply, means per method, unscored answers left out, tests against a baseline", async () => {
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
        "--baseline",
        "gpt",
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
    type Summary = { mean: number | null; n: number; unscored: number; markers: string };
    const report = JSON.parse(result.stdout) as {
      methods: Record<string, Record<"alignment" | "empathy" | "harmful" | "factuality", Summary>>;
      tests: { method: string; baseline: string; criterion: string; n: number; p: number | null; reason?: string }[];
    };
    const means = report.methods;
    assert.deepEqual(Object.keys(means), ["gpt", "llama"]);
    assert.equal(server.requests.length, 60 * 4);
    const rows = readFileSync(output, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const method of ["gpt", "llama"]) {
      const mine = rows.filter((r) => r.method === method);
      assert.equal(means[method]!.alignment.n, 30);
      const long = mine.filter((r) => String(r.response).length > 600).length;
      assert.equal(means[method]!.alignment.mean, Number(((9 * long + 7 * (30 - long)) / 30).toFixed(2)));
      assert.deepEqual(means[method]!.empathy, { mean: 4, n: 30, unscored: 0, markers: "" });
      assert.equal(means[method]!.harmful.mean, 0);
      assert.deepEqual([means[method]!.factuality.mean, means[method]!.factuality.n, means[method]!.factuality.unscored], [1, 29, 1]);
    }
    // llama against the baseline gpt, case by case (same posts and dimensions): the alignment test
    // compares reply lengths; equal empathy everywhere and an unscored factuality leave theirs undefined.
    assert.deepEqual(
      report.tests.map((t) => [t.method, t.baseline, t.criterion, t.n, t.reason]),
      [
        ["llama", "gpt", "alignment", 30, undefined],
        ["llama", "gpt", "empathy", 30, "no-difference"],
        ["llama", "gpt", "harmful", 30, "no-difference"],
        ["llama", "gpt", "factuality", 30, "unscored"],
      ],
    );
    const alignment = report.tests[0]!;
    assert.ok(alignment.p !== null);
    assert.equal(means.llama!.alignment.markers, alignment.p < 0.05 ? "*" : "");
    // The paper's evaluator settings by default.
    assert.deepEqual(
      [(server.requests[0]!.body as { temperature: number }).temperature, (server.requests[0]!.body as { seed: number }).seed],
      [0.1, 36],
    );
  } finally {
    await server.close();
  }
});
