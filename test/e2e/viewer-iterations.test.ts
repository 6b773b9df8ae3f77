/**
 * The iterations page in a real browser (as viewer.test.ts): `spri view --iterations DIR` over a
 * directory made by the library (test/support/iterations-dir.ts) shows a plot per metric of
 * `spri discover iterate report` with the state's values, the win rates' CIs as whiskers, and the
 * constitutions side by side, aligned by cluster label with new and dropped principles marked.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { readState } from "../../src/runtime/runner/discovery-iterations.ts";
import { REPO_ROOT, runCli } from "../support/cli.ts";
import { ITERATIONS_SECRET, makeIterationsDir } from "../support/iterations-dir.ts";
import { browserSkip, ensureWebBuilt, openViewerPage, type RunningView, startView } from "./viewer-fixtures.ts";

const ARTIFACTS = join(REPO_ROOT, "test-artifacts");

describe("spri view --iterations shows a discovery loop", { skip: browserSkip, timeout: 180_000 }, () => {
  let dir: string;
  let storeDir: string;
  let view: RunningView;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];

  before(async () => {
    ensureWebBuilt();
    dir = await makeIterationsDir();
    storeDir = mkdtempSync(join(tmpdir(), "spri-viewer-iterations-"));
    view = await startView({ dir: storeDir, db: join(storeDir, "spri.db"), modelFlags: ["--no-playground", "--iterations", dir] });
    ({ browser, page, errors: pageErrors } = await openViewerPage());
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await view?.stop();
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
    if (dir) rmSync(dirname(dir), { recursive: true, force: true });
  });

  /** The value labels of a chart's points, by iteration. */
  async function points(chart: string): Promise<Record<string, string>> {
    const figure = page.getByTestId(`iter-chart-${chart}`);
    await figure.waitFor();
    const out: Record<string, string> = {};
    for (const point of await figure.getByTestId("iter-point").all())
      out[(await point.getAttribute("data-iter"))!] = (await point.getByTestId("iter-value").textContent()) ?? "";
    return out;
  }

  test("the nav leads to the page; a plot per metric holds the state's values, win rates with their 95% CIs", async () => {
    await page.goto(view.url);
    await page.getByRole("link", { name: "Iterations" }).click();
    await page.getByTestId("iterations-page").waitFor();
    const state = readState(dir);
    const [first, second, third] = state.iterations;
    assert.deepEqual(await points("winRateVsPrevious"), { 2: "62.5%", 3: "75.0%" });
    assert.deepEqual(await points("winRateVsBase"), { 2: "62.5%", 3: "87.5%" });
    assert.deepEqual(await points("rougeL"), { 1: "0.300", 2: "0.400", 3: "0.500" });
    assert.deepEqual(await points("constitution"), { 1: "2", 2: "2", 3: "2" });
    assert.deepEqual(await points("discoveryRate"), { 1: "0.750", 2: "0.500", 3: "0.250" });
    const diversity = [first, second, third].map((e) => e!.stats!.constitutionDiversity!.toFixed(3));
    assert.deepEqual(await points("diversity"), { 1: diversity[0], 2: diversity[1], 3: diversity[2] });
    const [lo, hi] = third!.eval!.vsPrevious!.ci95;
    const whisker = page.getByTestId("iter-chart-winRateVsPrevious").locator('[data-iter="3"]').getByTestId("iter-ci");
    assert.equal(await whisker.locator("title").textContent(), `iteration 3: 95% CI ${lo}–${hi}%`);
    assert.equal((await page.locator("main").innerText()).includes(ITERATIONS_SECRET), false);
    assert.deepEqual(pageErrors, []);
  });

  test("the constitutions side by side: a column per iteration, rows by cluster label, new and dropped marked", async () => {
    const table = page.getByTestId("iter-constitutions");
    await table.waitFor();
    const headers = await table.locator("thead th").allInnerTexts();
    assert.deepEqual(
      headers.map((h) => h.split("\n")[0]),
      ["Iteration 1", "Iteration 2", "Iteration 3", "Iteration 4"],
    );
    const cell = (row: number, iter: number) => table.getByTestId("const-row").nth(row).locator(`[data-iter="${iter}"]`);
    assert.equal(await table.getByTestId("const-row").count(), 4);
    assert.match(await cell(0, 1).innerText(), /^Concision\s+Keep answers short\.\s+size 2$/);
    assert.match(await cell(0, 2).innerText(), /^concision\s+Answer briefly and plainly\.\s+size 2$/);
    assert.equal(await cell(0, 3).innerText(), "dropped");
    assert.equal(await cell(1, 2).innerText(), "dropped");
    assert.equal(await cell(1, 3).innerText(), "");
    assert.match(await cell(2, 2).innerText(), /^new\s+Empathy\s+Acknowledge feelings first\./);
    assert.match(await cell(2, 3).innerText(), /^Empathy\s+Acknowledge feelings first\./);
    assert.match(await cell(3, 3).innerText(), /^new\s+Refuse harmful requests\.\s+size 2$/);
    assert.equal(await cell(3, 4).innerText(), "");
    assert.equal(await cell(2, 2).getAttribute("data-change"), "new");
    assert.equal(await cell(0, 3).getAttribute("data-change"), "dropped");
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-iterations.png"), fullPage: true });
  });
});

test("spri view --iterations refuses a directory without a state before it listens, saying what to run", async () => {
  const empty = mkdtempSync(join(tmpdir(), "spri-viewer-no-iterations-"));
  try {
    const result = await runCli(["view", "--port", "0", "--no-playground", "--iterations", empty], { cwd: empty });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /state\.json: no iteration state here — start with `spri discover iterate init/);
    assert.doesNotMatch(result.stdout, /http:\/\//);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
