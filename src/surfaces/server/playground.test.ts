/**
 * The playground through the runner, end to end over HTTP: `spri view`'s own setup (cli/playground-setup)
 * against a fake OpenAI-compatible server, a real SQLite store, the app's API and its SSE stream.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { playgroundOptions } from "../cli/playground-setup.ts";
import { restoreCommand } from "../../runtime/runner/recorded-command.ts";
import { resolveSettings } from "../../config/config.ts";
import type { Responder } from "../../models/fake-server/fake-replies.ts";
import type { StoredCall } from "../../runtime/store/run-store.ts";
import { SqliteStore } from "../../runtime/store/sqlite-store.ts";
import { type FakeModelServer, openaiError, openaiText, startFakeModelServer } from "../../test.ts";
import type { ItemDetailResponse, PlaygroundEvent, RunDetailResponse } from "./api-types.ts";
import { createApp } from "./app.ts";

const PORT = 4323;
const HOST = `127.0.0.1:${PORT}`;
const SECRET = "sk-test-PLAYGROUND-5a4b3c";

/** The critic scores everything 5 (one critique per stage); the base answers plainly. */
const answers: Responder = (request) => {
  const model = (request.body as { model?: string } | undefined)?.model;
  return openaiText(model === "critic-m" ? "Feedback: clear and specific. [RESULT] 5" : "1. Be kind.\n2. Be brief.", {
    model,
    promptTokens: 10,
    completionTokens: 5,
  });
};

