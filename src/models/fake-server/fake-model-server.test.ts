import assert from "node:assert/strict";
import { once } from "node:events";
import { request as httpRequest } from "node:http";
import { describe, test } from "node:test";
import * as spriTest from "../../test.ts";
import { ModelError } from "../../base/errors/errors.ts";
import { ReplayBook, ReplayModel } from "../replay-model.ts";
import { ScriptedModel } from "../scripted-model.ts";
import { answerWith } from "./model-responder.ts";
import { hang, openaiText, type RecordedRequest } from "./fake-replies.ts";
import { type FakeModelServer, startFakeModelServer } from "./fake-model-server.ts";
import { replayResponder } from "./replay-responder.ts";

const chat = (content: string, model = "m") => ({ model, messages: [{ role: "user", content }] });

async function post(server: FakeModelServer, body: unknown, path = "/v1/chat/completions") {
  const response = await fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

/** A responder that waits for `release()`; `called` resolves when the first request reaches it. */
function gate() {
  let release!: () => void;
  let reached!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const called = new Promise<void>((resolve) => (reached = resolve));
  const respond = async (request: RecordedRequest) => {
    reached();
    await released;
    return openaiText(`after ${(request.body as { messages: { content: string }[] }).messages[0]!.content}`);
  };
  return { respond, release, called };
}

describe("the fake model server (spri/test)", () => {
  test("spri/test exports the server, its replies and its responders", () => {
    for (const name of [
      "startFakeModelServer",
      "answerWith",
      "replayResponder",
      "startReplayServer",
      "startFakeBatchServer",
      "startFakeHubServer",
      "fakeHubApi",
      "cutBody",
      "openaiText",
    ]) {
      assert.equal(typeof (spriTest as Record<string, unknown>)[name], "function", name);
    }
  });

  test("answers chat completions through a ScriptedModel, keeps each request and counts it", async () => {
    const model = new ScriptedModel({ rules: [{ when: "hello", reply: "hi there" }] });
    const server = await startFakeModelServer({ respond: answerWith(model) });
    try {
      const answer = await post(server, chat("hello"));
      assert.equal(answer.status, 200);
      assert.equal(answer.body.choices[0].message.content, "hi there");
      assert.equal(answer.body.object, "chat.completion");
      assert.ok(answer.body.usage.total_tokens > 0);
      assert.deepEqual(server.requests[0]?.body, chat("hello"));
      assert.equal(server.requests[0]?.path, "/v1/chat/completions");
      assert.equal(model.requests.length, 1);
      const unmatched = await post(server, chat("something else"));
      assert.equal(unmatched.status, 500);
      assert.match(unmatched.body.error.message, /no rule matches/);
      assert.deepEqual(
        { requests: server.stats.requests, served: server.stats.served, refused: server.stats.refused },
        { requests: 2, served: 1, refused: 0 },
      );
    } finally {
      await server.close();
    }
  });

  test("a model's ModelError comes back as the provider's HTTP error, with Retry-After when it says", async () => {
    const failing = { id: "x", modelId: "x", capabilities: { constrainedOutput: false } } as const;
    const model = {
      ...failing,
      generate: () => Promise.reject(new ModelError("slow down", { kind: "rate-limit", retryAfterSeconds: 3 })),
    };
    const server = await startFakeModelServer({ respond: answerWith(model) });
    try {
      const answer = await post(server, chat("x"));
      assert.equal(answer.status, 429);
      assert.equal(answer.headers.get("retry-after"), "3");
      assert.equal(answer.body.error.message, "slow down");
      server.setResponder(answerWith(new ReplayModel(new ReplayBook())));
      assert.equal((await post(server, chat("unrecorded"))).status, 404);
    } finally {
      await server.close();
    }
  });

  test("over maxInFlight a request is refused at once with 429 and Retry-After; stats count it", async () => {
    const { respond, release, called } = gate();
    const server = await startFakeModelServer({ respond, maxInFlight: 1, retryAfterSeconds: 2 });
    try {
      const first = post(server, chat("one"));
      await called;
      const refused = await post(server, chat("two"));
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get("retry-after"), "2");
      assert.equal(refused.body.error.code, "rate_limit_exceeded");
      release();
      assert.equal((await first).body.choices[0].message.content, "after one");
      assert.deepEqual(
        { ...server.stats, firstAt: typeof server.stats.firstAt, lastAt: typeof server.stats.lastAt, inFlightMs: 0, inFlightBuckets: [] },
        {
          requests: 2,
          served: 1,
          refused: 1,
          duplicates: 0,
          peakInFlight: 2,
          bytesIn: JSON.stringify(chat("one")).length + JSON.stringify(chat("two")).length,
          firstAt: "number",
          lastAt: "number",
          inFlightMs: 0,
          inFlightBuckets: [],
          inFlightBucketMs: 250,
        },
      );
    } finally {
      await server.close();
    }
  });

  test("the time-weighted count in flight: its mean over the window lies between the fewest and most in flight, its buckets sum to it", async () => {
    let arrived = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const server = await startFakeModelServer({ respond: async () => (await released, openaiText("ok")) });
    const bothIn = new Promise<void>((resolve) => {
      server.events.on("request", () => {
        if (++arrived === 2) resolve();
      });
    });
    try {
      const first = post(server, chat("one"));
      const second = post(server, chat("two"));
      await bothIn;
      release();
      await Promise.all([first, second]);
      const { inFlightMs, inFlightBuckets, firstAt, lastAt } = server.stats;
      const window = lastAt! - firstAt!;
      assert.ok(window > 0 && inFlightMs >= window - 1e-6 && inFlightMs <= 2 * window + 1e-6, `${inFlightMs} over ${window} ms`);
      const sum = inFlightBuckets.reduce((a, b) => a + (b ?? 0), 0);
      assert.ok(Math.abs(sum - inFlightMs) < 1e-6, `buckets ${sum} vs ${inFlightMs}`);
    } finally {
      await server.close();
    }
  });

  test("configure sets latency and the cap and resets the counters; a body sent twice is a duplicate", async () => {
    const server = await startFakeModelServer({ keepRequests: false });
    try {
      await post(server, chat("same"));
      await post(server, chat("same"));
      assert.equal(server.stats.duplicates, 1);
      assert.equal(server.requests.length, 0, "keepRequests: false keeps none");
      server.configure({ latencyMs: 40, maxInFlight: 0 });
      assert.equal(server.stats.requests, 0);
      const start = performance.now();
      const answer = await post(server, chat("same"));
      assert.ok(performance.now() - start >= 39, "the answer waited for the latency");
      assert.equal(answer.body.choices[0].message.content, "ok");
      assert.equal(server.stats.duplicates, 0, "the reset forgot the bodies seen");
    } finally {
      await server.close();
    }
  });

  test("close() ends hanging requests, and a second close is harmless", async () => {
    const server = await startFakeModelServer(() => hang());
    const pending = new Promise<string>((resolve) => {
      const req = httpRequest(`${server.url}/v1/chat/completions`, { method: "POST" }, () => resolve("answered"));
      req.on("error", (error) => resolve(error.message));
      req.end("{}");
    });
    while (server.requests.length === 0) await once(server.events, "request");
    await server.close();
    await server.close();
    assert.match(await pending, /socket hang up|ECONNRESET/);
  });

  test("a replay book answers each recording once, routed by model; the rest is a 404 that says why", async () => {
    const book = new ReplayBook([{ prompt: [{ role: "user", content: "q" }], response: "recorded answer" }]);
    const replay = replayResponder({ critic: book });
    const server = await startFakeModelServer({ respond: replay.respond, serial: true });
    try {
      const answer = await post(server, chat("q", "critic"));
      assert.equal(answer.body.choices[0].message.content, "recorded answer");
      assert.equal((await post(server, chat("q", "critic"))).body.error.code, "replay_unmatched");
      assert.match((await post(server, chat("q", "base"))).body.error.message, /no recordings for model "base"/);
      assert.equal((await post(server, "not json")).status, 400);
      assert.deepEqual(replay.stats, { requests: 3, answered: 1, unmatched: 2, rejected: 1 });
      assert.deepEqual(
        replay.unmatched.map((r) => r.index),
        [1, 2],
      );
    } finally {
      await server.close();
    }
  });
});
