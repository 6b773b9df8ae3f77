/**
 * The viewer in a real browser: Debian's Chromium (scripts/install-browser.sh) driven by
 * playwright-core, against `spri view` serving a store that `spri run` made. Screenshots of the run
 * page and an item page go to test-artifacts/ (git-ignored) for a reviewer; with
 * SPRI_UPDATE_DOCS_SCREENSHOTS=1 they also replace docs/images/viewer-run.png and viewer-item.png.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { REPO_ROOT } from "../support/cli.ts";
import { ALIVE, LOST } from "../support/shared-run.ts";
import {
  addInterruptedRun,
  addSharedRun,
  browserSkip,
  ensureWebBuilt,
  openViewerPage,
  IMG_PAYLOAD,
  makeViewerStore,
  type RunningView,
  SCRIPT_PAYLOAD,
  startView,
  type ViewerFixture,
} from "./viewer-fixtures.ts";

const ARTIFACTS = join(REPO_ROOT, "test-artifacts");

/** The page's `getComputedStyle` (this file is type-checked without the DOM library). */
interface Styled {
  getComputedStyle(element: unknown): { backgroundColor: string };
}

/** A raw request with any Host header (a browser would not let us choose one). */
function rawGet(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("spri view in headless Chromium", { skip: browserSkip, timeout: 180_000 }, () => {
  let fixture: ViewerFixture;
  let view: RunningView;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[] = [];
  /** The shared run added by the workers test (4 done, 1 failed, 2 leased, 3 pending of 10). */
  let sharedRunId: string | undefined;

  before(async () => {
    ensureWebBuilt();
    fixture = await makeViewerStore();
    view = await startView(fixture);
    ({ browser, page, errors: pageErrors } = await openViewerPage());
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await view?.stop();
    await fixture?.server.close();
    if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
  });

  test("runs page → run page: the finished run, its counts and score charts", async () => {
    await page.goto(view.url);
    const row = page.locator('[data-testid^="run-row-"]');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    const rowText = await row.first().innerText();
    assert.match(rowText, /spri\/sft/);
    assert.match(rowText, /fake-base-7b/);
    assert.match(rowText, /failed/);
    assert.match(rowText, /questions\.jsonl\s+→ out\.jsonl/);
    assert.match(rowText, /1 of 4 items failed/);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-runs.png") });
    await row.first().click();
    await page.getByTestId("run-page").waitFor();
    await page.getByTestId("item-row-kind-1").waitFor();
    assert.match(await page.getByTestId("progress-text").innerText(), /3 done · 1 failed · 0 leased · 0 pending of 4/);
    await page.getByTestId("chart-principles").locator("rect").first().waitFor();
    assert.match(await page.locator("body").innerText(), /maximum context length/);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-run.png"), fullPage: true });
    if (process.env.SPRI_UPDATE_DOCS_SCREENSHOTS === "1") {
      mkdirSync(join(REPO_ROOT, "docs", "images"), { recursive: true });
      await page.screenshot({ path: join(REPO_ROOT, "docs", "images", "viewer-run.png"), fullPage: true });
    }
  });

  test("item page: principle iterations from draft to final with each critique's score, and the calls on demand", async () => {
    await page.getByTestId("item-row-kind-1").click();
    await page.getByTestId("item-page").waitFor();
    const principles = page.getByTestId("stage-principles");
    await principles.waitFor();
    assert.equal(await principles.getByTestId("iterations-principles").innerText(), "2 iterations");
    assert.match(await principles.getByTestId("principles-draft-0").innerText(), /1\. Be kind\.\n2\. Say what you can do\./);
    const critique1 = await principles.getByTestId("principles-critique-1").innerText();
    assert.match(critique1, /Critique 1/);
    assert.match(critique1, /score\s*3/);
    assert.match(critique1, /too vague/);
    assert.match(await principles.getByTestId("principles-refined-1").innerText(), /Offer something instead/);
    assert.ok((await principles.getByTestId("principles-refined-1").locator("ins").count()) > 0, "the refinement shows a word-level diff");
    assert.match(await principles.getByTestId("principles-critique-2").innerText(), /score\s*5/);
    assert.match(await principles.getByTestId("principles-final-text").innerText(), /Offer something instead/);
    assert.match(await page.getByTestId("response-final-text").innerText(), /take you both to dinner/);
    await page.getByTestId("toggle-calls").click();
    await page.getByTestId("call").first().waitFor();
    assert.equal(await page.getByTestId("call").count(), 6);
    assert.match(await page.getByTestId("call").nth(1).innerText(), /principle\.critique/);
    await page.getByTestId("call").first().locator("summary").click();
    assert.match(await page.getByTestId("call").first().innerText(), /You write guiding principles/);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-item.png"), fullPage: true });
    if (process.env.SPRI_UPDATE_DOCS_SCREENSHOTS === "1") {
      await page.getByTestId("toggle-calls").click();
      await page.evaluate("window.scrollTo(0, 0)");
      await page.screenshot({ path: join(REPO_ROOT, "docs", "images", "viewer-item.png") });
    }
  });

  test("model output with <script> and <img onerror> shows as text and never runs", async () => {
    await page.goto(view.url);
    await page.locator('[data-testid^="run-row-"]').first().click();
    await page.getByTestId("item-row-xss-1").click();
    await page.getByTestId("stage-principles").waitFor();
    await page.getByTestId("response-final-text").waitFor();
    const text = await page.locator("main").innerText();
    assert.ok(text.includes(SCRIPT_PAYLOAD), "the literal <script> text is visible");
    assert.ok(text.includes(IMG_PAYLOAD), "the literal <img onerror> text is visible");
    assert.equal(await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned), undefined);
    assert.equal(await page.locator("main img").count(), 0, "no <img> element was made from model output");
    assert.equal(await page.locator("main script").count(), 0);
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-xss.png"), fullPage: true });
  });

  test("the playground runs a question step by step and saves it as a run", async () => {
    await page.goto(`${view.url}playground`);
    await page.getByTestId("pg-question").fill("How do I ask my neighbour to keep the noise down?");
    await page.getByTestId("pg-start").click();
    await page.getByTestId("pg-done").waitFor({ timeout: 30_000 });
    const live = await page.getByTestId("pg-live").innerText();
    assert.match(live, /Principles: critique 1/);
    assert.match(live, /Response: first draft/);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-playground.png"), fullPage: true });
    await page.getByTestId("pg-done").getByRole("link").click();
    await page.getByTestId("stage-response").waitFor();
    assert.match(await page.locator("main").innerText(), /How do I ask my neighbour/);
  });

  test("a shared run: the workers panel shows both workers, the lost one marked, and items leased and pending", async () => {
    const runId = await addSharedRun(fixture);
    sharedRunId = runId;
    await page.goto(`${view.url}runs/${encodeURIComponent(runId)}`);
    const panel = page.getByTestId("workers-panel");
    const rows = panel.getByTestId("worker-row");
    await rows.nth(1).waitFor();
    assert.equal(await rows.count(), 2);
    const lost = panel.locator('[data-testid="worker-row"][data-status="lost"]');
    assert.equal(await lost.count(), 1);
    assert.match(await lost.innerText(), new RegExp(`^${LOST.host}\\s+${LOST.pid}\\s+1\\s+1\\s+0\\s+\\d+ s ago\\s+lost`));
    const alive = panel.locator('[data-testid="worker-row"][data-status="active"]');
    assert.match(await alive.innerText(), new RegExp(`^${ALIVE.host}\\s+${ALIVE.pid}\\s+3\\s+0\\s+2\\s+\\d+ (s|min) ago\\s+active`));
    assert.match(await panel.getByTestId("workers-summary").innerText(), /^1 active · 1 lost · [\d.]+ items\/min/);
    // The lost row is marked beyond its text: its own background.
    const background = (row: typeof lost) =>
      row
        .locator("td")
        .first()
        .evaluate((td) => (globalThis as unknown as Styled).getComputedStyle(td).backgroundColor);
    assert.notEqual(await background(lost), await background(alive));
    await page.getByTestId("progress-text").filter({ hasText: "2 leased" }).waitFor();
    assert.match(await page.getByTestId("progress-text").innerText(), /4 done · 1 failed · 2 leased · 3 pending of 10/);
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-workers.png"), fullPage: true });
  });

  test("on a narrow window the progress bar keeps its width and each share is its share of the total", async () => {
    assert.ok(sharedRunId, "the shared run of the workers test");
    await page.setViewportSize({ width: 390, height: 800 });
    try {
      await page.goto(`${view.url}runs/${encodeURIComponent(sharedRunId)}`);
      await page.getByTestId("progress-text").filter({ hasText: "2 leased" }).waitFor();
      const widths = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { getBoundingClientRect(): { width: number } } } })
          .document;
        const width = (selector: string) => doc.querySelector(selector).getBoundingClientRect().width;
        return { card: width(".progress-line"), bar: width(".progress"), done: width(".progress-done"), failed: width(".progress-failed") };
      });
      assert.ok(widths.bar >= widths.card * 0.9, `the bar is ${widths.bar}px of a ${widths.card}px card`);
      assert.ok(Math.abs(widths.done / widths.bar - 0.4) < 0.01, `done: ${widths.done}px of ${widths.bar}px`);
      assert.ok(Math.abs(widths.failed / widths.bar - 0.1) < 0.01, `failed: ${widths.failed}px of ${widths.bar}px`);
      await page.screenshot({ path: join(ARTIFACTS, "viewer-narrow.png"), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  test("a killed run: interrupted in the list with its files and reason; its page says what the output lacks and how to resume", async () => {
    const runId = await addInterruptedRun(fixture);
    await page.goto(view.url);
    const row = page.getByTestId(`run-row-${runId}`);
    await row.waitFor();
    const text = await row.innerText();
    assert.match(text, /interrupted/);
    assert.match(text, /killed\.jsonl\s+→ killed-out\.jsonl/);
    assert.match(text, /no process works it any more/);
    await row.click();
    await page.getByTestId("run-notice").waitFor();
    assert.equal(await page.getByTestId("run-resume").innerText(), "cd /data && spri run --input killed.jsonl --output killed-out.jsonl");
    assert.match(
      await page.getByTestId("run-output").innerText(),
      /held 295 records .*: 5 of the 300 done items are in the store but not in the file yet/,
    );
    assert.deepEqual(pageErrors, []);
    await page.screenshot({ path: join(ARTIFACTS, "viewer-interrupted.png"), fullPage: true });
  });

  test("a foreign Host header gets 403; the page itself answers on 127.0.0.1", async () => {
    const foreign = await rawGet(view.port, "/api/runs", { host: "evil.example" });
    assert.equal(foreign.status, 403);
    assert.equal((await rawGet(view.port, "/", { host: `attacker.example:${view.port}` })).status, 403);
    assert.equal((await rawGet(view.port, "/api/runs", { host: `127.0.0.1:${view.port}`, origin: "http://evil.example" })).status, 403);
    const ok = await rawGet(view.port, "/api/runs", { host: `127.0.0.1:${view.port}` });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.includes("sk-"), false);
  });
});
