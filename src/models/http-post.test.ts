import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { createDispatcher, postJson, TransportError } from "./http-post.ts";

/**
 * A forward proxy stand-in on 127.0.0.1: it answers every request itself and records the target
 * it was asked for (a proxied request names the whole URL; a direct one only the path).
 */
interface Recorder {
  url: string;
  seen: string[];
  server: Server;
}

async function recorder(name: string): Promise<Recorder> {
  const seen: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    seen.push(req.url ?? "");
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ answeredBy: name, target: req.url }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

const MIB = 1024 * 1024;
const OPTIONS = { headers: { "content-type": "application/json" }, timeoutMs: 5_000 };

describe("postJson and its dispatcher", () => {
  let proxy: Recorder;
  let local: Recorder;
  before(async () => {
    proxy = await recorder("proxy");
    local = await recorder("local");
  });
  after(() => {
    proxy.server.close();
    local.server.close();
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
    const before = proxy.seen.length;
    const answer = await postJson(`${local.url}/v1/chat/completions`, "{}", { ...OPTIONS, dispatcher });
    assert.equal(JSON.parse(answer.text).answeredBy, "local");
    assert.equal(proxy.seen.length, before);
    await dispatcher.close();
  });

  test("error statuses resolve with their body; only transport failures reject", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(503, { "retry-after": "7" });
      res.end("overloaded");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const answer = await postJson(url, "{}", OPTIONS);
    assert.equal(answer.status, 503);
    assert.equal(answer.text, "overloaded");
    assert.equal(answer.headers["retry-after"], "7");
    server.close();

    const failure = await postJson(url, "{}", OPTIONS).catch((error: unknown) => error);
    assert.ok(failure instanceof TransportError);
    assert.equal(failure.failure, "network");
  });

  test("a body over maxBodyBytes fails as too-large, announced or not, without reading the rest", async () => {
    let written = 0;
    const server = createServer((req, res) => {
      if (req.url === "/announced") {
        res.writeHead(200, { "content-length": String(2 * MIB) });
        res.end("x".repeat(2 * MIB));
        return;
      }
      // Chunked and endless: only the client going away stops it.
      res.writeHead(200);
      const piece = Buffer.alloc(64 * 1024, 120);
      const pump = () => {
        while (!res.destroyed) {
          written += piece.length;
          if (!res.write(piece)) return void res.once("drain", pump);
        }
      };
      res.on("error", () => undefined);
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const path of ["/announced", "/endless"]) {
      const failure = await postJson(`${base}${path}`, "{}", { ...OPTIONS, maxBodyBytes: MIB }).catch((error: unknown) => error);
      assert.ok(failure instanceof TransportError, `${path}: ${String(failure)}`);
      assert.equal(failure.failure, "too-large", path);
      assert.match(failure.message, /1 MiB/);
    }
    assert.ok(written < 64 * MIB, `the client read on after the limit: ${written} bytes were written`);
    const small = await postJson(`${base}/announced`, "{}", { ...OPTIONS, maxBodyBytes: 4 * MIB });
    assert.equal(small.text.length, 2 * MIB);
    server.closeAllConnections();
    server.close();
  });

  test("the whole-call limit and the caller's signal are told apart", async () => {
    const server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`;
    const timedOut = await postJson(url, "{}", { ...OPTIONS, timeoutMs: 100 }).catch((error: unknown) => error);
    assert.ok(timedOut instanceof TransportError);
    assert.equal(timedOut.failure, "timeout");

    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await postJson(url, "{}", { ...OPTIONS, signal: controller.signal }).catch((error: unknown) => error);
    assert.ok(aborted instanceof TransportError);
    assert.equal(aborted.failure, "aborted");
    server.closeAllConnections();
    server.close();
  });
});
