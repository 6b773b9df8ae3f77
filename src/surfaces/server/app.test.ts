import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { resolveSettings } from "../../config/config.ts";
import { ConfigError } from "../../base/errors/errors.ts";
import type { ItemRecord } from "../../io/records.ts";
import { ScriptedModel } from "../../models/scripted-model.ts";
import type { StoredCall } from "../../runtime/store/run-store.ts";
import { SqliteStore } from "../../runtime/store/sqlite-store.ts";
import { type PreparedTask, prepareTask } from "../../presets/tasks/prepare.ts";
import type { SpriModels } from "../../algorithms/contract/item-algorithm.ts";
import { PriceTable } from "../../runtime/runner/cost.ts";
import type { WorkerRun } from "../../runtime/runner/worker.ts";
import type {
  ConstitutionResponse,
  ItemDetailResponse,
  ItemListResponse,
  JudgeReportResponse,
  RunDetailResponse,
  RunListResponse,
  RunStatsResponse,
} from "./api-types.ts";
import { createApp, MAX_BODY_BYTES } from "./app.ts";
import type { PlaygroundOptions } from "./playground.ts";

const PORT = 4321;
const HOST = `127.0.0.1:${PORT}`;
const SECRET = "sk-test-SECRET-9f8e7d";

function record(id: string, question: string, scores: (number | null)[]): ItemRecord {
  const r: ItemRecord = {
    id,
    prompt: question,
    principle_raw: "1. Be kind.",
    principle_raw_prompt: [{ role: "user", content: "write principles" }],
    iteration_principle: scores.length,
    principle_final: "1. Be specific.\n2. Be kind.",
    principles_critique_iter_1: "Feedback: too vague. [RESULT] 3",
    principle_refined_iter_1: "1. Be specific.\n2. Be kind.",
  };
  if (scores.length > 1) r.principles_critique_iter_2 = "Feedback: clear. [RESULT] 5";
  r.init_response = "Here is an answer.";
  r.iteration_response = 1;
  r.response_final = "Here is an answer.";
  r.response_critique_iter_1 = "Feedback: fine. [RESULT] 5";
  r.principles_critique_scores = scores;
  r.response_critique_scores = [5];
  r.spri_usage = { calls: 6, cached_calls: 0, input_tokens: 60, output_tokens: 30, cost_usd: 0 };
  return r;
}

function call(
  runId: string,
  itemId: string,
  step: string,
  iteration: number,
  score?: number,
  endpoint = "openai-compatible:http://127.0.0.1:1/v1#m",
): StoredCall {
  return {
    runId,
    itemId,
    step,
    iteration,
    attempt: 0,
    role: step.endsWith("critique") ? "critic" : "base",
    model: "m",
    endpoint,
    request: { messages: [{ role: "user", content: `ask ${step}` }], sampling: { temperature: 0.7 } },
    response: `answer to ${step}`,
    ...(score === undefined ? {} : { parsed: { score, marker: null } }),
    usage: { inputTokens: 10, outputTokens: 5 },
    latencyMs: 12,
    cacheHit: false,
    startedAt: "2026-01-01T10:00:00.000Z",
    costUsd: 0.001,
  };
}

/** A playground run of scripted models with the runner's defaults: cache on, no budget, no retries. */
function scriptedRun(prepared: PreparedTask, models: SpriModels): WorkerRun {
  return { prepared, models, idField: "id", cacheMode: "use", prices: new PriceTable(), budget: {}, close: async () => {} };
}

function get(
  app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> },
  path: string,
  headers: Record<string, string> = {},
) {
  return app.request(path, { headers: { host: HOST, ...headers } });
}

/** The stream's text up to its `count`-th event named `name`, with only the events of that name. */
async function readFirstEvents(response: Response, count: number, name = "progress"): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  // Complete events only: the text after the last blank line may be cut mid-event.
  const named = () =>
    text
      .split("\n\n")
      .slice(0, -1)
      .filter((e) => e.startsWith(`event: ${name}\n`));
  while (named().length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  await reader.cancel();
  return named().join("\n\n");
}

