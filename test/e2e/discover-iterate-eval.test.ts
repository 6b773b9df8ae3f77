/**
 * `spri discover iterate eval` / `iterate report` and `spri discover regenerate` through the built
 * CLI against a local OpenAI-compatible server. Model "m0" (the base) answers every held-out prompt
 * with "Tea.", "m1" (trained after iteration 1) with the gold; the judge ("judge") prefers the longer
 * response. So iteration 2 wins every comparison, and Rouge-L rises to 1.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { rougeL } from "../../src/algorithms/discovery/rouge-l.ts";
import { type FakeModelServer, openaiText, type RecordedRequest, startFakeModelServer } from "../../src/test.ts";
import { runCli } from "../support/cli.ts";

const HELDOUT = [
  { id: "h1", prompt: "How do I brew green tea?", gold: "Heat water to 80 degrees and steep the leaves for two minutes." },
  { id: "h2", prompt: "How long should I boil an egg?", gold: "Boil it for about nine minutes for a firm yolk." },
];
const MEDOID = "Be specific: give the quantities and timings that matter.";

function reply(request: RecordedRequest) {
  const body = request.body as { model: string; messages: { role: string; content: string }[] };
  const messages = body.messages;
  if (messages[0]!.content.startsWith("You compare two AI assistants")) {
    const user = messages[1]!.content;
    const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
    const b = /\[Response B\]\n([\s\S]*)$/.exec(user)![1]!;
    return openaiText(a.length === b.length ? "[[C]]" : a.length > b.length ? "[[A]]" : "[[B]]");
  }
  const text = messages.map((m) => m.content).join("\n");
  if (text.includes("List at most 5 concrete ways")) return openaiText("1. No quantities.");
  if (text.includes("Rewrite the response so it follows")) return openaiText(text.includes(MEDOID) ? HELDOUT[0]!.gold : "Tea.");
  const pair = HELDOUT.find((p) => p.prompt === messages[0]!.content);
  return openaiText(body.model === "m1" && pair ? pair.gold : "Tea.");
}

const readJsonl = (file: string) =>
  readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, any>);
const writeJsonl = (file: string, rows: unknown[]) => writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
const round = (x: number) => Math.round(x * 10000) / 10000;

describe("spri discover iterate eval / report, regenerate (CLI)", () => {
  let server: FakeModelServer;
  let dir: string;
  let url: string;
  before(async () => {
    server = await startFakeModelServer(reply);
    dir = mkdtempSync(join(tmpdir(), "spri-iterate-eval-e2e-"));
    url = `${server.url}/v1`;
  });
  after(async () => {
    await server.close();
  });

  test("two iterations evaluated: Rouge-L against the gold, win rates against the previous and the base model, the report", {
    timeout: 120_000,
  }, async () => {
    const data = join(dir, "pairs.jsonl");
    writeJsonl(
      data,
      [1, 2, 3, 4].map((i) => ({ id: `q${i}`, prompt: `p${i}`, gold: `g${i}` })),
    );
    const heldout = join(dir, "heldout.jsonl");
    writeJsonl(heldout, HELDOUT);
    const root = join(dir, "run");
    const store = ["--store", join(dir, "spri.db")];
    const cli = (args: string[]) => runCli(args, { cwd: dir });
    let result = await cli([
      "discover",
      "iterate",
      "init",
      "--dir",
      root,
      "--input",
      data,
      "--slices",
      "2",
      "--base-model",
      "m0",
      "--base-url",
      url,
    ]);
    assert.equal(result.code, 0, result.stderr);
    result = await cli(["discover", "iterate", "model", "--dir", root, "--iter", "2", "--base-model", "m1", "--base-url", url]);
    assert.equal(result.code, 0, result.stderr);

    const evaluate = (iter: number) =>
      cli([
        "discover",
        "iterate",
        "eval",
        "--dir",
        root,
        "--iter",
        String(iter),
        "--input",
        heldout,
        "--critic-model",
        "judge",
        "--critic-url",
        url,
        ...store,
      ]);
    // Iteration 2 cannot be judged before iteration 1 has answers.
    result = await evaluate(2);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /iteration 1 has not been evaluated/);
    for (const iter of [1, 2]) {
      result = await evaluate(iter);
      assert.equal(result.code, 0, result.stderr);
    }
    assert.match(result.stdout, /^iter\s+model\s+accepted\s+constitution\s+diversity\s+rougeL\s+vs-previous\s+vs-base/);

    result = await cli(["discover", "iterate", "report", "--dir", root, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const rows = (JSON.parse(result.stdout) as { iterations: Record<string, any>[] }).iterations;
    // Iteration 1 (m0 answers "Tea."): mean Rouge-L of "Tea." against the two golds, no comparison.
    const base = round((round(rougeL(HELDOUT[0]!.gold, "Tea.").fmeasure) + round(rougeL(HELDOUT[1]!.gold, "Tea.").fmeasure)) / 2);
    assert.deepEqual(
      [rows[0]!.model, rows[0]!.evalItems, rows[0]!.rougeL, rows[0]!.winRateVsPrevious, rows[0]!.winRateVsBase],
      ["m0", 2, base, null, null],
    );
    // Iteration 2 (m1 answers the gold): Rouge-L 1, and the judge prefers it in both orders every time.
    assert.deepEqual([rows[1]!.model, rows[1]!.rougeL, rows[1]!.winRateVsPrevious, rows[1]!.winRateVsBase], ["m1", 1, 100, 100]);
    assert.equal(rows[1]!.eval.vsPrevious.n, 2);
    const judged = readJsonl(join(root, "iter-2", "eval.jsonl"));
    assert.ok(judged.every((r) => r.eval_vs_previous.baseline === "Tea."));
  });

  test("regenerate: y2 rewritten under the medoid of the labelled copy", { timeout: 60_000 }, async () => {
    const gold = HELDOUT[0]!.gold;
    const input = join(dir, "labelled.jsonl");
    const oldY2 = "Use hot water and tea leaves.";
    writeJsonl(input, [
      {
        id: "t1",
        prompt: HELDOUT[0]!.prompt,
        gold,
        y1: "Tea.",
        accepted: true,
        best: { k: 1, z: "Give details.", critique: "c", y2: oldY2, fY2: 0.2, gain: 0.1 },
        y2: oldY2,
        zCanonical: MEDOID,
        clusterId: "c1",
      },
      { id: "t2", prompt: HELDOUT[1]!.prompt, gold: HELDOUT[1]!.gold, y1: "Tea.", accepted: false, best: null, y2: null },
    ]);
    const output = join(dir, "regenerated.jsonl");
    const result = await runCli(
      [
        "discover",
        "regenerate",
        "--input",
        input,
        "--output",
        output,
        "--base-url",
        url,
        "--base-model",
        "m0",
        "--store",
        join(dir, "spri.db"),
      ],
      { cwd: dir },
    );
    assert.equal(result.code, 0, result.stderr);
    const rows = new Map(readJsonl(output).map((r) => [r.id, r]));
    const t1 = rows.get("t1")!;
    assert.equal(t1.accepted, true);
    assert.equal(t1.best.z, MEDOID);
    assert.equal(t1.best.y2, gold);
    assert.equal(t1.medoidRegeneration.status, "regenerated");
    assert.equal(t1.medoidRegeneration.before.y2, oldY2);
    assert.equal(rows.get("t2")!.medoidRegeneration.status, "skipped");
  });
});
