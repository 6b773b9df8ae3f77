/**
 * The viewer's API for evaluation reports: the report kept with its run (`eval-report` artifact)
 * and the per-case judgements, from the run's items, in the columns of the report's kind.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { recordReportRun, saveEvalReport, type StoredEvalReport } from "../../runtime/runner/eval-report.ts";
import { SqliteStore } from "../../runtime/store/sqlite-store.ts";
import type { EvalCasesResponse, EvalReportResponse, RunDetailResponse } from "./api-types.ts";
import { createApp } from "./app.ts";

const PORT = 4324;
const HOST = `127.0.0.1:${PORT}`;
const SECRET = "sk-test-SECRET-eval-1234";

const summary = (mean: number, markers = "") => ({ mean, n: 2, unscored: 0, markers });
const REAPPRAISAL: StoredEvalReport = {
  kind: "reappraisal",
  baselines: ["vanilla"],
  summaryFile: `/data/judged.jsonl.summary.json`,
  report: {
    methods: {
      vanilla: { alignment: summary(7.5), empathy: summary(4), harmful: summary(0), factuality: summary(1) },
      spri: { alignment: summary(8.25, "*"), empathy: summary(4.5), harmful: summary(0), factuality: summary(1) },
    },
    tests: [{ method: "spri", baseline: "vanilla", criterion: "alignment", n: 2, t: 5.196, df: 1, p: 0.0121 }],
  },
};

describe("viewer API: evaluation reports", () => {
  let dir: string;
  let store: SqliteStore;
  let freshId: string;
  let judgedId: string;
  let plainId: string;
  let app: ReturnType<typeof createApp>["app"];
  const get = (path: string) => app.request(path, { headers: { host: HOST } });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-eval-api-"));
    store = new SqliteStore(join(dir, "spri.db"));
    // A fresh evaluation: the runner judged four cases; the report is its run's artifact.
    const fresh = await store.createRun({
      key: "fresh",
      task: "eval/reappraisal",
      status: "completed",
      settings: { baseUrl: `https://user:${SECRET}@llm.example/v1` },
      inputPath: "/data/judged.jsonl.cases.jsonl",
      outputPath: "/data/judged.jsonl",
      baseModel: "m",
    });
    freshId = fresh.id;
    const judged = (method: string, post: string, alignment: number | null) => ({
      itemId: `${method}/${post}`,
      status: "done" as const,
      record: {
        id: `${method}/${post}`,
        method,
        pair: JSON.stringify([post, "dim1"]),
        eval_alignment: alignment,
        eval_alignment_output: `Score: ${alignment}`,
        eval_empathy: 4,
        eval_harmful: 0,
        eval_factuality: 1,
      },
    });
    await store.setItemStatuses(freshId, [
      judged("vanilla", "p1", 7),
      judged("vanilla", "p2", 8),
      judged("spri", "p1", 8),
      judged("spri", "p2", null),
      { itemId: "spri/p3", status: "failed", reason: "model error" },
    ]);
    await saveEvalReport(store, freshId, REAPPRAISAL);
    // A model-free report (win rate from released annotations): a run of its own, its cases as items.
    judgedId = await recordReportRun(store, {
      task: "eval/win-rate-judged",
      inputPath: "/data/annotations.json",
      settings: {},
      report: {
        kind: "win-rate",
        report: { winRate: 62.5, standardError: 17.1, ci95: [29, 96], n: 4, wins: 2, losses: 1, ties: 1, unscored: 0 },
      },
      cases: ["a", "b", "c", "d"].map((id, i) => ({
        id,
        record: { id, question: `instruction ${id}`, pairwise_preference_b: [1, 1, 0, 0.5][i] },
      })),
    });
    plainId = (await store.createRun({ key: "plain", task: "spri/sft", settings: {}, inputPath: "/q.jsonl", baseModel: "m" })).id;
    app = createApp({ store, access: { host: "127.0.0.1", port: PORT } }).app;
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the report kept with a run, as stored, and the run's detail names its kind", async () => {
    const res = await get(`/api/runs/${freshId}/eval`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as EvalReportResponse;
    assert.equal(body.runId, freshId);
    assert.deepEqual({ ...body, runId: undefined }, { ...REAPPRAISAL, runId: undefined });
    const detail = (await (await get(`/api/runs/${freshId}`)).json()) as RunDetailResponse;
    assert.equal(detail.evalReport, "reappraisal");
    const plain = (await (await get(`/api/runs/${plainId}`)).json()) as RunDetailResponse;
    assert.equal(plain.evalReport, null);
  });

  test("per-case judgements: the kind's columns from each judged item, failed items left out, paged", async () => {
    const body = (await (await get(`/api/runs/${freshId}/eval/cases?limit=3`)).json()) as EvalCasesResponse;
    assert.deepEqual(body.columns, ["method", "case", "alignment", "empathy", "harmful", "factuality"]);
    assert.equal(body.total, 4);
    assert.deepEqual(
      body.rows.map((r) => [r.itemId, ...r.values]),
      [
        ["vanilla/p1", "vanilla", '["p1","dim1"]', 7, 4, 0, 1],
        ["vanilla/p2", "vanilla", '["p2","dim1"]', 8, 4, 0, 1],
        ["spri/p1", "spri", '["p1","dim1"]', 8, 4, 0, 1],
      ],
    );
    const next = (await (await get(`/api/runs/${freshId}/eval/cases?limit=3&offset=3`)).json()) as EvalCasesResponse;
    assert.deepEqual(
      next.rows.map((r) => r.values),
      [["spri", '["p2","dim1"]', null, 4, 0, 1]],
      "an unscored case shows null",
    );
  });

  test("a model-free report: its run is finished and its cases are the items", async () => {
    const report = (await (await get(`/api/runs/${judgedId}/eval`)).json()) as EvalReportResponse;
    assert.equal(report.kind, "win-rate");
    const detail = (await (await get(`/api/runs/${judgedId}`)).json()) as RunDetailResponse;
    assert.equal(detail.run.status, "completed");
    assert.deepEqual(detail.run.counts.done, 4);
    const cases = (await (await get(`/api/runs/${judgedId}/eval/cases`)).json()) as EvalCasesResponse;
    assert.deepEqual(cases.columns, ["question", "preference"]);
    assert.deepEqual(
      cases.rows.map((r) => r.values),
      [
        ["instruction a", 1],
        ["instruction b", 1],
        ["instruction c", 0],
        ["instruction d", 0.5],
      ],
    );
  });

  test("404 for a run without a report or no run; 400 for a bad page; nothing secret in the answers", async () => {
    assert.equal((await get(`/api/runs/${plainId}/eval`)).status, 404);
    assert.equal((await get(`/api/runs/${plainId}/eval/cases`)).status, 404);
    assert.equal((await get("/api/runs/nope/eval")).status, 404);
    assert.equal((await get(`/api/runs/${freshId}/eval/cases?limit=0`)).status, 400);
    for (const path of [`/api/runs/${freshId}`, `/api/runs/${freshId}/eval`, `/api/runs/${freshId}/eval/cases`]) {
      assert.ok(!(await (await get(path)).text()).includes(SECRET), path);
    }
  });
});