describe("playground: one question through the runner (cache, retries, tracing)", () => {
  let dir: string;
  let store: SqliteStore;
  let server: FakeModelServer;
  let viewer: ReturnType<typeof createApp>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "spri-playground-"));
    store = new SqliteStore(join(dir, "spri.db"));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    server = await startFakeModelServer({ respond: answers });
    const flags = {
      baseUrl: `${server.url}/v1`,
      baseModel: "base-m",
      criticModel: "critic-m",
      baseApiKey: SECRET,
      criticApiKey: SECRET,
      retryDelay: 0,
    };
    const playground = playgroundOptions(flags, resolveSettings({ flags, env: {}, cwd: dir }));
    assert.ok(playground, "the playground is on");
    viewer = createApp({ store, access: { port: PORT }, playground });
  });
  afterEach(async () => {
    await viewer.playground?.settle();
    await server.close();
  });

  /** Starts a question and reads its events to the end. */
  async function ask(question: string): Promise<{ runId: string; itemId: string; events: PlaygroundEvent[]; text: string }> {
    const res = await viewer.app.request("/api/playground", {
      method: "POST",
      headers: { host: HOST, origin: `http://${HOST}`, "content-type": "application/json" },
      body: JSON.stringify({ question }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { runId, itemId } = (await res.json()) as { runId: string; itemId: string };
    const text = await (await viewer.app.request(`/api/playground/${runId}/events`, { headers: { host: HOST } })).text();
    const events = text
      .split("\n\n")
      .filter(Boolean)
      .map((e) => JSON.parse(e.slice(e.indexOf("data: ") + 6)) as PlaygroundEvent);
    await viewer.playground!.settle();
    return { runId, itemId, events, text };
  }

  const json = async <T>(path: string): Promise<T> => (await (await viewer.app.request(path, { headers: { host: HOST } })).json()) as T;
  const callsOf = async (runId: string, itemId: string) =>
    (await json<{ calls: StoredCall[] }>(`/api/runs/${runId}/items/${itemId}/calls`)).calls;

  test("the run is stored like any other, and the same question again is answered from the call cache", async () => {
    const first = await ask("How do I decline an invitation politely?");
    assert.deepEqual(
      first.events.map((e) => e.type),
      ["start", "call", "call", "call", "call", "done"],
    );
    assert.equal(server.requests.length, 4);
    assert.equal(first.text.includes(SECRET), false);

    const run = await json<RunDetailResponse>(`/api/runs/${first.runId}`);
    assert.equal(run.run.status, "completed");
    assert.equal(run.run.counts.done, 1);
    assert.equal(JSON.stringify(run).includes(SECRET), false);
    const item = await json<ItemDetailResponse>(`/api/runs/${first.runId}/items/${first.itemId}`);
    assert.equal(item.input.question, "How do I decline an invitation politely?");
    assert.equal(item.record?.response_final, "1. Be kind.\n2. Be brief.");
    assert.deepEqual(item.record?.spri_usage, { calls: 4, cached_calls: 0, input_tokens: 40, output_tokens: 20, cost_usd: null });
    const calls = await callsOf(first.runId, first.itemId);
    assert.deepEqual(
      calls.map((c) => [c.role, c.cacheHit, c.parsed?.score ?? null]),
      [
        ["base", false, null],
        ["critic", false, 5],
        ["base", false, null],
        ["critic", false, 5],
      ],
    );
    // What `spri worker` needs to finish the run elsewhere, without the key.
    const command = await store.getArtifact(first.runId, "command");
    assert.ok(command, "the run records its command");
    assert.equal(JSON.stringify(command).includes(SECRET), false);
    const restored = restoreCommand(command, first.runId);
    assert.deepEqual(
      [restored.flags.task, restored.flags.baseModel, restored.flags.criticModel, restored.mapping.questionField],
      ["sft", "base-m", "critic-m", "question"],
    );

    const again = await ask("How do I decline an invitation politely?");
    assert.notEqual(again.runId, first.runId, "a new run");
    assert.equal(again.events.at(-1)?.type, "done");
    assert.equal(server.requests.length, 4, "no new model requests");
    const cached = await callsOf(again.runId, again.itemId);
    assert.deepEqual(
      cached.map((c) => c.cacheHit),
      [true, true, true, true],
    );
    const record = (await json<ItemDetailResponse>(`/api/runs/${again.runId}/items/${again.itemId}`)).record;
    assert.deepEqual(record?.spri_usage, { calls: 4, cached_calls: 4, input_tokens: 0, output_tokens: 0, cost_usd: 0 });
  });

  test("a 429 and a 503 are retried, and the run completes", async () => {
    let refusals = [
      openaiError(429, "Rate limit reached", { type: "rate_limit_error", code: "rate_limit_exceeded", headers: { "retry-after": "0" } }),
      openaiError(503, "overloaded", { type: "server_error" }),
    ];
    server.setResponder((request) => {
      const [refusal, ...rest] = refusals;
      refusals = rest;
      return refusal ?? answers(request);
    });
    const { runId, events } = await ask("Is it rude to leave a party early?");
    assert.equal(events.at(-1)?.type, "done", JSON.stringify(events.at(-1)));
    assert.deepEqual(
      server.requests.map((r) => (r.body as { model?: string }).model),
      ["base-m", "base-m", "base-m", "critic-m", "base-m", "critic-m"],
    );
    assert.equal((await json<RunDetailResponse>(`/api/runs/${runId}`)).run.status, "completed");
  });

  test("a refused key fails the item and the run, with the reason as the last event", async () => {
    server.setResponder(() => openaiError(401, "Incorrect API key provided", { code: "invalid_api_key" }));
    const { runId, itemId, events } = await ask("Should I tip at a buffet?");
    const last = events.at(-1);
    assert.equal(last?.type, "error");
    assert.match(last.type === "error" ? last.message : "", /401/);
    assert.equal(server.requests.length, 1, "not retried");
    const run = await json<RunDetailResponse>(`/api/runs/${runId}`);
    assert.equal(run.run.status, "failed");
    const item = await json<ItemDetailResponse>(`/api/runs/${runId}/items/${itemId}`);
    assert.equal(item.status, "failed");
    assert.match(item.reason ?? "", /401/);
  });
});
