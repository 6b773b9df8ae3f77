import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type FakeModelServer, startFakeModelServer } from "./fake-server/fake-model-server.ts";
import { hang, json, raw, streamBody } from "./fake-server/fake-replies.ts";
import { Agent } from "undici";
import { createDispatcher, postJson, TransportError } from "./http-post.ts";

/**
 * A forward proxy stand-in on 127.0.0.1: it answers every request itself and says which target it
 * was asked for (a proxied request names the whole URL; a direct one only the path).
 */
function recorder(name: string): Promise<FakeModelServer> {
  return startFakeModelServer((request) => json(200, { answeredBy: name, target: request.path }));
}

const MIB = 1024 * 1024;
const OPTIONS = { headers: { "content-type": "application/json" }, timeoutMs: 5_000 };

describe("postJson and its dispatcher", () => {
  let proxy: FakeModelServer;
  let local: FakeModelServer;
  before(async () => {
    proxy = await recorder("proxy");
    local = await recorder("local");
  });
  after(async () => {
    await proxy.close();
    await local.close();
  });

  test("HTTP_PROXY carries calls to a remote host through the proxy", async () => {
    const dispatcher = createDispatcher({ HTTP_PROXY: proxy.url });
    const answer = await postJson("http://models.example.test/v1/chat/completions", "{}", { ...OPTIONS, dispatcher });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.text), { answeredBy: "proxy", target: "http://models.example.test/v1/chat/completions" });
    await dispatcher.close();
  });

  test("loopback servers stay direct even when a proxy is set and NO_PROXY does not name them", async () => {
    const dispatcher = createDispatcher({ HTTP_PROXY: proxy.url, NO_PROXY: "internal.example" });
    const before = proxy.requests.length;
    const answer = await postJson(`${local.url}/v1/chat/completions`, "{}", { ...OPTIONS, dispatcher });
    assert.equal(JSON.parse(answer.text).answeredBy, "local");
    assert.equal(proxy.requests.length, before);
    await dispatcher.close();
  });

  test("error statuses resolve with their body; only transport failures reject", async () => {
    const server = await startFakeModelServer(() => raw(503, "overloaded", "text/plain", { "retry-after": "7" }));
    const url = `${server.url}/x`;
    const answer = await postJson(url, "{}", OPTIONS);
    assert.equal(answer.status, 503);
    assert.equal(answer.text, "overloaded");
    assert.equal(answer.headers["retry-after"], "7");
    await server.close();

    const failure = await postJson(url, "{}", OPTIONS).catch((error: unknown) => error);
    assert.ok(failure instanceof TransportError);
    assert.equal(failure.failure, "network");
  });

  test("a body over maxBodyBytes fails as too-large, announced or not, without reading the rest", async () => {
    // Announced: a length over the limit. Endless: chunked, and only the client going away stops it.
    const server = await startFakeModelServer((request) =>
      request.path === "/announced" ? raw(200, "x".repeat(2 * MIB)) : streamBody("x".repeat(64 * 1024)),
    );
    const base = server.url;
    for (const path of ["/announced", "/endless"]) {
      const failure = await postJson(`${base}${path}`, "{}", { ...OPTIONS, maxBodyBytes: MIB }).catch((error: unknown) => error);
      assert.ok(failure instanceof TransportError, `${path}: ${String(failure)}`);
      assert.equal(failure.failure, "too-large", path);
      assert.match(failure.message, /1 MiB/);
    }
    const written = server.streamedBytes;
    assert.ok(written < 64 * MIB, `the client read on after the limit: ${written} bytes were written`);
    const small = await postJson(`${base}/announced`, "{}", { ...OPTIONS, maxBodyBytes: 4 * MIB });
    assert.equal(small.text.length, 2 * MIB);
    await server.close();
  });

  test("a URL that cannot be called fails as a network TransportError, as every transport failure does", async () => {
    for (const url of ["not a url", "ftp://127.0.0.1/x"]) {
      const failure = await postJson(url, "{}", OPTIONS).catch((error: unknown) => error);
      assert.ok(failure instanceof TransportError, `${url}: ${String(failure)}`);
      assert.equal(failure.failure, "network");
    }
  });

  test("the whole-call limit and the caller's signal are told apart", async () => {
    const server = await startFakeModelServer(() => hang());
    const url = `${server.url}/x`;
    const timedOut = await postJson(url, "{}", { ...OPTIONS, timeoutMs: 100 }).catch((error: unknown) => error);
    assert.ok(timedOut instanceof TransportError);
    assert.equal(timedOut.failure, "timeout");

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await postJson(url, "{}", { ...OPTIONS, signal: controller.signal }).catch((error: unknown) => error);
    assert.ok(aborted instanceof TransportError);
    assert.equal(aborted.failure, "aborted");
    await server.close();
  });

  test("a call queued behind a busy connection ends at its own limit or signal, not when a connection frees", async () => {
    const server = await startFakeModelServer(() => hang());
    const url = `${server.url}/x`;
    // One connection: the first call holds it (the server never answers), the others queue behind it.
    const dispatcher = new Agent({ connections: 1 });
    let firstSettled = false;
    const first = postJson(url, "{}", { ...OPTIONS, timeoutMs: 60_000, dispatcher }).finally(() => {
      firstSettled = true;
    });
    first.catch(() => {});
    const queued = await postJson(url, "{}", { ...OPTIONS, timeoutMs: 100, dispatcher }).catch((error: unknown) => error);
    assert.ok(queued instanceof TransportError);
    assert.equal(queued.failure, "timeout");
    const controller = new AbortController();
    const aborted = postJson(url, "{}", { ...OPTIONS, signal: controller.signal, dispatcher }).catch((error: unknown) => error);
    controller.abort();
    const abortError = await aborted;
    assert.ok(abortError instanceof TransportError);
    assert.equal(abortError.failure, "aborted");
    assert.equal(firstSettled, false, "the queued calls waited for the first call's connection");
    await dispatcher.destroy();
    await first.catch(() => {});
    await server.close();
  });
});