describe("viewer API (app.request, no port)", () => {
  let dir: string;
  let store: SqliteStore;
  let runId: string;
  let runningId: string;
  let judgeId: string;
  let webDir: string;
  let app: ReturnType<typeof createApp>["app"];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-server-"));
    store = new SqliteStore(join(dir, "spri.db"));
    const run = await store.createRun({
      key: "k1",
      task: "spri/sft",
      settings: {
        baseModel: "m",
        apiKey: SECRET,
        baseUrl: `https://user:${SECRET}@llm.example/v1`,
        nested: { authorization: `Bearer ${SECRET}` },
      },
      inputPath: "/data/in.jsonl",
      outputPath: "/data/out.jsonl",
      baseModel: "openai-compatible:http://127.0.0.1:1/v1#m",
      criticModel: "openai-compatible:http://127.0.0.1:1/v1#c",
      createdAt: "2026-01-01T10:00:00.000Z",
    });
    runId = run.id;
    await store.setItemStatuses(runId, [
      { itemId: "a", status: "done", record: record("a", "What is kindness?", [3, 5]) },
      { itemId: "b", status: "done", record: record("b", "<script>window.__pwned=1</script>", [5]) },
      { itemId: "c", status: "failed", reason: "model error: timeout" },
      { itemId: "d/e", status: "done", record: record("d/e", "slash id", [3, 5]) },
      { itemId: "f", status: "pending" },
    ]);
    await store.recordCalls([
      call(runId, "a", "principle.generate", 0),
      call(runId, "a", "principle.critique", 1, 3),
      call(runId, "a", "principle.refine", 1),
      call(runId, "a", "principle.critique", 2, 5, `openai-compatible:https://user:${SECRET}@llm.example/v1?api_key=${SECRET}#c`),
    ]);
    await store.updateRun(runId, { status: "completed" });
    runningId = (await store.createRun({ key: "k2", task: "spri/sft", settings: {}, inputPath: "/x", baseModel: "m" })).id;
    await store.setItemStatus(runningId, "1", "pending");
    judgeId = (await store.createRun({ key: "k3", task: "judge/spri", settings: {}, inputPath: "/j", baseModel: "m" })).id;
    const judged: [string, number, number][] = [
      ["reasoning", 1, 2],
      ["reasoning", 3, 3],
      ["reasoning", 5, 4],
      ["safety", 2, 2],
      ["safety", 4, 5],
      ["safety", 5, 5],
    ];
    await store.setItemStatuses(
      judgeId,
      judged.map(([capability, human, judge], i) => ({
        itemId: `j${i}`,
        status: "done" as const,
        record: {
          id: `j${i}`,
          capability,
          human_score: human,
          "response_final-[score]": judge,
          principle_raw: "rubric",
          iteration_principle: 1,
          principle_final: "rubric",
        },
      })),
    );
    await store.updateRun(judgeId, { status: "completed" });

    webDir = join(dir, "web");
    mkdirSync(join(webDir, "assets"), { recursive: true });
    writeFileSync(join(webDir, "index.html"), "<!doctype html><title>viewer</title>");
    writeFileSync(join(webDir, "assets", "app.js"), "console.log(1)");
    writeFileSync(join(dir, "secret.txt"), "TOP SECRET FILE");
    symlinkSync(join(dir, "secret.txt"), join(webDir, "assets", "link.js"));
    app = createApp({ store, access: { port: PORT }, webDir, pollMs: 20 }).app;
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("lists runs newest first, with counts, usage and duration; pages with limit/offset", async () => {
    const res = await get(app, "/api/runs");
    assert.equal(res.status, 200);
    const body = (await res.json()) as RunListResponse;
    assert.equal(body.runs.length, 3);
    const run = body.runs.find((r) => r.id === runId)!;
    assert.deepEqual(run.counts, { pending: 1, done: 3, failed: 1, total: 5 });
    assert.equal(run.usage.calls, 4);
    assert.equal(run.usage.inputTokens, 40);
    assert.ok(run.durationMs > 0);
    assert.equal("settings" in run, false);
    const page = (await (await get(app, "/api/runs?limit=1&offset=1")).json()) as RunListResponse;
    assert.equal(page.runs.length, 1);
    assert.equal(page.hasMore, true);
    assert.equal(page.runs[0]!.id, body.runs[1]!.id);
    assert.equal((await get(app, "/api/runs?limit=0")).status, 400);
    assert.equal((await get(app, "/api/runs?limit=abc")).status, 400);
  });

  test("one run, with redacted settings; 404 for an unknown run", async () => {
    const res = await get(app, `/api/runs/${runId}`);
    const body = (await res.json()) as RunDetailResponse;
    assert.equal(body.run.task, "spri/sft");
    assert.equal(body.run.settings.apiKey, "[redacted]");
    assert.equal((await get(app, "/api/runs/nope")).status, 404);
    assert.equal((await get(app, "/api/runs/nope/items")).status, 404);
  });

  test("items: paged, filtered by status, sorted; total follows the filter; bad parameters are 400", async () => {
    const all = (await (await get(app, `/api/runs/${runId}/items?limit=2`)).json()) as ItemListResponse;
    assert.deepEqual(
      all.items.map((i) => i.itemId),
      ["a", "b"],
    );
    assert.equal(all.total, 5);
    const a = all.items[0]!;
    assert.equal(a.question, "What is kindness?");
    assert.deepEqual(a.principleScores, [3, 5]);
    assert.equal(a.principleIterations, 2);
    assert.equal(a.calls, 6);
    const next = (await (await get(app, `/api/runs/${runId}/items?limit=2&offset=2`)).json()) as ItemListResponse;
    assert.deepEqual(
      next.items.map((i) => i.itemId),
      ["c", "d/e"],
    );
    assert.equal(next.items[0]!.reason, "model error: timeout");
    const failed = (await (await get(app, `/api/runs/${runId}/items?status=failed`)).json()) as ItemListResponse;
    assert.deepEqual(
      failed.items.map((i) => i.itemId),
      ["c"],
    );
    assert.equal(failed.total, 1);
    const desc = (await (await get(app, `/api/runs/${runId}/items?sort=-id`)).json()) as ItemListResponse;
    assert.deepEqual(
      desc.items.map((i) => i.itemId),
      ["f", "d/e", "c", "b", "a"],
    );
    const doneDesc = (await (await get(app, `/api/runs/${runId}/items?sort=-seq&status=done`)).json()) as ItemListResponse;
    assert.deepEqual(
      doneDesc.items.map((i) => i.itemId),
      ["d/e", "b", "a"],
    );
    assert.equal((await get(app, `/api/runs/${runId}/items?status=weird`)).status, 400);
    assert.equal((await get(app, `/api/runs/${runId}/items?sort=record`)).status, 400);
    assert.equal((await get(app, `/api/runs/${runId}/items?limit=100000`)).status, 400);
  });

  test("an item: input, principle iterations with critic scores, response, other fields; ids with slashes", async () => {
    const res = await get(app, `/api/runs/${runId}/items/a`);
    assert.equal(res.status, 200);
    const item = (await res.json()) as ItemDetailResponse;
    assert.deepEqual(item.input, { id: "a", prompt: "What is kindness?" });
    const principles = item.stages.find((s) => s.name === "principles")!;
    assert.deepEqual(
      principles.steps.map((s) => [s.kind, s.iteration, s.score]),
      [
        ["draft", 0, undefined],
        ["critique", 1, 3],
        ["refined", 1, undefined],
        ["critique", 2, 5],
      ],
    );
    assert.equal(principles.final, "1. Be specific.\n2. Be kind.");
    assert.equal(principles.iterations, 2);
    const response = item.stages.find((s) => s.name === "response")!;
    assert.deepEqual(
      response.steps.map((s) => s.kind),
      ["draft", "critique"],
    );
    assert.ok("spri_usage" in item.other);
    assert.equal("principle_raw_prompt" in item.input, false);
    const slash = await get(app, `/api/runs/${runId}/items/${encodeURIComponent("d/e")}`);
    assert.equal(slash.status, 200);
    assert.equal(((await slash.json()) as ItemDetailResponse).itemId, "d/e");
    const failed = (await (await get(app, `/api/runs/${runId}/items/c`)).json()) as ItemDetailResponse;
    assert.equal(failed.reason, "model error: timeout");
    assert.deepEqual(failed.stages, []);
    assert.equal((await get(app, `/api/runs/${runId}/items/zzz`)).status, 404);
  });

  test("an item's calls, in order, with messages, output, tokens, latency and cache hit", async () => {
    const res = await get(app, `/api/runs/${runId}/items/a/calls`);
    const body = (await res.json()) as { calls: StoredCall[] };
    assert.deepEqual(
      body.calls.map((c) => c.step),
      ["principle.generate", "principle.critique", "principle.refine", "principle.critique"],
    );
    assert.equal(body.calls[1]!.parsed?.score, 3);
    assert.equal(body.calls[0]!.request.messages[0]!.content, "ask principle.generate");
    assert.equal(body.calls[0]!.cacheHit, false);
    assert.equal(body.calls[0]!.latencyMs, 12);
    assert.equal((await get(app, `/api/runs/${runId}/items/zzz/calls`)).status, 404);
  });

  test("stats: score distribution per iteration, iterations needed, failures, steps, timeline", async () => {
    const stats = (await (await get(app, `/api/runs/${runId}/stats`)).json()) as RunStatsResponse;
    assert.deepEqual(
      stats.critiqueScores.filter((r) => r.stage === "principles").map((r) => [r.iteration, r.score, r.count]),
      [
        [1, 3, 2],
        [1, 5, 1],
        [2, 5, 2],
      ],
    );
    assert.deepEqual(
      stats.iterations.filter((r) => r.stage === "principles").map((r) => [r.iterations, r.items]),
      [
        [1, 1],
        [2, 2],
      ],
    );
    assert.deepEqual(stats.failures, [{ reason: "model error: timeout", count: 1 }]);
    assert.deepEqual(
      stats.steps.map((s) => [s.step, s.calls]),
      [
        ["principle.generate", 1],
        ["principle.critique", 2],
        ["principle.refine", 1],
      ],
    );
    assert.deepEqual(
      stats.timeline.map((t) => [t.minute, t.calls]),
      [["2026-01-01T10:00", 4]],
    );
  });

  test("judge runs: correlation per group and scatter points from the records", async () => {
    const report = (await (await get(app, `/api/runs/${judgeId}/judge`)).json()) as JudgeReportResponse;
    assert.equal(report.n, 6);
    assert.deepEqual(
      report.groups.map((g) => [g.name, g.n]),
      [
        ["reasoning", 3],
        ["safety", 3],
      ],
    );
    assert.ok(report.groups[0]!.pearson !== null && report.groups[0]!.pearson > 0.9);
    assert.equal(report.points.length, 6);
    assert.equal((await get(app, `/api/runs/${runId}/judge`)).status, 404, "only judge runs have a judge report");
  });

  test("discovery runs: the constitution artifact and its map; 404 without one", async () => {
    const discovery = await store.createRun({
      key: "k4",
      task: "discover/cluster",
      status: "completed",
      settings: {},
      inputPath: "/p.jsonl",
      outputPath: "/c.json",
      baseModel: "file:/v.jsonl",
    });
    assert.equal((await get(app, `/api/runs/${discovery.id}/constitution`)).status, 404, "no artifact yet");
    const constitution = {
      format: "spri-constitution",
      version: 1,
      principles: [
        { id: "c1", text: "Be concise.", size: 3, uniqueMembers: 2, members: ["Keep it short."] },
        { id: "c2", text: "<b>Cite</b> sources.", size: 1, uniqueMembers: 1, members: [] },
      ],
      source: { embeddings: { source: "openai", model: "e", url: `https://user:${SECRET}@llm.example/v1` } },
    };
    const map = [
      { x: 1, y: 0, cluster: "c1", text: "Be concise." },
      { x: 0.9, y: 0.1, cluster: "c1", text: "Keep it short." },
      { x: -1, y: 0, cluster: "c2", text: "<b>Cite</b> sources." },
    ];
    await store.putArtifact(discovery.id, "constitution", { constitution, map });
    const res = await get(app, `/api/runs/${discovery.id}/constitution`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(!text.includes(SECRET), "credentials are scrubbed");
    const body = JSON.parse(text) as ConstitutionResponse;
    assert.equal(body.runId, discovery.id);
    assert.deepEqual(body.constitution.principles, constitution.principles);
    assert.deepEqual(body.map, map);
    assert.equal((await get(app, `/api/runs/${runId}/constitution`)).status, 404, "other runs have none");
    assert.equal((await get(app, "/api/runs/nope/constitution")).status, 404);
  });

  test("events: a finished run sends one progress snapshot, then end", async () => {
    const res = await get(app, `/api/runs/${runId}/events`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const text = await res.text();
    assert.match(text, /^event: progress\ndata: \{.*"status":"completed".*\}\n\n/);
    assert.match(text, /event: end\ndata: completed\n\n$/);
  });

  test("events: a running run streams progress snapshots as they change", async () => {
    const res = await get(app, `/api/runs/${runningId}/events`);
    const pending = readFirstEvents(res, 2);
    await new Promise((r) => setTimeout(r, 60));
    await store.setItemStatus(runningId, "1", "done");
    const text = await pending;
    const events = text
      .split("\n\n")
      .filter(Boolean)
      .map((e) => JSON.parse(e.split("data: ")[1]!) as { counts: { done: number } });
    assert.equal(events[0]!.counts.done, 0);
    assert.equal(events[1]!.counts.done, 1);
    assert.equal((await get(app, "/api/runs/nope/events")).status, 404);
  });

  describe("Host, Origin and token checks", () => {
    test("a foreign Host is refused with 403 (DNS rebinding), also for pages", async () => {
      for (const host of [
        "evil.example",
        `evil.example:${PORT}`,
        "127.0.0.1:9999",
        "127.0.0.1",
        `localhost.evil.example:${PORT}`,
        `127.0.0.1:${PORT}@evil`,
      ]) {
        const res = await app.request("/api/runs", { headers: { host } });
        assert.equal(res.status, 403, host);
        assert.equal((await app.request("/", { headers: { host } })).status, 403, host);
      }
      for (const host of [`127.0.0.1:${PORT}`, `localhost:${PORT}`, `[::1]:${PORT}`, `LOCALHOST:${PORT}`]) {
        assert.equal((await app.request("/api/runs", { headers: { host } })).status, 200, host);
      }
    });

    test("a foreign Origin is refused with 403; the server's own origin is fine", async () => {
      for (const origin of [
        "https://evil.example",
        "http://evil.example",
        `http://localhost:${PORT + 1}`,
        "null",
        `https://127.0.0.1:${PORT}`,
      ]) {
        assert.equal((await get(app, "/api/runs", { origin })).status, 403, origin);
      }
      assert.equal((await get(app, "/api/runs", { origin: `http://${HOST}` })).status, 200);
      assert.equal((await get(app, "/api/runs", { "sec-fetch-site": "cross-site" })).status, 403);
    });

    test("binding beyond loopback needs a token, sent as header, bearer or cookie; ?token= sets the cookie", async () => {
      assert.throws(() => createApp({ store, access: { host: "0.0.0.0", port: PORT } }), /token/);
      const token = "t0ken-abc-0123456789";
      const open = createApp({ store, access: { host: "0.0.0.0", port: PORT, token }, webDir }).app;
      const lan = { host: `192.168.1.20:${PORT}` };
      assert.equal((await open.request("/api/runs", { headers: lan })).status, 401);
      assert.equal((await open.request("/api/runs", { headers: { ...lan, "x-spri-token": "wrong" } })).status, 401);
      assert.equal((await open.request("/api/runs", { headers: { ...lan, "x-spri-token": token } })).status, 200);
      assert.equal((await open.request("/api/runs", { headers: { ...lan, authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await open.request("/api/runs", { headers: { ...lan, cookie: `other=1; spri_token=${token}` } })).status, 200);
      const page = await open.request(`/runs/x?token=${token}`, { headers: lan });
      assert.equal(page.status, 303);
      assert.equal(page.headers.get("location"), "/runs/x");
      assert.match(page.headers.get("set-cookie") ?? "", /^spri_token=t0ken-abc-0123456789; Path=\/; HttpOnly; SameSite=Strict/);
      assert.equal((await open.request("/?token=wrong", { headers: lan })).status, 401);
      assert.equal(
        (await open.request("/api/runs", { headers: { ...lan, "x-spri-token": token, origin: "http://evil.example" } })).status,
        403,
      );
      const bound = createApp({ store, access: { host: "10.0.0.5", port: PORT, token }, webDir }).app;
      assert.equal((await bound.request("/api/runs", { headers: { host: `10.0.0.5:${PORT}`, "x-spri-token": token } })).status, 200);
      assert.equal((await bound.request("/api/runs", { headers: { host: `evil.example:${PORT}`, "x-spri-token": token } })).status, 403);
    });

    test("a weak token is refused with a message that says what to do, bound anywhere", async () => {
      for (const token of ["x", "a".repeat(15)]) {
        for (const host of ["0.0.0.0", "127.0.0.1"]) {
          assert.throws(
            () => createApp({ store, access: { host, port: PORT, token } }),
            (error: unknown) => {
              assert.ok(error instanceof ConfigError, String(error));
              assert.equal(error.field, "token");
              assert.match(error.describe(), /too short.*at least 16 characters.*leave --token out/);
              return true;
            },
            `${host} ${token}`,
          );
        }
      }
      assert.doesNotThrow(() => createApp({ store, access: { host: "0.0.0.0", port: PORT, token: "a".repeat(16) } }));
    });
  });

  test("no response carries a credential", async () => {
    const paths = [
      "/api/runs",
      `/api/runs/${runId}`,
      `/api/runs/${runId}/items`,
      `/api/runs/${runId}/items/a`,
      `/api/runs/${runId}/items/a/calls`,
      `/api/runs/${runId}/stats`,
      `/api/runs/${runId}/events`,
      "/api/info",
    ];
    for (const path of paths) {
      const text = await (await get(app, path)).text();
      assert.equal(text.includes(SECRET), false, `${path} leaks a key: ${text.slice(0, 300)}`);
    }
    const detail = (await (await get(app, `/api/runs/${runId}`)).json()) as RunDetailResponse;
    assert.equal(detail.run.settings.baseUrl, "https://[redacted]@llm.example/v1");
  });

  describe("static files: only the built app", () => {
    test("the app, its assets, and index.html for the app's own routes, with a CSP", async () => {
      const index = await get(app, "/");
      assert.equal(index.status, 200);
      assert.match(await index.text(), /<title>viewer<\/title>/);
      assert.match(index.headers.get("content-security-policy") ?? "", /script-src 'self'/);
      assert.equal(index.headers.get("x-content-type-options"), "nosniff");
      assert.equal(await (await get(app, "/assets/app.js")).text(), "console.log(1)");
      assert.match(await (await get(app, `/runs/${runId}/items/a`)).text(), /<title>viewer/);
      assert.equal((await get(app, "/assets/missing.js")).status, 404);
      assert.equal((await get(app, "/api/unknown")).status, 404);
    });

    test("path traversal and symlinks out of the app's folder are refused", async () => {
      for (const path of [
        "/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/assets/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/assets/..%5c..%5csecret.txt",
        "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/assets/link.js",
        "/%00.js",
        "/%E0%A4%A.js",
      ]) {
        const res = await get(app, path);
        const text = await res.text();
        assert.ok(res.status === 400 || res.status === 404, `${path}: ${res.status}`);
        assert.equal(text.includes("TOP SECRET"), false, path);
      }
    });
  });

  describe("playground", () => {
    let playgroundApp: ReturnType<typeof createApp>;
    before(() => {
      const critiqued = new Set<string>();
      const critic = new ScriptedModel({
        modelId: "critic",
        fallback: (request) => {
          const text = request.messages.map((m) => m.content).join("\n");
          const principles = /Principles to review/.test(text);
          const first = principles && !critiqued.has("x");
          if (principles) critiqued.add("x");
          return first ? "Feedback: too vague. [RESULT] 3" : "Feedback: clear and specific. [RESULT] 5";
        },
      });
      const base = new ScriptedModel({
        modelId: "base",
        fallback: (request) => {
          const system = request.messages[0]?.content ?? "";
          if (system.startsWith("You improve a set of guiding principles")) return "1. Be specific.\n2. Be kind.";
          if (system.startsWith("You write guiding principles")) return "1. Be kind.";
          return "Here is <b>an</b> answer.";
        },
      });
      const options: PlaygroundOptions = {
        info: {
          tasks: ["sft", "reappraisal", "rubric"],
          defaults: { task: "sft", baseModel: "base", criticModel: "critic", threshold: 4, maxCritiques: 4 },
        },
        factory: async (choice) => {
          const settings = resolveSettings({
            flags: { task: choice.task, threshold: choice.threshold, maxCritiques: choice.maxCritiques },
            env: {},
          }).settings;
          return { run: scriptedRun(prepareTask(settings), { base, critic }), settings: { task: choice.task, apiKey: SECRET } };
        },
      };
      playgroundApp = createApp({ store, access: { port: PORT }, webDir, playground: options });
    });

    const post = (body: unknown, headers: Record<string, string> = {}) =>
      playgroundApp.app.request("/api/playground", {
        method: "POST",
        headers: { host: HOST, "content-type": "application/json", origin: `http://${HOST}`, ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });

    test("runs one question step by step, streams every call, and saves it as a run", async () => {
      const res = await post({ question: "How do I say no kindly?", threshold: 4, maxCritiques: 3 });
      assert.equal(res.status, 201);
      const { runId: id, itemId } = (await res.json()) as { runId: string; itemId: string };
      const stream = await playgroundApp.app.request(`/api/playground/${id}/events`, { headers: { host: HOST } });
      const text = await stream.text();
      const events = text
        .split("\n\n")
        .filter(Boolean)
        .map((e) => JSON.parse(e.slice(e.indexOf("data: ") + 6)) as { type: string; step?: string; score?: number });
      assert.deepEqual(
        events.map((e) => e.type),
        ["start", "call", "call", "call", "call", "call", "call", "done"],
      );
      assert.deepEqual(
        events.filter((e) => e.step?.endsWith("critique")).map((e) => e.score),
        [3, 5, 5],
      );
      await playgroundApp.playground!.settle();
      const run = (await (await get(playgroundApp.app, `/api/runs/${id}`)).json()) as RunDetailResponse;
      assert.equal(run.run.status, "completed");
      assert.equal(run.run.counts.done, 1);
      assert.equal(run.run.settings.apiKey, "[redacted]");
      assert.equal(text.includes(SECRET), false);
      const item = (await (await get(playgroundApp.app, `/api/runs/${id}/items/${itemId}`)).json()) as ItemDetailResponse;
      assert.equal(item.input.question, "How do I say no kindly?");
      assert.deepEqual(item.stages[0]!.scores, [3, 5]);
      const calls = (await (await get(playgroundApp.app, `/api/runs/${id}/items/${itemId}/calls`)).json()) as { calls: StoredCall[] };
      assert.equal(calls.calls.length, 6);
      assert.deepEqual(
        calls.calls.filter((c) => c.parsed).map((c) => c.parsed!.score),
        [3, 5, 5],
      );
    });

    test("a body over the limit is refused with 413 before it is read, with or without a Content-Length", async () => {
      const big = JSON.stringify({ question: "x".repeat(MAX_BODY_BYTES) });
      const sized = await post(big, { "content-length": String(Buffer.byteLength(big)) });
      assert.equal(sized.status, 413);
      assert.match(((await sized.json()) as { error: string }).error, /larger than 1 MiB/);
      const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
      let sent = 0;
      // A chunked body (no Content-Length) that would go on for ever: the server stops reading it.
      const endless = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      const streamed = await playgroundApp.app.request("/api/playground", {
        method: "POST",
        headers: { host: HOST, "content-type": "application/json", origin: `http://${HOST}` },
        body: endless,
        duplex: "half",
      } as RequestInit);
      assert.equal(streamed.status, 413);
      assert.ok(sent <= MAX_BODY_BYTES + 4 * chunk.length, `read ${sent} bytes`);
      assert.equal((await post({ question: "small enough" })).status, 201);
      await playgroundApp.playground!.settle();
    });

    test("a playground run has this process as its worker while it runs, so it never shows as interrupted", async () => {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const slow = new ScriptedModel({ modelId: "slow", fallback: () => "Feedback: fine. [RESULT] 5" });
      const gated = Object.assign(Object.create(slow) as ScriptedModel, {
        generate: async (request: Parameters<ScriptedModel["generate"]>[0]) => (await gate, slow.generate(request)),
      });
      const options: PlaygroundOptions = {
        info: { tasks: ["sft"], defaults: { task: "sft", threshold: 4, maxCritiques: 1 } },
        factory: async (choice) => ({
          run: scriptedRun(prepareTask(resolveSettings({ flags: { task: choice.task, maxCritiques: 1 }, env: {} }).settings), {
            base: gated,
            critic: gated,
          }),
          settings: {},
        }),
      };
      const viewer = createApp({ store, access: { port: PORT }, webDir, playground: options });
      const res = await viewer.app.request("/api/playground", {
        method: "POST",
        headers: { host: HOST, "content-type": "application/json", origin: `http://${HOST}` },
        body: JSON.stringify({ question: "Slow?" }),
      });
      const { runId: id } = (await res.json()) as { runId: string };
      const during = (await (await get(viewer.app, `/api/runs/${id}/workers`)).json()) as {
        status: string;
        workers: { pid: number; status: string }[];
      };
      assert.equal(during.status, "running");
      assert.deepEqual(
        during.workers.map((w) => [w.pid, w.status]),
        [[process.pid, "active"]],
      );
      open();
      await viewer.playground!.settle();
      const ended = (await (await get(viewer.app, `/api/runs/${id}/workers`)).json()) as { status: string; workers: { status: string }[] };
      assert.deepEqual([ended.status, ended.workers.map((w) => w.status)], ["completed", ["stopped"]]);
    });

    test("bad requests are refused: no question, bad τ, unknown task, a file as model, not JSON, a foreign Origin", async () => {
      assert.equal((await post({})).status, 400);
      assert.equal((await post({ question: "q", threshold: 9 })).status, 400);
      assert.equal((await post({ question: "q", maxCritiques: 1.5 })).status, 400);
      assert.equal((await post({ question: "q", task: "nope" })).status, 400);
      assert.equal((await post({ question: "q", baseModel: "/etc/passwd.gguf" })).status, 400);
      assert.equal((await post("not json")).status, 400);
      assert.equal((await post({ question: "q" }, { "content-type": "text/plain" })).status, 415);
      assert.equal((await post({ question: "q" }, { origin: "https://evil.example" })).status, 403);
      assert.equal(
        (await app.request("/api/playground", { method: "POST", headers: { host: HOST, "content-type": "application/json" }, body: "{}" }))
          .status,
        404,
        "off unless configured",
      );
      assert.equal((await playgroundApp.app.request("/api/playground/unknown/events", { headers: { host: HOST } })).status, 404);
    });
  });
});

describe("item ids with dots, percent signs and other URL characters", () => {
  const IDS = ["q1.json", "v1.2.3", "index.html", "a%2Fb", "50%", "what?", "#7", "a b", "é.txt"];
  let dir: string;
  let store: SqliteStore;
  let runId: string;
  let app: ReturnType<typeof createApp>["app"];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "spri-server-ids-"));
    store = new SqliteStore(join(dir, "spri.db"));
    runId = (await store.createRun({ key: "ids", task: "spri/sft", settings: {}, inputPath: "/x", baseModel: "m" })).id;
    await store.setItemStatuses(
      runId,
      IDS.map((id) => ({ itemId: id, status: "done" as const, record: record(id, `question ${id}`, [5]) })),
    );
    const webDir = join(dir, "web");
    mkdirSync(join(webDir, "assets"), { recursive: true });
    writeFileSync(join(webDir, "index.html"), "<!doctype html><title>viewer</title>");
    app = createApp({ store, access: { port: PORT }, webDir }).app;
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the item API and its calls answer for each id, encoded as the viewer encodes it", async () => {
    for (const id of IDS) {
      const res = await get(app, `/api/runs/${runId}/items/${encodeURIComponent(id)}`);
      assert.equal(res.status, 200, id);
      assert.equal(((await res.json()) as ItemDetailResponse).itemId, id);
      assert.equal((await get(app, `/api/runs/${runId}/items/${encodeURIComponent(id)}/calls`)).status, 200, id);
    }
  });

  test("the item's page loads the app (a reload or a shared link), whatever the id looks like", async () => {
    for (const id of IDS) {
      const res = await get(app, `/runs/${runId}/items/${encodeURIComponent(id)}`);
      assert.equal(res.status, 200, id);
      assert.match(await res.text(), /<title>viewer<\/title>/, id);
    }
    assert.equal((await get(app, "/assets/missing.js")).status, 404);
    assert.equal((await get(app, "/missing.js")).status, 404);
  });
});
