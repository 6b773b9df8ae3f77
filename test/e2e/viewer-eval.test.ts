/**
 * Evaluation reports in the viewer, in a real browser (as viewer.test.ts): `spri eval` commands keep
 * their reports in a store (Table 1 re-scored from the paper's released judgements, AlpacaEval's
 * released annotations, a fresh MT-Bench grading against a fake judge), `spri view` serves it, and
 * each report's page shows the numbers the command printed with --json, and its per-case judgements.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { type FakeModelServer, openaiText, startFakeModelServer } from "../../src/test.ts";
import { SqliteStore } from "../../src/runtime/store/sqlite-store.ts";
import { REPO_ROOT, runCli, SHARED } from "../support/cli.ts";
import { EVAL_OUTPUTS, TABLE_1_METHODS } from "../support/paper-judge-reference.ts";
import type { ChatBody } from "../support/scripted-backend.ts";
import { browserSkip, ensureWebBuilt, openViewerPage, type RunningView, startView } from "./viewer-fixtures.ts";

const ARTIFACTS = join(REPO_ROOT, "test-artifacts");
const ANNOTATIONS = join(SHARED, "data", "alpaca-eval", "gpt4_vs_text_davinci_003_alpaca_eval_gpt4_annotations.json");
const MT_BENCH = join(SHARED, "data", "mt-bench");
/** Table 1's gpt-4o-mini row: alignment / empathy with their marks. */
const TABLE_1_GPT_4O_MINI = ["7.90 / 4.50", "7.73 / 4.53", "8.00† / 4.73", "8.67*† / 4.80*†"];
const CRITERIA = ["alignment", "empathy", "harmful", "factuality"] as const;

interface Summary {
  mean: number | null;
  markers: string;
}
interface ReappraisalJson {
  methods: Record<string, Record<(typeof CRITERIA)[number], Summary>>;
  tests: { p: number | null }[];
}

/** The cell as the page writes it: the mean to 2 decimals and its marks. */
const cell = (s: Summary) => `${s.mean === null ? "–" : s.mean.toFixed(2)}${s.markers}`;

