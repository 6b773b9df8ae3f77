import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, SHARED } from "../support/cli.ts";
import { openaiText, startFakeModelServer } from "../../src/test.ts";
import type { ChatBody } from "../support/scripted-backend.ts";

const INPUTS = join(SHARED, "data", "ifeval", "input_data.jsonl");

test("spri eval ifeval: responses judged against the reference policy's in both orders, the prompt's instructions as principles", async () => {
  // The judge prefers whichever response holds GOOD, in either position.
  const server = await startFakeModelServer((request) => {
    const user = (request.body as ChatBody).messages[1]!.content;
    const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
    const b = /\[Response B\]\n([\s\S]*)$/.exec(user)![1]!;
    return openaiText(a.includes("GOOD") === b.includes("GOOD") ? "[[C]]" : a.includes("GOOD") ? "[[A]]" : "[[B]]");
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-ifeval-"));
    const prompts = readFileSync(INPUTS, "utf8")
      .split("\n")
      .slice(0, 3)
      .map((l) => (JSON.parse(l) as { prompt: string }).prompt);
    const rows = (responses: string[], extra: string) =>
      `${[...prompts, "a prompt IFEval does not have"].map((prompt, i) => JSON.stringify({ prompt, response: responses[i] ?? extra })).join("\n")}\n`;
    writeFileSync(join(dir, "outputs.jsonl"), rows(["GOOD one", "plain two", "GOOD three"], "GOOD extra"));
    writeFileSync(join(dir, "references.jsonl"), rows(["plain one", "GOOD two", "plain three"], "plain extra"));
    const result = await runCli(
      [
        "eval",
        "ifeval",
        "--outputs",
        join(dir, "outputs.jsonl"),
        "--references",
        join(dir, "references.jsonl"),
        "--data",
        INPUTS,
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
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    // Wins on prompts 0 and 2, a loss on 1; the prompt IFEval lacks is left out.
    assert.deepEqual([report.n, report.wins, report.losses, report.ties, report.withoutInstructions], [3, 2, 1, 0, 1]);
    assert.equal(report.winRate, 66.67);
    assert.equal(server.requests.length, 6);
    const first = server.requests
      .map((r) => (r.body as ChatBody).messages)
      .find((m) => m[1]!.content.startsWith(`[User request]\n${prompts[0]}`))!;
    assert.match(first[0]!.content, /principles/);
    // input_data.jsonl's first prompt asks for no commas, 3 highlighted sections and 300+ words.
    assert.ok(
      first[1]!.content.includes(
        "[Principles the response must follow]\n1. Use no commas anywhere in the response.\n2. Highlight at least 3 sections with markdown, e.g. *highlighted section*.\n3. Use at least 300 words.\n\n[Response A]",
      ),
      first[1]!.content,
    );
  } finally {
    await server.close();
  }
});
