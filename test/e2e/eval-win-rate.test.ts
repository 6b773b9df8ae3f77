import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli, SHARED } from "../support/cli.ts";
import { readEvalReport } from "../../src/runtime/runner/eval-report.ts";
import { SqliteStore } from "../../src/runtime/store/sqlite-store.ts";
import { openaiText, startFakeModelServer } from "../../src/test.ts";
import type { ChatBody } from "../support/scripted-backend.ts";

const ANNOTATIONS = join(SHARED, "data", "alpaca-eval", "gpt4_vs_text_davinci_003_alpaca_eval_gpt4_annotations.json");

test("spri eval win-rate --judged reads AlpacaEval's released annotations as released: GPT-4 over text-davinci-003, 95.28%", async () => {
  const result = await runCli(["eval", "win-rate", "--judged", ANNOTATIONS, "--json"], { cwd: mkdtempSync(join(tmpdir(), "spri-wr-")) });
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as Record<string, unknown>;
  // By hand from the file: preference 2 (gpt4 wins), 1 (davinci wins), 0 (a tie, counted half).
  const rows = JSON.parse(readFileSync(ANNOTATIONS, "utf8")) as { preference: number }[];
  const count = (p: number) => rows.filter((r) => r.preference === p).length;
  assert.deepEqual([count(2), count(1), count(0)], [761, 32, 12]);
  assert.deepEqual([report.n, report.wins, report.losses, report.ties, report.unscored], [805, 761, 32, 12, 0]);
  assert.equal(report.winRate, Math.round(((761 + 12 / 2) / 805) * 10000) / 100);
  // AlpacaEval 1.0's leaderboard gives GPT-4 95.28% (standard error 0.72, average length 1365) with this annotator.
  assert.deepEqual([report.winRate, report.standardError, report.avgLength], [95.28, 0.72, 1365]);
  assert.equal(typeof report.lcWinRate, "number");
  assert.deepEqual((report.lengthControl as { terms: string[] }).terms, ["tanh(std_delta_len)", "model"]);
});

test("spri eval win-rate --judged keeps its report and each annotation's preference in a named store only", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-wr-store-"));
  const plain = await runCli(["eval", "win-rate", "--judged", ANNOTATIONS, "--json"], { cwd: dir });
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(existsSync(join(dir, "spri.db")), false, "no store is made unasked");
  const db = join(dir, "evals.db");
  const kept = await runCli(["eval", "win-rate", "--judged", ANNOTATIONS, "--json", "--store", db], { cwd: dir });
  assert.equal(kept.code, 0, kept.stderr);
  assert.match(kept.stderr, /report kept in .*evals\.db as run /);
  const store = new SqliteStore(db);
  try {
    const [run] = await store.listRuns({ limit: 10 });
    assert.deepEqual([run!.task, run!.status, run!.inputPath], ["eval/win-rate-judged", "completed", ANNOTATIONS]);
    assert.deepEqual(await readEvalReport(store, run!.id), { kind: "win-rate", report: JSON.parse(kept.stdout) });
    assert.equal((await store.itemCounts(run!.id)).done, 805);
  } finally {
    await store.close();
  }
});

test("spri eval win-rate --judged names the line of a record without a preference", async () => {
  const dir = mkdtempSync(join(tmpdir(), "spri-wr-bad-"));
  const file = join(dir, "annotations.json");
  writeFileSync(file, JSON.stringify([{ instruction: "q", output_1: "a", output_2: "b", preference: 2 }, { instruction: "q2" }]));
  const result = await runCli(["eval", "win-rate", "--judged", file], { cwd: dir });
  assert.equal(result.code, 2);
  assert.match(result.stderr, /annotations\.json:2: field "preference"/);
});

test("spri eval win-rate: outputs judged against references in both orders, win rate and LC win rate", async () => {
  // The judge prefers the longer response, whatever its position.
  const server = await startFakeModelServer((request) => {
    const user = (request.body as ChatBody).messages[1]!.content;
    const a = /\[Response A\]\n([\s\S]*?)\n\n\[Response B\]/.exec(user)![1]!;
    const b = /\[Response B\]\n([\s\S]*)$/.exec(user)![1]!;
    return openaiText(a.length === b.length ? "[[C]]" : a.length > b.length ? "[[A]]" : "[[B]]");
  });
  try {
    const dir = mkdtempSync(join(tmpdir(), "spri-wr-fresh-"));
    const outputs = (texts: string[]) =>
      JSON.stringify(texts.map((output, i) => ({ instruction: `question ${i}`, output, generator: "m" })));
    writeFileSync(join(dir, "references.json"), outputs(["short", "a much longer answer", "same", "tiny"]));
    writeFileSync(join(dir, "outputs.json"), outputs(["a longer answer", "brief", "same", "a fuller answer"]));
    const result = await runCli(
      [
        "eval",
        "win-rate",
        "--outputs",
        join(dir, "outputs.json"),
        "--references",
        join(dir, "references.json"),
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
    // Wins on questions 0 and 3, a loss on 1, a tie on 2: (2 + 0.5) / 4.
    assert.deepEqual([report.n, report.wins, report.losses, report.ties], [4, 2, 1, 1]);
    assert.equal(report.winRate, 62.5);
    assert.equal(typeof report.lcWinRate, "number");
    assert.equal(server.requests.length, 8, "each pair judged in both orders");
    const users = server.requests.map((r) => (r.body as ChatBody).messages[1]!.content);
    assert.ok(users.some((u) => /\[Response A\]\nshort\n\n\[Response B\]\na longer answer/.test(u)));
    assert.ok(users.some((u) => /\[Response A\]\na longer answer\n\n\[Response B\]\nshort/.test(u)));
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "judged.jsonl.summary.json"), "utf8")), report);
    // The report is kept with the run, in the store the run used.
    const store = new SqliteStore(join(dir, "spri.db"));
    try {
      const [run] = await store.listRuns({ limit: 10 });
      assert.deepEqual(await readEvalReport(store, run!.id), {
        kind: "win-rate",
        report,
        summaryFile: join(dir, "judged.jsonl.summary.json"),
      });
    } finally {
      await store.close();
    }
  } finally {
    await server.close();
  }
});