describe("spri view shows evaluation reports", { skip: browserSkip, timeout: 240_000 }, () => {
  let dir: string;
  let judge: FakeModelServer;
  let view: RunningView;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  const runs = new Map<string, string>();
  const printed = new Map<string, Record<string, unknown>>();

  async function evalCommand(name: string, args: string[]): Promise<void> {
    const result = await runCli(["eval", ...args, "--json"], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    printed.set(name, JSON.parse(result.stdout) as Record<string, unknown>);
  }

  before(async () => {
    ensureWebBuilt();
    dir = mkdtempSync(join(tmpdir(), "spri-viewer-eval-"));
    const db = join(dir, "spri.db");
    // The fake judge rates a first turn 7 and a second turn 8.5.
    judge = await startFakeModelServer((request) => {
      const user = (request.body as ChatBody).messages.at(-1)!.content;
      return openaiText(user.includes("A rewritten post") ? "Rating: [[8.5]]" : "Rating: [[7]]");
    });
    const methods = TABLE_1_METHODS.flatMap(([name, folder]) => ["--method", `${name}=${join(EVAL_OUTPUTS, "gpt-4o-mini", folder)}`]);
    await evalCommand("reappraisal", [
      "reappraisal",
      "--judged",
      ...methods,
      "--baseline",
      "vanilla",
      "--baseline",
      "self-refine",
      "--store",
      db,
    ]);
    await evalCommand("win-rate", ["win-rate", "--judged", ANNOTATIONS, "--store", db]);
    const answers = { question_id: 81, choices: [{ index: 0, turns: ["Aloha post", "A rewritten post"] }] };
    writeFileSync(join(dir, "answers.jsonl"), `${JSON.stringify(answers)}\n`);
    const judgeFlags = ["--judge-url", `${judge.url}/v1`, "--judge-model", "judge"];
    await evalCommand("mt-bench", [
      "mt-bench",
      "--answers",
      join(dir, "answers.jsonl"),
      "--data",
      MT_BENCH,
      "--output",
      join(dir, "judged.jsonl"),
      ...judgeFlags,
    ]);
    const store = new SqliteStore(db);
    try {
      for (const run of await store.listRuns({ limit: 10 })) runs.set(run.task, run.id);
    } finally {
      await store.close();
    }
    view = await startView({ dir, db, modelFlags: [] });
    ({ browser, page, errors: pageErrors } = await openViewerPage());
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await view?.stop();
    await judge?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const open = async (task: string) => {
    const runId = runs.get(task);
    assert.ok(runId, `a run of ${task} in the store (runs: ${[...runs.keys()].join(", ")})`);
    await page.goto(`${view.url}runs/${encodeURIComponent(runId)}`);
    await page.getByTestId("eval-report").waitFor();
    return runId;
  };
  const text = (testId: string) => page.getByTestId(testId).innerText();

  test("Table 1 re-scored: each method's means and marks as --json printed them, the t-tests, and the 120 cases page by page", async () => {
    await open("eval/reappraisal-judged");
    const report = printed.get("reappraisal") as unknown as ReappraisalJson;
    await page.getByTestId("eval-method-vanilla").waitFor();
    for (const [name, criteria] of Object.entries(report.methods)) {
      for (const criterion of CRITERIA)
        assert.equal(await text(`eval-mean-${name}-${criterion}`), cell(criteria[criterion]), `${name} ${criterion}`);
    }
    const row = [];
    for (const [name] of TABLE_1_METHODS)
      row.push(`${await text(`eval-mean-${name}-alignment`)} / ${await text(`eval-mean-${name}-empathy`)}`);
    assert.deepEqual(row, TABLE_1_GPT_4O_MINI, "the page shows the paper's Table 1");
    const tests = page.getByTestId("eval-test");
    assert.equal(await tests.count(), report.tests.length);
    const p = report.tests[0]!.p!;
    assert.match(
      await tests.first().innerText(),
      new RegExp(`\\s${(p < 0.0001 ? p.toExponential(1) : p.toFixed(4)).replace(".", "\\.")}$`),
    );
    const cases = page.getByTestId("eval-cases");
    await cases.getByTestId("eval-case").first().waitFor();
    assert.equal(await text("eval-cases-range"), "1–50 of 120");
    assert.equal(await cases.getByTestId("eval-case").count(), 50);
    assert.match(
      await cases.getByTestId("eval-case").first().innerText(),
      /^vanilla\/\[.*\]\s+vanilla\s+\[.*\]\s+\d+\s+\d+\s+[01]\s+[01]$/,
    );
    await page.screenshot({ path: join(ARTIFACTS, "viewer-eval-reappraisal.png"), fullPage: true });
    await cases.getByRole("button", { name: "Next ›" }).click();
    await page.getByTestId("eval-cases-range").filter({ hasText: "51–100 of 120" }).waitFor();
    await cases.getByTestId("eval-case").first().getByRole("link").click();
    // The page shows "Loading…" until the item's record has come: wait for the record, not the page.
    await page.locator("main").filter({ hasText: "eval_alignment" }).waitFor();
    assert.match(await page.locator("main").innerText(), /eval_alignment/);
    assert.deepEqual(pageErrors, []);
  });

  test("AlpacaEval's annotations: win rate, SE, CI and LC win rate as printed, 805 pairs", async () => {
    await open("eval/win-rate-judged");
    const report = printed.get("win-rate") as { winRate: number; standardError: number; ci95: [number, number]; lcWinRate: number };
    await page.getByTestId("eval-win-rate").waitFor();
    assert.match(await text("eval-win-rate"), new RegExp(`${report.winRate}%\\s+SE ${report.standardError}$`));
    assert.match(await text("eval-ci95"), new RegExp(`${report.ci95[0]}–${report.ci95[1]}%`));
    assert.match(await text("eval-lc"), new RegExp(`${report.lcWinRate}%`));
    assert.match(await text("eval-pairs"), /805\s+761 wins · 12 ties · 32 losses · 0 unscored/);
    await page.getByTestId("eval-case").first().waitFor();
    assert.equal(await text("eval-cases-range"), "1–50 of 805");
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-eval-win-rate.png"), fullPage: true });
  });

  test("a fresh MT-Bench grading: turn 1, turn 2, overall and per category, and the judged question", async () => {
    await open("eval/mt-bench");
    const report = printed.get("mt-bench") as { turn1: number; turn2: number; average: number; categories: Record<string, number> };
    assert.deepEqual([report.turn1, report.turn2, report.average, report.categories], [7, 8.5, 7.75, { writing: 7.75 }]);
    await page.getByTestId("eval-turn1").waitFor();
    assert.match(await text("eval-turn1"), /Turn 1\s+7$/);
    assert.match(await text("eval-turn2"), /Turn 2\s+8\.5$/);
    assert.match(await text("eval-average"), /Overall\s+7\.75\s+2 judgements · 0 unscored/);
    assert.match(await text("eval-categories"), /writing\s+7\.75/);
    await page.getByTestId("eval-case").first().waitFor();
    assert.match(await page.getByTestId("eval-case").first().innerText(), /writing\s+7\s+8\.5$/);
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-eval-mt-bench.png"), fullPage: true });
  });
});
